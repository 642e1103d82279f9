import { Observable } from 'rxjs';
import type { Reply } from '../client/connection.js';
import { XClient } from '../client/xclient.js';
import type { XClientOptions } from '../client/xclient-options.js';
import type { Discovery } from '../discovery/discovery.js';
import { multipleServersDiscovery } from '../discovery/multiple-servers-discovery.js';
import { NoInstanceError, ServiceError } from '../errors/index.js';

/**
 * One call the gateway forwards: the payload is already serialized (`serializeType`), and the
 * reply comes back as bytes, so nothing is decoded and encoded again on the way.
 *
 * @example
 * ```ts
 * const call: ForwardCall = {
 *   service: 'HelloWorld', method: 'Greet', serializeType: 1,
 *   payload: new TextEncoder().encode('{"First":"a"}'), metadata: new Map(), timeoutMs: 5_000, oneway: false,
 * };
 * ```
 */
export interface ForwardCall {
  /** The service name. */
  readonly service: string;
  /** The method name. */
  readonly method: string;
  /** The serialize type of `payload` and of the reply. */
  readonly serializeType: number;
  /** The request payload (uncompressed); `undefined` for none. */
  readonly payload: Uint8Array | undefined;
  /** Request metadata. */
  readonly metadata: ReadonlyMap<string, string>;
  /** The call's deadline in ms (> 0). */
  readonly timeoutMs: number;
  /** Send without waiting for a reply. */
  readonly oneway: boolean;
}

/**
 * One stream the gateway forwards: a call whose replies are many values, paced by `demand` (the
 * credit the HTTP client's socket allows). The payload is already serialized (`serializeType`)
 * and each value comes back as bytes.
 *
 * @example
 * ```ts
 * const stream: ForwardStream = {
 *   service: 'Ticker', method: 'Prices', serializeType: 1,
 *   payload: new TextEncoder().encode('"ACME"'), metadata: new Map(), timeoutMs: 0, demand: of(16),
 * };
 * ```
 */
export interface ForwardStream extends Omit<ForwardCall, 'timeoutMs' | 'oneway'> {
  /** Deadline of the whole stream in ms; `0` for none. */
  readonly timeoutMs: number;
  /**
   * Credit grants, as `StreamOptions.demand`: what it emits at subscription is the first credit,
   * each later value lets the server send that many more. Each subscription (a retry of the
   * stream before its first value) starts with a first credit of its own.
   */
  readonly demand: Observable<number>;
}

/**
 * Where a gateway sends its calls: the XClients it makes from `discovery` or `addresses`, a
 * server in the same process, or anything else that answers raw calls.
 *
 * `call$` emits the reply (its payload bytes and metadata) and completes, or errors with an
 * `RpcError`; unsubscribing cancels the call. `stream$` (optional) does the same for a stream of
 * values. `close` releases what the backend holds.
 *
 * @example
 * ```ts
 * const echo: GatewayBackend = {
 *   call$: (call) => of({ data: call.payload ?? new Uint8Array(), metadata: new Map() }),
 *   close: async () => {},
 * };
 * const gateway = new Gateway({ backend: echo });
 * ```
 */
export interface GatewayBackend {
  /** Forwards one call. */
  call$(call: ForwardCall): Observable<Reply<Uint8Array>>;
  /**
   * Forwards one stream: emits each value (its payload bytes and metadata) as the server sends
   * it, then completes, or errors with an `RpcError`; unsubscribing cancels the stream on the
   * server. A backend without it answers stream requests `unimplemented` (501).
   */
  stream$?(stream: ForwardStream): Observable<Reply<Uint8Array>>;
  /** Closes what the backend holds; calls after it fail. */
  close(): Promise<void>;
}

/** One service's XClient, with what it owns. */
interface ServiceClient {
  readonly client: XClient;
  readonly discovery: Discovery;
  inFlight: number;
  /** Whether a call of this service has ever been answered without error. */
  answered: boolean;
  /** No longer offered to new calls: closed once its calls in flight are done. */
  forgotten: boolean;
}

/**
 * A backend of one XClient per service, made on first use from a discovery factory or a fixed
 * list of servers. At most `maxServices` are kept: past it, an idle one is closed. A service
 * whose discovery finds no server is forgotten at once, so names made up by HTTP clients do not
 * pile up.
 *
 * @internal
 */
