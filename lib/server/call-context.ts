import type { Observable } from 'rxjs';
import type { Metadata } from '../protocol/message.js';

/**
 * Options of a server push.
 *
 * @group Server
 */
export interface PushOptions {
  /** Serialize type of the pushed payload; default the one of the connection's last request. */
  readonly serializeType?: number;
  /** Metadata sent with the push. */
  readonly metadata?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
}

/**
 * The server's side of one client connection, as handlers see it.
 *
 * @example
 * ```ts
 * const connection = ctx.connection;
 * interval(1_000)
 *   .pipe(takeUntil(connection.closed$), concatMap((n) => connection.push$('Clock', 'Tick', { n })))
 *   .subscribe({ error: () => {} });
 * ```
 * @group Server
 */
export interface ServerConnection {
  /** The peer's address (`tcp@127.0.0.1:50123`, or `unix@...`). */
  readonly remoteAddress: string;
  /** True until the connection closes. */
  readonly isOpen: boolean;
  /** Emits once and completes when the connection closes. */
  readonly closed$: Observable<void>;
  /**
   * Sends a server push (a oneway request frame) to this client, if there is room for it.
   *
   * @returns true when the push is queued; false when nothing was sent: the connection is
   *   closed, or more than the server's `maxPushQueueBytes` (1 MiB) already waits to be written
   *   because the client reads slowly. A producer should then wait (see `push$`) or drop.
   * @throws CodecError when `data` cannot be encoded; ProtocolError when the frame exceeds
   *   maxMessageBytes.
   */
  push(service: string, method: string, data: unknown, options?: PushOptions): boolean;
  /**
   * A push that respects the client's pace: subscribing waits until the connection's socket can
   * take more (the client has read what was sent before), then queues the push and completes.
   * `concatMap` over it makes a producer go exactly as fast as the client reads:
   * `ticks$.pipe(concatMap((tick) => connection.push$('Clock', 'Tick', tick)))`.
   *
   * Errors with ConnectionClosedError when the connection closes before the push is queued,
   * CodecError when `data` cannot be encoded, ProtocolError past maxMessageBytes. Unsubscribing
   * before it completes sends nothing.
   */
  push$(service: string, method: string, data: unknown, options?: PushOptions): Observable<void>;
}

/**
 * What a handler knows about the call it serves, and what it may set on the reply.
 *
 * @example
 * ```ts
 * server.register('Echo', {
 *   async Say(args: { text: string }, ctx: CallContext) {
 *     ctx.replyMetadata.set('served-by', 'echo-1');
 *     if (ctx.signal.aborted) throw ctx.signal.reason;
 *     return args.text;
 *   },
 * });
 * ```
 * @group Server
 */
export interface CallContext {
  /** The service name of the request. */
  readonly service: string;
  /** The method name of the request. */
  readonly method: string;
  /** The request's sequence number on its connection. */
  readonly seq: bigint;
  /** The request's metadata. */
  readonly metadata: Metadata;
  /** Metadata to send with the reply (an error reply too). */
  readonly replyMetadata: Map<string, string>;
  /** Serialize type of the request (the reply uses the same). */
  readonly serializeType: number;
  /** Epoch milliseconds at which the caller gives up (from `__ServerTimeout`), if it said. */
  readonly deadline: number | undefined;
  /**
   * Aborts when the deadline passes, the caller cancels, the connection closes, or the server
   * shuts down past its grace period; `signal.reason` is the matching RpcError.
   */
  readonly signal: AbortSignal;
  /** The peer's address. */
  readonly remoteAddress: string;
  /** The connection the call came in on (for pushes that outlive the call). */
  readonly connection: ServerConnection;
  /**
   * Sends a server push to the caller: shorthand for `ctx.connection.push(...)`.
   *
   * @returns false when nothing was sent: the connection is closed, or its output is past
   *   `maxPushQueueBytes` (use `ctx.connection.push$` to wait for room instead).
   */
  push(service: string, method: string, data: unknown, options?: PushOptions): boolean;
}
