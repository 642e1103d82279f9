import { asapScheduler, type SchedulerLike, type Subscription } from 'rxjs';
import { describeThrown } from '../errors/describe-thrown.js';
import { ConnectionClosedError, ConnectionError, ProtocolError } from '../errors/index.js';
import type { FrameDecoder } from '../protocol/decoder.js';
import { encodeFrame } from '../protocol/encode.js';
import type { Message } from '../protocol/message.js';
import { parseAddress } from '../transport/address.js';
import {
  type FrameSocketHandlers,
  type FrameSocketOptions,
  frameDecoder,
} from '../transport/frame-socket.js';
import type {
  Endpoint,
  FrameTransport,
  Transport,
  TransportDialOptions,
  TransportListener,
} from '../transport/transport.js';
import { durationOption, integerOption, optionsObject, schedulerOption } from '../util/validate.js';

/**
 * Options of a {@link MemoryNetwork}.
 *
 * @group Testing
 */
export interface MemoryNetworkOptions {
  /**
   * Where dials, frame deliveries and closes are scheduled. Give the `TestScheduler` (and the
   * same to the server and the clients) to run everything in virtual time. Default
   * `asapScheduler`: each hop a microtask later, as fast as the process can go.
   */
  readonly scheduler?: SchedulerLike;
  /**
   * Bytes one side may have sent that its peer has not taken before the side stops being
   * `writable` (a socket's high-water mark). Default 64 KiB, at least 1.
   */
  readonly highWaterMarkBytes?: number;
  /**
   * How long a dial takes, in ms of the scheduler's time. Default 0.
   */
  readonly dialDelayMs?: number;
}

/** Default high-water mark of a side of a memory link: 64 KiB, as a socket's. */
const DEFAULT_HIGH_WATER_MARK_BYTES = 64 * 1024;

/**
 * A network in this process: servers listen on `memory@name`, clients dial it, and frames go
 * from one to the other without a socket or a system call, encoded and decoded exactly as on
 * TCP (the same limits, the same protocol errors). Deliveries, closes and dials run on the
 * scheduler it is given, so that a server and its clients can run under `TestScheduler` in
 * virtual time; backpressure works as on a socket (see `highWaterMarkBytes`).
 *
 * For tests of failure, it can hold every frame to and from a server (`stall`: a peer that went
 * silent without closing, as in a partition), deliver them again (`heal`), close every link to a
 * server (`cut`), and take a server off the network (`crash`: links closed, new dials refused).
 *
 * @example
 * ```ts
 * const network = new MemoryNetwork();
 * const server = new Server();
 * server.register('Arith', new Arith());
 * await server.listen('memory@arith', { transport: network });
 * const client = new Client('memory@arith', { transport: network });
 * console.log(await client.call('Arith', 'Mul', { A: 6, B: 7 })); // { C: 42 }
 * ```
 * @group Testing
 */
export class MemoryNetwork implements Transport {
  /** Where dials, deliveries and closes are scheduled. */
  readonly scheduler: SchedulerLike;
  private readonly highWaterMarkBytes: number;
  private readonly dialDelayMs: number;
  private readonly listeners = new Map<string, (endpoint: Endpoint) => void>();
  private readonly links = new Map<string, Set<MemorySide>>();
  private readonly stalled = new Set<string>();
  private dialed = 0;

  /**
   * @throws TypeError when `options` is not an object; RangeError for an out-of-range option
   *   (`highWaterMarkBytes: 0`, `dialDelayMs: -1`) or a `scheduler` without `schedule` and `now`.
   */
  constructor(options?: MemoryNetworkOptions) {
    const o = optionsObject('MemoryNetwork options', options);
    this.scheduler = o.scheduler === undefined ? asapScheduler : schedulerOption('scheduler', o.scheduler);
    this.highWaterMarkBytes = integerOption(
      'highWaterMarkBytes',
      o.highWaterMarkBytes,
      DEFAULT_HIGH_WATER_MARK_BYTES,
      1,
      2 ** 31 - 1,
    );
    this.dialDelayMs = durationOption('dialDelayMs', o.dialDelayMs, 0, 0);
  }

