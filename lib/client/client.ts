import {
  defer,
  filter,
  finalize,
  firstValueFrom,
  lastValueFrom,
  type Observable,
  of,
  ReplaySubject,
  retry,
  Subject,
  share,
  switchMap,
  take,
  takeUntil,
  tap,
  throwError,
  throwIfEmpty,
} from 'rxjs';
import { ConnectionClosedError } from '../errors/index.js';
import { parseAddress } from '../transport/address.js';
import { optionsObject } from '../util/validate.js';
import { connect } from './connect.js';
import { type ConnectOptions, resolveConnectOptions } from './connect-options.js';
import type { CallOptions, Connection, Reply, ServerPush, StreamOptions } from './connection.js';
import {
  type ClientCall,
  type ClientHandler,
  type ClientInterceptor,
  ClientInterceptors,
  type ClientStage,
  type ClientUseOptions,
} from './interceptor.js';
import { dataOf, splitSignal, streamIterator, toPromise, withSignal } from './promise-adapter.js';

/**
 * Options of one promise call: {@link CallOptions} and an `AbortSignal`.
 *
 * @group Client
 */
export interface ClientCallOptions extends CallOptions {
  /**
   * Aborting it cancels the call (on the server too) and rejects with {@link CancelledError}, or
   * with {@link DeadlineExceededError} when it timed out (`AbortSignal.timeout()`).
   */
  readonly signal?: AbortSignal;
}

/**
 * A promise facade over one connection to one server: connects on the first call, reconnects on
 * the next call after the connection drops, and closes on `close()` (or at the end of the scope
 * of an `await using`).
 *
 * Every call has a deadline: its `timeoutMs`, else the client's, else 30 s
 * (`DEFAULT_CALL_TIMEOUT_MS`). A client nobody closed does not keep the process alive: its socket
 * holds the event loop only while calls are in flight.
 *
 * @example
 * ```ts
 * const client = new Client('tcp@127.0.0.1:8972', { serializeType: SerializeType.JSON });
 * const reply = await client.call<{ Second: string }>('HelloWorld', 'Greet', { First: 'budei' });
 * console.log(reply.Second); // Hello budei
 * await client.close();
 *
 * // or closed at the end of the scope
 * await using scoped = new Client('tcp@127.0.0.1:8972');
 * ```
 * @group Client
 */
export class Client {
  /** The server's address. */
  readonly address: string;
  private readonly options: ConnectOptions;
  private readonly pushes = new Subject<ServerPush>();
  /** Emits once, at `close()`: the shared connection ends for good. */
  private readonly closing = new Subject<void>();
  private closed = false;
  private interceptors: ClientInterceptors | undefined;
  /**
   * The connection: `connect()` shared by every call. The first call dials; the connection stays
   * open for the next ones; when it drops (or the dial fails) the next call dials again.
   */
  private readonly connection$: Observable<Connection>;
  /** An open connection for a call: what `connection$` holds, a closing one skipped and replaced. */
  private readonly usable$: Observable<Connection>;
  /** What `connection$` holds now, for calls that find it open (no Observable needed then). */
  private held: Connection | undefined;

  /**
   * @throws RangeError or TypeError for a malformed address or option (checked here, not at the
   *   first call).
   */
  constructor(address: string, options?: ConnectOptions) {
    parseAddress(address);
    resolveConnectOptions(options);
    this.address = address;
    this.options = options ?? {};
    this.connection$ = defer(() => {
      if (this.closed) throw new ConnectionClosedError(`client for ${this.address} is closed`);
      return connect(this.address, this.options);
    }).pipe(
      tap((connection) => {
        this.held = connection;
        connection.pushes$.subscribe((push) => this.pushes.next(push));
      }),
      finalize(() => {
        this.held = undefined;
      }),
      takeUntil(this.closing),
      share({
        connector: () => new ReplaySubject<Connection>(1),
        resetOnError: true,
        resetOnComplete: true,
        resetOnRefCountZero: false,
      }),
    );
    this.usable$ = this.connection$.pipe(
      // A connection the server is closing is skipped: the share resets when it has closed, and
      // the call waits for the next one rather than failing on the closing one.
      filter((connection) => connection.isOpen),
      take(1),
      retry({
        count: 1,
        delay: (error: unknown) => (error instanceof ConnectionClosedError ? of(0) : throwError(() => error)),
      }),
      throwIfEmpty(() => new ConnectionClosedError(`client for ${this.address} is closed`)),
    );
  }

