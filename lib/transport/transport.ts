import type { ConnectionOptions, TlsOptions } from 'node:tls';
import type { SchedulerLike } from 'rxjs';
import type { ConnectionError } from '../errors/index.js';
import type { Message } from '../protocol/message.js';
import type { FrameSocketHandlers, FrameSocketOptions } from './frame-socket.js';
import type { ByteStream } from './memory-pipe.js';

/**
 * What a connection (client or server side) needs from the wire once it is up: frames out,
 * frames in (through the handlers it was opened with), backpressure, and a close.
 * {@link FrameSocket} is the one over a socket; the in-memory network of `phobos/testing` has
 * another.
 *
 * @example
 * ```ts
 * const frames: FrameTransport = endpoint.frames({ maxMessageBytes: 1 << 20 }, {
 *   onMessage: (message) => console.log(message.serviceMethod),
 *   onClose: (error) => console.log('closed', error?.message),
 * });
 * frames.send(request);
 * ```
 * @group Protocol
 */
export interface FrameTransport {
  /** False once the transport closed or began closing. */
  readonly open: boolean;
  /** False while the peer has not taken what was sent (past a high-water mark); `onDrain` follows. */
  readonly writable: boolean;
  /** Bytes received and not yet delivered: the part of a frame still arriving. */
  readonly bufferedBytes: number;
  /** Bytes sent and not yet taken by the peer. */
  readonly queuedBytes: number;
  /**
   * Queues a frame.
   *
   * @returns false when the transport is closed (nothing is sent).
   * @throws ProtocolError when the frame exceeds `maxMessageBytes`; RangeError when a header
   *   field is out of range. Nothing is queued then.
   */
  send(message: Message): boolean;
  /** Stops delivering frames (the peer's sends back up). */
  pause(): void;
  /** Delivers frames again. */
  resume(): void;
  /** Sends what is queued, then closes; cuts the link if the peer has not closed within `lingerMs`. */
  end(lingerMs?: number): void;
  /** Closes at once; `reason` is reported to `onClose`. */
  destroy(reason?: Error): void;
  /** Lets the transport hold the process open (a socket's `ref`); a no-op where nothing can. */
  ref(): void;
  /** Lets the process exit while this is all that is open (a socket's `unref`). */
  unref(): void;
}

/**
 * One end of a link that is up and not yet speaking frames: what a transport dials or accepts.
 * `frames()` starts it, once.
 *
 * @example
 * ```ts
 * transport.dial('tcp@127.0.0.1:8972', { connectTimeoutMs: 1_000 }, (error, endpoint) => {
 *   if (endpoint) endpoint.frames(options, handlers).send(heartbeat);
 * });
 * ```
 * @group Protocol
 */
export interface Endpoint {
  /** The peer's address (`tcp@10.0.0.7:51234`, `memory@client-3`), or `unix@` when it has none. */
  readonly remoteAddress: string;
  /**
   * The byte stream under it, when there is one: a server reads its first bytes to tell RPC from
   * HTTP on one port. Absent on a transport that carries frames, not bytes.
   */
  readonly stream?: ByteStream;
  /**
   * Starts speaking frames: delivers what arrives to `handlers`.
   *
   * @throws Error when called a second time.
   */
  frames(options: FrameSocketOptions, handlers: FrameSocketHandlers): FrameTransport;
  /** Refuses the link: closes it without speaking (a server that is full or shutting down). */
  destroy(): void;
}

/**
 * A listening transport, as {@link Transport.listen} resolves it.
 *
 * @group Protocol
 */
export interface TransportListener {
  /** The bound address (`tcp@127.0.0.1:40123` when port 0 was asked). */
  readonly address: string;
  /** Stops accepting; links already accepted stay up. Resolves once stopped. */
  close(): Promise<void>;
}

/**
 * Options of {@link Transport.dial}.
 *
 * @group Protocol
 */
export interface TransportDialOptions {
  /** Give up connecting after this long. */
  readonly connectTimeoutMs: number;
  /** TLS options, for a transport that has TLS. */
  readonly tls?: ConnectionOptions;
  /** Where the connect timeout (and anything else the transport times) is scheduled. */
  readonly scheduler?: SchedulerLike;
}

/**
 * How a client reaches servers and a server is reached: TCP, Unix sockets and TLS
 * ({@link tcpTransport}, the default), or the in-memory network of `phobos/testing` that runs
 * servers and clients in one process, without sockets, in virtual time. Give one to a client
 * (`transport` of the connect options) and to `Server.listen`.
 *
 * @example
 * ```ts
 * const network = new MemoryNetwork();
 * await server.listen('memory@orders', { transport: network });
 * const client = new Client('memory@orders', { transport: network });
 * ```
 * @group Protocol
 */
export interface Transport {
  /**
   * Opens a link to `address` and calls back once with it, or with why it could not.
   *
   * @returns a function that aborts the attempt if it has not succeeded yet.
   * @throws RangeError or TypeError for an address this transport cannot dial, before anything is
   *   opened.
   */
  dial(
    address: string,
    options: TransportDialOptions,
    callback: (error: ConnectionError | undefined, endpoint: Endpoint | undefined) => void,
  ): () => void;
  /**
   * Listens on `address`, handing every link accepted to `accept`.
   *
   * @throws RangeError or TypeError for a malformed address; rejects with ConnectionError when
   *   the address cannot be bound (in use, no permission).
   */
  listen(
    address: string,
    options: { readonly tls?: TlsOptions },
    accept: (endpoint: Endpoint) => void,
  ): Promise<TransportListener>;
}