  /**
   * Dials `memory@name`: after `dialDelayMs`, calls back with the client's end of a new link, or
   * with a {@link ConnectionError} when nothing listens there, or (a stalled server) when
   * `connectTimeoutMs` passes.
   *
   * @returns a function that aborts the dial if it has not completed.
   * @throws TypeError or RangeError for an address that is not `memory@name`.
   */
  dial(
    address: string,
    options: TransportDialOptions,
    callback: (error: ConnectionError | undefined, endpoint: Endpoint | undefined) => void,
  ): () => void {
    const name = memoryName(address);
    if (this.stalled.has(name)) {
      // A partitioned server does not answer a dial either: it fails at the connect timeout.
      const timeout = this.scheduler.schedule(
        () =>
          callback(
            new ConnectionError(
              `cannot connect to ${address}: no answer within ${options.connectTimeoutMs} ms`,
              {
                details: { address, connectTimeoutMs: options.connectTimeoutMs },
              },
            ),
            undefined,
          ),
        options.connectTimeoutMs,
      );
      return () => timeout.unsubscribe();
    }
    const action = this.scheduler.schedule(() => {
      const accept = this.listeners.get(name);
      if (accept === undefined) {
        callback(
          new ConnectionError(`cannot connect to ${address}: nothing listens there`, {
            details: { address },
          }),
          undefined,
        );
        return;
      }
      this.dialed += 1;
      // Each side's remote address is its peer's.
      const client = new MemorySide(this, name, address);
      const server = new MemorySide(this, name, `memory@client-${this.dialed}`);
      client.peer = server;
      server.peer = client;
      let sides = this.links.get(name);
      if (sides === undefined) {
        sides = new Set();
        this.links.set(name, sides);
      }
      sides.add(client).add(server);
      accept(server);
      callback(undefined, client);
    }, this.dialDelayMs);
    return () => action.unsubscribe();
  }

  /**
   * Listens on `memory@name`, handing every link dialed there to `accept`.
   *
   * @throws TypeError or RangeError for an address that is not `memory@name`; rejects with
   *   {@link ConnectionError} when something already listens on that name.
   */
  listen(
    address: string,
    _options: object,
    accept: (endpoint: Endpoint) => void,
  ): Promise<TransportListener> {
    const name = memoryName(address);
    if (this.listeners.has(name)) {
      return Promise.reject(
        new ConnectionError(`cannot listen on ${address}: something listens there already`, {
          details: { address },
        }),
      );
    }
    this.listeners.set(name, accept);
    const bound = `memory@${name}`;
    return Promise.resolve({
      address: bound,
      close: async () => {
        if (this.listeners.get(name) === accept) this.listeners.delete(name);
      },
    });
  }

  /** Open links to `address` (each counted once). */
  linkCount(address: string): number {
    return (this.links.get(memoryName(address))?.size ?? 0) / 2;
  }

  /**
   * Holds every frame to and from `address` from now on, without closing anything: the server
   * looks silent to its clients (a partition), until {@link MemoryNetwork.heal}. New dials to it
   * fail at their connect timeout.
   *
   * @throws TypeError or RangeError for an address that is not `memory@name`.
   */
  stall(address: string): void {
    this.stalled.add(memoryName(address));
  }

  /**
   * Delivers again what a {@link MemoryNetwork.stall} held, and what follows.
   *
   * @throws TypeError or RangeError for an address that is not `memory@name`.
   */
  heal(address: string): void {
    const name = memoryName(address);
    this.stalled.delete(name);
    for (const side of this.links.get(name) ?? []) side.deliverLater();
  }

  /**
   * Closes every link to `address`, as a network that reset them: both ends see the link close
   * with an error. The server stays reachable for new dials.
   *
   * @throws TypeError or RangeError for an address that is not `memory@name`.
   */
  cut(address: string): void {
    const reason = new ConnectionClosedError(`the link to ${address} was cut`, { details: { address } });
    for (const side of [...(this.links.get(memoryName(address)) ?? [])]) side.cut(reason);
  }

  /**
   * Takes the server at `address` off the network, as if its process died: new dials are refused
   * and every link is cut. The server itself is not told (its own `shutdown` still works).
   *
   * @throws TypeError or RangeError for an address that is not `memory@name`.
   */
  crash(address: string): void {
    this.listeners.delete(memoryName(address));
    this.cut(address);
  }

  /** @internal */
  isStalled(name: string): boolean {
    return this.stalled.has(name);
  }

  /** @internal */
  get highWaterMark(): number {
    return this.highWaterMarkBytes;
  }

  /** @internal */
  forget(side: MemorySide, name: string): void {
    const sides = this.links.get(name);
    sides?.delete(side);
    if (sides?.size === 0) this.links.delete(name);
  }
}

/** The name in a `memory@name` address. */
function memoryName(address: string): string {
  const parsed = parseAddress(address);
  if (parsed.network !== 'memory') {
    throw new RangeError(`a MemoryNetwork reaches memory@name addresses only, got "${address}"`);
  }
  return parsed.name;
}

/**
 * One end of a memory link: what it sends is encoded into the peer's inbox and decoded there on
 * the scheduler, as a socket's bytes would be.
 */