  /** Server pushes from every connection this client opens. */
  get pushes$(): Observable<ServerPush> {
    return this.pushes.asObservable();
  }

  /**
   * Calls a method and resolves to its decoded reply.
   *
   * Rejects with `ServiceError` (the handler failed; no such service or method, with
   * `details.reason` `NOT_FOUND`), `DeadlineExceededError` (past `timeoutMs`: the call's, the
   * client's, or 30 s), `CancelledError` (the signal aborted; `DeadlineExceededError` when it was
   * an `AbortSignal.timeout()`), `ConnectionError` (the dial failed, the server is shutting down),
   * `ConnectionClosedError`, `ResourceExhaustedError` (the server was busy),
   * `UnauthenticatedError` (the server's `authorize` refused the `auth` token), `ProtocolError`
   * (a reply past the limits), `CodecError`, or RangeError/TypeError for bad arguments.
   *
   * @example
   * ```ts
   * const controller = new AbortController();
   * const reply = await client.call('Arith', 'Mul', { A: 7, B: 8 }, { timeoutMs: 500, signal: controller.signal });
   * ```
   */
  call<T = unknown>(
    service: string,
    method: string,
    args?: unknown,
    options?: ClientCallOptions,
  ): Promise<T> {
    return this.request<T, T>(service, method, args, options, dataOf);
  }

  /**
   * Like {@link Client.call}, but resolves to the reply's data and metadata.
   *
   * @example
   * ```ts
   * const { data, metadata } = await client.callWithMetadata('Echo', 'EchoMeta', 'hi', { metadata: { k: 'v' } });
   * ```
   */
  callWithMetadata<T = unknown>(
    service: string,
    method: string,
    args?: unknown,
    options?: ClientCallOptions,
  ): Promise<Reply<T>> {
    return this.request<T, Reply<T>>(service, method, args, options, wholeReply);
  }

  /**
   * Calls a method that streams its replies, on the client's connection (dialled if need be),
   * and emits every value: {@link Connection.stream$} behind the shared connection. Client
   * interceptors wrap calls, not streams.
   *
   * Errors as {@link Connection.stream$} does, and with the dial's error when the client cannot
   * connect.
   *
   * @example
   * ```ts
   * client.stream$<number>('Ticker', 'prices', 'ACME').pipe(throttleTime(1_000)).subscribe(console.log);
   * ```
   */
  stream$<T = unknown>(
    service: string,
    method: string,
    args?: unknown,
    options?: StreamOptions,
  ): Observable<T> {
    return this.usable$.pipe(
      switchMap((connection) => connection.stream$<T>(service, method, args, options)),
    );
  }

  /**
   * The values of a streaming method as an async iterator, pulled at the reader's pace: the
   * server runs at most `window` values (default 64) ahead of what the loop has read. Leaving the
   * loop (`break`, `return`, a throw) or aborting `signal` cancels the stream on the server.
   *
   * Failure cases: the loop's `next()` rejects as {@link Client.call} does, at any point of the
   * stream (values read before the error are kept), with `CancelledError` when `signal` aborts
   * (`DeadlineExceededError` for `AbortSignal.timeout()`), and with a RangeError or TypeError
   * for bad options (`demand` is not taken here: the loop is the demand).
   *
   * @example
   * ```ts
   * for await (const price of client.stream<number>('Ticker', 'prices', 'ACME')) {
   *   if (price > 100) break; // cancels the stream on the server
   * }
   * ```
   */
  stream<T = unknown>(
    service: string,
    method: string,
    args?: unknown,
    options?: StreamOptions & { readonly signal?: AbortSignal },
  ): AsyncIterableIterator<T> {
    return streamIterator(options, (rest, demand) =>
      this.stream$<T>(service, method, args, { ...rest, demand }),
    );
  }