export class XClientBackend implements GatewayBackend {
  private readonly clients = new Map<string, ServiceClient>();
  private readonly discoveryOf: (service: string) => Discovery;
  private readonly options: Omit<XClientOptions, 'discovery'>;
  private readonly maxServices: number;
  private closed = false;

  constructor(
    where: { discovery: (service: string) => Discovery } | { addresses: readonly string[] },
    options: Omit<XClientOptions, 'discovery'>,
    maxServices: number,
  ) {
    this.discoveryOf =
      'discovery' in where
        ? where.discovery
        : () => multipleServersDiscovery(where.addresses.map((address) => ({ address })));
    this.options = options;
    this.maxServices = maxServices;
    // Checks the XClient options now, not at the first request.
    const probe = new XClient('probe', { ...options, discovery: multipleServersDiscovery([]) });
    void probe.close();
  }

  call$(call: ForwardCall): Observable<Reply<Uint8Array>> {
    return this.forwarded(call.service, (client) =>
      client.callWithMetadata$<Uint8Array>(call.method, call.payload, {
        raw: true,
        serializeType: call.serializeType,
        metadata: call.metadata,
        timeoutMs: call.timeoutMs,
        oneway: call.oneway,
      }),
    );
  }

  stream$(stream: ForwardStream): Observable<Reply<Uint8Array>> {
    return this.forwarded(stream.service, (client) =>
      client.streamWithMetadata$<Uint8Array>(stream.method, stream.payload, {
        raw: true,
        serializeType: stream.serializeType,
        metadata: stream.metadata,
        demand: stream.demand,
        ...(stream.timeoutMs > 0 ? { timeoutMs: stream.timeoutMs } : {}),
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(entries.map((entry) => this.release(entry)));
  }

  /**
   * What `forward` emits, through the service's client: counted in flight while subscribed, and
   * the client forgotten when the service turns out to have no server or no such name.
   */
  private forwarded(
    service: string,
    forward: (client: XClient) => Observable<Reply<Uint8Array>>,
  ): Observable<Reply<Uint8Array>> {
    return new Observable<Reply<Uint8Array>>((subscriber) => {
      const entry = this.clientOf(service);
      entry.inFlight++;
      const subscription = forward(entry.client).subscribe({
        next: (reply) => {
          entry.answered = true;
          subscriber.next(reply);
        },
        // A service no server offers is not kept: the next call asks discovery afresh. A
        // client that has never been answered is dropped when the server knows no such name.
        error: (error: unknown) => {
          if (error instanceof NoInstanceError || (!entry.answered && unknownName(error)))
            this.forget(service, entry);
          subscriber.error(error);
        },
        complete: () => subscriber.complete(),
      });
      return () => {
        entry.inFlight--;
        subscription.unsubscribe();
        if (entry.forgotten && entry.inFlight === 0) void this.release(entry);
      };
    });
  }

  private clientOf(service: string): ServiceClient {
    if (this.closed) throw new NoInstanceError('the gateway is closed', { details: { service } });
    const known = this.clients.get(service);
    if (known) return known;
    if (this.clients.size >= this.maxServices) this.evictIdle();
    const discovery = this.discoveryOf(service);
    const entry: ServiceClient = {
      client: new XClient(service, { ...this.options, discovery }),
      discovery,
      inFlight: 0,
      answered: false,
      forgotten: false,
    };
    this.clients.set(service, entry);
    return entry;
  }

  /** Closes the least recently made client that has no call in flight. */
  private evictIdle(): void {
    for (const [service, entry] of this.clients) {
      if (entry.inFlight === 0) {
        this.forget(service, entry);
        return;
      }
    }
  }

  /**
   * Offers the client to no new call, and closes it once its calls in flight are done: several
   * calls of one made-up name may be on their way, and closing at the first answer would cut the
   * others' connection (a 502 instead of their own 404).
   */
  private forget(service: string, entry: ServiceClient): void {
    if (this.clients.get(service) !== entry) return;
    this.clients.delete(service);
    entry.forgotten = true;
    if (entry.inFlight === 0) void this.release(entry);
  }

  private async release(entry: ServiceClient): Promise<void> {
    await entry.client.close();
    (entry.discovery as Partial<{ close(): void }>).close?.();
  }
}

/** The server answered that it has no such service or method. */
function unknownName(error: unknown): boolean {
  return error instanceof ServiceError && error.details.reason === 'NOT_FOUND';
}