class MemorySide implements Endpoint, FrameTransport {
  readonly remoteAddress: string;
  peer!: MemorySide;
  private readonly network: MemoryNetwork;
  private readonly name: string;
  private handlers: FrameSocketHandlers | undefined;
  private decoder: FrameDecoder | undefined;
  private maxMessageBytes = Number.POSITIVE_INFINITY;
  /** Chunks the peer sent that this side has not taken. */
  private readonly inbox: Buffer[] = [];
  private inboxBytes = 0;
  private delivery: Subscription | undefined;
  private paused = false;
  private ending = false;
  /** The peer ended: close once the inbox is taken. */
  private peerEnded = false;
  private failed = false;
  private closed = false;
  private closeReason: Error | undefined;
  private linger: Subscription | undefined;

  constructor(network: MemoryNetwork, name: string, remoteAddress: string) {
    this.network = network;
    this.name = name;
    this.remoteAddress = remoteAddress;
  }

  frames(options: FrameSocketOptions, handlers: FrameSocketHandlers): FrameTransport {
    if (this.handlers) throw new Error('this endpoint already speaks frames');
    this.maxMessageBytes = options.maxMessageBytes;
    this.decoder = frameDecoder(options);
    this.handlers = handlers;
    if (this.closed) this.network.scheduler.schedule(() => handlers.onClose(this.closeReason));
    else this.deliverLater();
    return this;
  }

  get open(): boolean {
    return !this.closed && !this.ending;
  }

  get writable(): boolean {
    return this.peer.inboxBytes < this.network.highWaterMark;
  }

  get bufferedBytes(): number {
    return this.decoder?.bufferedBytes ?? 0;
  }

  get queuedBytes(): number {
    return this.peer.inboxBytes;
  }

  send(message: Message): boolean {
    if (!this.open) return false;
    const chunks = encodeFrame(message, this.maxMessageBytes);
    this.peer.take(chunks);
    return true;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (this.closed) return;
    this.paused = false;
    this.deliverLater();
  }

  end(lingerMs = 2_000): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    this.peer.peerEnded = true;
    this.peer.deliverLater();
    this.linger = this.network.scheduler.schedule(() => this.destroy(), lingerMs);
  }

  destroy(reason?: Error): void {
    if (this.closed) return;
    if (reason) this.closeReason ??= reason;
    this.close();
    this.peer.close();
  }

  /** Closes both ends, each reporting `reason`. */
  cut(reason: Error): void {
    this.closeReason ??= reason;
    this.peer.closeReason ??= reason;
    this.destroy();
  }

  ref(): void {}

  unref(): void {}

  /** Queues the peer's chunks and schedules their delivery. */
  take(chunks: readonly Buffer[]): void {
    if (this.closed) return;
    for (const chunk of chunks) {
      this.inbox.push(chunk);
      this.inboxBytes += chunk.length;
    }
    this.deliverLater();
  }

  /** Schedules a delivery of the inbox, unless one is scheduled. */
  deliverLater(): void {
    if (this.delivery === undefined && !this.closed) {
      this.delivery = this.network.scheduler.schedule(() => this.deliver());
    }
  }

  private deliver(): void {
    this.delivery = undefined;
    const handlers = this.handlers;
    const decoder = this.decoder;
    if (this.closed || handlers === undefined || decoder === undefined || this.network.isStalled(this.name))
      return;
    const full = this.inboxBytes >= this.network.highWaterMark;
    while (this.inbox.length > 0 && !this.paused && !this.failed && !this.closed) {
      const chunk = this.inbox.shift() as Buffer;
      this.inboxBytes -= chunk.length;
      let messages: Message[];
      try {
        messages = decoder.push(chunk);
      } catch (error) {
        this.fail(
          error instanceof ProtocolError ? error : new ConnectionClosedError(String(error), { cause: error }),
        );
        return;
      }
      for (const message of messages) {
        if (this.closed) return;
        try {
          handlers.onMessage(message);
        } catch (error) {
          // A fault in the owner's handling costs this link, never the process.
          this.destroy(
            new ConnectionClosedError(
              `closing the connection after an internal error: ${describeThrown(error)}`,
              { cause: error },
            ),
          );
          return;
        }
      }
      if (decoder.error) {
        this.fail(decoder.error);
        return;
      }
      if (!this.closed) handlers.onChunk?.(messages.length);
    }
    if (full && this.inboxBytes < this.network.highWaterMark && !this.peer.closed)
      this.peer.handlers?.onDrain?.();
    if (this.peerEnded && this.inbox.length === 0 && !this.closed) this.destroy();
  }

  /** The input broke the protocol: take no more, send what is queued, then close. */
  private fail(reason: Error): void {
    this.failed = true;
    this.closeReason ??= reason;
    this.end();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.inbox.length = 0;
    this.inboxBytes = 0;
    this.delivery?.unsubscribe();
    this.delivery = undefined;
    this.linger?.unsubscribe();
    this.network.forget(this, this.name);
    const handlers = this.handlers;
    // Reported later, as a socket reports its close after the call that closed it.
    if (handlers) this.network.scheduler.schedule(() => handlers.onClose(this.closeReason));
  }
}