  /**
   * One call, resolving to `pick(reply)`. Once connected, the call goes straight to the
   * connection: no promise is awaited before it is sent, and the reply settles the one promise
   * returned. Bad options reject (never throw).
   */
  private request<T, R>(
    service: string,
    method: string,
    args: unknown,
    options: ClientCallOptions | undefined,
    pick: (reply: Reply<T>) => R,
  ): Promise<R> {
    let signal: AbortSignal | undefined;
    let callOptions: CallOptions | undefined;
    try {
      if (options !== undefined)
        ({ options: callOptions, signal } = splitSignal(optionsObject('call options', options)));
    } catch (error) {
      return Promise.reject(error);
    }
    const held = this.held;
    if (held?.isOpen) return this.send(held, service, method, args, callOptions, signal, pick);
    return withSignal(firstValueFrom(this.usable$), signal).then((connection) =>
      this.send(connection, service, method, args, callOptions, signal, pick),
    );
  }

  private send<T, R>(
    connection: Connection,
    service: string,
    method: string,
    args: unknown,
    options: CallOptions | undefined,
    signal: AbortSignal | undefined,
    pick: (reply: Reply<T>) => R,
  ): Promise<R> {
    const reply$ =
      this.interceptors === undefined
        ? connection.callWithMetadata$<T>(service, method, args, options)
        : this.intercepted$<T>(connection, { service, method, args, options: options ?? NO_OPTIONS });
    // Unsubscribing on abort sends the cancel notice, so the server's handler sees ctx.signal abort.
    return toPromise(reply$, signal, pick);
  }

  /**
   * Adds an interceptor around every call: `stage: 'call'` (the default) or `'attempt'`; on a
   * `Client` both wrap its one request, the call stage outside (see {@link ClientStage}). The
   * first added is the outermost of its stage. `interceptor(next)` may be called once for many
   * calls or once per call: keep what belongs to one call inside the handler it returns.
   *
   * @throws RangeError when `interceptor` is not a function or the stage is unknown; TypeError
   *   when `options` is not an object.
   * @example
   * ```ts
   * client.use((next) => (call) => next(withMetadata(call, { tenant: 'a' })));
   * ```
   */
  use(interceptor: ClientInterceptor, options?: ClientUseOptions): this {
    this.interceptors ??= new ClientInterceptors();
    this.interceptors.add(interceptor, options);
    return this;
  }

  /**
   * Closes the connection; pending calls fail with `ConnectionClosedError`, later calls reject.
   *
   * @returns a promise that resolves once the socket is closed.
   * @example
   * ```ts
   * await client.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const held = this.held;
    this.closing.next();
    this.closing.complete();
    this.pushes.complete();
    if (held) await lastValueFrom(held.state$, { defaultValue: 'closed' });
  }

  /**
   * Closes the client, as {@link Client.close}: what `await using` calls at the end of the scope.
   *
   * @example
   * ```ts
   * {
   *   await using client = new Client('tcp@127.0.0.1:8972');
   *   await client.call('Arith', 'Mul', { A: 7, B: 8 });
   * } // closed here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The call through the interceptors of both stages, the call stage outside. */
  private intercepted$<T>(
    connection: Connection,
    call: Omit<ClientCall, 'stage' | 'address' | 'attempt'>,
  ): Observable<Reply<T>> {
    const interceptors = this.interceptors as ClientInterceptors;
    const send: ClientHandler = (attempt) =>
      connection.callWithMetadata$(attempt.service, attempt.method, attempt.args, attempt.options);
    const attempt = interceptors.wrap('attempt', send);
    const whole = interceptors.wrap('call', (outer) =>
      attempt({ ...outer, stage: 'attempt', address: this.address, attempt: 'first' }),
    );
    return defer(() => whole({ ...call, stage: 'call', address: this.address })) as Observable<Reply<T>>;
  }
}

const NO_OPTIONS: CallOptions = Object.freeze({});

function wholeReply<T>(reply: Reply<T>): Reply<T> {
  return reply;
}
