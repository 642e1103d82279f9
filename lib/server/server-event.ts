/**
 * Why a server counted a peer as breaking the protocol or its limits:
 * - `malformed`: a frame that does not decode (wrong magic or version, lengths that disagree);
 *   the connection is closed.
 * - `too-large`: a frame past `maxMessageBytes`; the connection is closed.
 * - `over-limit`: a frame within its lengths but past `maxMetadataEntries` / `maxMetadataBytes`;
 *   answered with an error, the connection goes on.
 * - `bomb`: a compressed payload that would inflate past `maxDecompressedBytes` or
 *   `maxCompressionRatio`; answered with an error.
 * - `bad-payload`: a payload the codec cannot decode; answered with an error.
 * - `auth-refused`: `authorize` refused the call's token; the connection is closed (not one that
 *   carries a gateway's calls in process).
 * - `auth-timeout`, `frame-timeout`, `write-timeout`: a watchdog closed the connection (no token
 *   accepted in time, a frame that never finished, replies the peer never read).
 * - `evicted`: closed to bring the server back within `maxBufferedBytes`.
 * - `bad-stream`: a credit notice that does not read, or that takes a stream's credit past
 *   2^31-1 (that stream fails with an error, the connection goes on).
 *
 * @example
 * ```ts
 * const reason: ProtocolErrorReason = 'too-large';
 * ```
 * @group Server
 */
export type ProtocolErrorReason =
  | 'malformed'
  | 'too-large'
  | 'over-limit'
  | 'bomb'
  | 'bad-payload'
  | 'auth-refused'
  | 'auth-timeout'
  | 'frame-timeout'
  | 'write-timeout'
  | 'evicted'
  | 'bad-stream';

/**
 * A connection was accepted (or an in-process one attached).
 *
 * @example
 * ```ts
 * const event: ConnectionOpenedEvent = { type: 'connection-opened', remoteAddress: 'tcp@10.0.0.7:51234' };
 * ```
 * @group Server
 */
export interface ConnectionOpenedEvent {
  /** The kind of event. */
  readonly type: 'connection-opened';
  /** The peer: `tcp@host:port`, `unix@`, or `in-process@`. */
  readonly remoteAddress: string;
}

/**
 * A connection closed, for whatever reason (a `protocol-error` event precedes it when it broke
 * the protocol).
 *
 * @example
 * ```ts
 * const event: ConnectionClosedEvent = { type: 'connection-closed', remoteAddress: 'tcp@10.0.0.7:51234' };
 * ```
 * @group Server
 */
export interface ConnectionClosedEvent {
  /** The kind of event. */
  readonly type: 'connection-closed';
  /** The peer. */
  readonly remoteAddress: string;
}

/**
 * A peer broke the protocol or one of the server's limits.
 *
 * @example
 * ```ts
 * const event: ProtocolErrorEvent = { type: 'protocol-error', remoteAddress: 'tcp@10.0.0.7:51234', reason: 'bomb' };
 * ```
 * @group Server
 */
export interface ProtocolErrorEvent {
  /** The kind of event. */
  readonly type: 'protocol-error';
  /** The peer. */
  readonly remoteAddress: string;
  /** What it did. */
  readonly reason: ProtocolErrorReason;
}

/**
 * A call arrived and was taken (it runs, or waits for its turn on the connection).
 *
 * @example
 * ```ts
 * const event: CallStartedEvent = { type: 'call-started', service: 'Arith', method: 'Mul', known: true, requestBytes: 14 };
 * ```
 * @group Server
 */
export interface CallStartedEvent {
  /** The kind of event. */
  readonly type: 'call-started';
  /** The service name as the peer sent it. */
  readonly service: string;
  /** The method name as the peer sent it. */
  readonly method: string;
  /** Whether the service and method are registered: keep unknown names out of metric labels. */
  readonly known: boolean;
  /** Payload bytes as received (compressed when the frame is). */
  readonly requestBytes: number;
}

/**
 * A started call ended: replied, failed, cancelled, or cut by its connection closing.
 *
 * @example
 * ```ts
 * const event: CallFinishedEvent = {
 *   type: 'call-finished', service: 'Arith', method: 'Mul', known: true, code: 'OK', durationMs: 0.4, replyBytes: 8,
 * };
 * ```
 * @group Server
 */
export interface CallFinishedEvent {
  /** The kind of event. */
  readonly type: 'call-finished';
  /** The service name as the peer sent it. */
  readonly service: string;
  /** The method name as the peer sent it. */
  readonly method: string;
  /** Whether the service and method are registered. */
  readonly known: boolean;
  /**
   * `OK`, or the error reply's code: `NOT_FOUND`, `INVALID_ARGUMENT`, `UNAUTHENTICATED`,
   * `DEADLINE_EXCEEDED`, `RESOURCE_EXHAUSTED` (busy), `UNAVAILABLE` (shutting down), `CANCELLED`
   * (the caller cancelled or its connection closed), or `UNKNOWN` (the handler failed).
   */
  readonly code: string;
  /** From when the call was taken to its reply, in milliseconds (sub-millisecond precision). */
  readonly durationMs: number;
  /** Payload bytes of the reply (0 when none was sent). */
  readonly replyBytes: number;
}

/**
 * What a server reports on `events$`, for metrics and logs: connections opening and closing,
 * every call it starts and finishes, and peers that break the protocol.
 *
 * @example
 * ```ts
 * server.events$.subscribe((event) => {
 *   if (event.type === 'call-finished') console.log(event.service, event.method, event.code, event.durationMs);
 * });
 * ```
 * @group Server
 */
export type ServerEvent =
  | ConnectionOpenedEvent
  | ConnectionClosedEvent
  | ProtocolErrorEvent
  | CallStartedEvent
  | CallFinishedEvent;
