/**
 * The magic byte of Go Phobos frames (the default).
 *
 * @group Protocol
 */
export const MAGIC_PHOBOS = 0x42;
/**
 * The magic byte of rpcx frames.
 *
 * @group Protocol
 */
export const MAGIC_RPCX = 0x08;
/**
 * The only protocol version there is.
 *
 * @group Protocol
 */
export const PROTOCOL_VERSION = 0;
/**
 * Bytes before the variable part of a frame: 12 of header, 4 of total length.
 *
 * @group Protocol
 */
export const FRAME_PREFIX_BYTES = 16;
/**
 * Default largest frame accepted or sent, header included: 16 MiB.
 *
 * @group Protocol
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * Default limit on the metadata entries of one frame: 128.
 *
 * @group Protocol
 */
export const DEFAULT_MAX_METADATA_ENTRIES = 128;
/**
 * Default limit on the metadata section of one frame (keys, values and their lengths): 32 KiB.
 *
 * @group Protocol
 */
export const DEFAULT_MAX_METADATA_BYTES = 32 * 1024;

/**
 * The message type bit of header byte 2.
 *
 * @group Protocol
 */
export const MessageType = {
  /** A request (or a server push). */
  Request: 0,
  /** A reply. */
  Response: 1,
} as const;
/**
 * A {@link MessageType} value: 0 request, 1 response.
 *
 * @group Protocol
 */
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/**
 * The status bits of header byte 2 (two bits: 0..3; 0 and 1 are defined).
 *
 * @group Protocol
 */
export const MessageStatus = {
  /** A normal message. */
  Normal: 0,
  /** An error reply: the message is in the metadata. */
  Error: 1,
} as const;
/**
 * A {@link MessageStatus} value.
 *
 * @group Protocol
 */
export type MessageStatus = number;

/**
 * Reserved metadata keys of the protocol.
 *
 * @group Protocol
 */
export const MetadataKey = {
  /** The error message of a Phobos reply whose status is error. */
  PhobosError: '__mrpc_error__',
  /** The error message of an rpcx reply whose status is error. */
  RpcxError: '__rpcx_error__',
  /**
   * Set by a Phobos for TypeScript server on an error reply that is not the handler's own
   * failure (a {@link ServerErrorCode}): `UNAVAILABLE` (shutting down), `RESOURCE_EXHAUSTED`
   * (busy), `DEADLINE_EXCEEDED` and `UNAUTHENTICATED` raise the matching error class (governance
   * retries the first three); the others reach the caller as `ServiceError.details.reason`. Other
   * peers ignore the key.
   */
  ErrorCode: '__phobos_code',
  /** The auth token checked by a server's `authorize` option. */
  Auth: '__AUTH',
  /** The caller's remaining deadline in milliseconds. */
  ServerTimeout: '__ServerTimeout',
  /** W3C trace context. */
  TraceParent: 'traceparent',
  /** W3C trace state. */
  TraceState: 'tracestate',
  /**
   * Streams (an extension only peers of ours send). On a call request: the caller takes a stream
   * of replies, and the value is its first credit (a decimal count of values, 0 to 2^31-1). On a
   * reply of that call: {@link StreamSignal} `next` (one value), `complete` or `error` (the
   * last). A Go peer ignores the key and answers with one ordinary reply.
   */
  Stream: '__phobos_stream',
  /**
   * Streams: on a call request, the arguments come as a stream (value `stream`): the request's
   * payload is empty, the server grants credit with credit notices of its own, and the caller
   * sends each value as a oneway request of the call's seq marked `next`, then one marked
   * `complete` (or an error one marked `error`).
   */
  StreamInput: '__phobos_input',
} as const;

/**
 * The values of the `__phobos_stream` key on the frames of a stream (see
 * {@link MetadataKey}): `next` carries one value, `complete` ends the stream, `error` marks the
 * error reply that ends it.
 *
 * @example
 * ```ts
 * const last = message.metadata.get(MetadataKey.Stream) !== StreamSignal.Next;
 * ```
 * @group Protocol
 */
export const StreamSignal = {
  /** One value of the stream. */
  Next: 'next',
  /** The stream completed: no payload. */
  Complete: 'complete',
  /** The stream failed: set on the error reply that ends it. */
  Error: 'error',
} as const;
/**
 * A {@link StreamSignal} value.
 *
 * @group Protocol
 */
export type StreamSignal = (typeof StreamSignal)[keyof typeof StreamSignal];

/**
 * The most credit a stream may have outstanding (values granted and not yet sent): 2^31-1. A
 * grant past it fails the stream.
 *
 * @group Protocol
 */
export const MAX_STREAM_CREDIT = 2 ** 31 - 1;

/**
 * Default of the most values an Observable source may emit ahead of the credit its stream has,
 * per stream: 1,024 (a server's `maxStreamBacklog`, a caller's `maxBacklog` for its input).
 *
 * @group Protocol
 */
export const DEFAULT_MAX_STREAM_BACKLOG = 1_024;

/**
 * Default credit window of a stream's consumer: 64 values. A caller's `window`, and the window a
 * server grants a caller's input stream in: the producer may run this far ahead of what the
 * consumer has taken, and half a window taken is granted again.
 *
 * @group Protocol
 */
export const DEFAULT_STREAM_WINDOW = 64;

/**
 * Why a server refused or failed a call by itself (the `__phobos_code` of its error reply):
 * `UNAVAILABLE` shutting down (a client raises `ConnectionError`); `RESOURCE_EXHAUSTED` busy, past
 * `maxConcurrentRequests` and `maxQueuedRequests` or `maxBufferedBytes`, the call not run
 * (`ResourceExhaustedError`); `DEADLINE_EXCEEDED` the caller's deadline passed
 * (`DeadlineExceededError`); `UNAUTHENTICATED` `authorize` refused the token, or the connection
 * closed for that refusal (`UnauthenticatedError`); `NOT_FOUND` no such service or method and
 * `INVALID_ARGUMENT` the request does not decode (`ServiceError` with that `details.reason`).
 * A client of an earlier version, which knew no `RESOURCE_EXHAUSTED`, reads a busy reply as a
 * `ServiceError` and does not retry it.
 *
 * @example
 * ```ts
 * if (error instanceof ServiceError && error.details.reason === 'NOT_FOUND') console.log('no such method');
 * ```
 * @group Protocol
 */
export type ServerErrorCode =
  | 'UNAVAILABLE'
  | 'RESOURCE_EXHAUSTED'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'INVALID_ARGUMENT'
  | 'UNAUTHENTICATED';

/**
 * A dialect of the wire format: the magic byte and the metadata key that carries an error
 * reply's message. Go Phobos and rpcx differ only there.
 *
 * @example
 * ```ts
 * connect('tcp@127.0.0.1:8972', { dialect: RPCX });
 * ```
 * @group Protocol
 */
export interface Dialect {
  /** Name for logs and errors. */
  readonly name: 'phobos' | 'rpcx';
  /** The magic byte (byte 0 of every frame). */
  readonly magic: number;
  /** The metadata key carrying an error reply's message. */
  readonly errorKey: string;
}

/**
 * The Go Phobos dialect: magic 0x42, errors under `__mrpc_error__`. The default.
 *
 * @example
 * ```ts
 * encodeMessage(message, PHOBOS);
 * ```
 * @group Protocol
 */
export const PHOBOS: Dialect = Object.freeze({
  name: 'phobos',
  magic: MAGIC_PHOBOS,
  errorKey: MetadataKey.PhobosError,
});

/**
 * The rpcx dialect: magic 0x08, errors under `__rpcx_error__`. A server answers each peer in
 * the dialect it speaks; a client speaks the one its `dialect` option names.
 *
 * @example
 * ```ts
 * const client = new Client('tcp@127.0.0.1:8972', { dialect: RPCX });
 * ```
 * @group Protocol
 */
export const RPCX: Dialect = Object.freeze({
  name: 'rpcx',
  magic: MAGIC_RPCX,
  errorKey: MetadataKey.RpcxError,
});

/**
 * Finds the dialect of a magic byte.
 *
 * @returns the dialect, or `undefined` for a magic byte that is neither Phobos nor rpcx.
 * @example
 * ```ts
 * dialectOfMagic(0x08) === RPCX; // true
 * ```
 * @group Protocol
 */
export function dialectOfMagic(magic: number): Dialect | undefined {
  if (magic === MAGIC_PHOBOS) return PHOBOS;
  if (magic === MAGIC_RPCX) return RPCX;
  return undefined;
}

/**
 * Service path of the cancel notice: a oneway request that a client of ours sends when a caller
 * gives up on a pending call. Its payload is the cancelled call's seq (uint64, big-endian). A Go
 * Phobos or rpcx server answers no oneway request, so it drops the notice harmlessly; a server
 * of ours aborts the handler's `ctx.signal`.
 * @group Protocol
 */
export const CANCEL_SERVICE_PATH = '__phobos__';
/**
 * Method of the cancel notice (see {@link CANCEL_SERVICE_PATH}).
 *
 * @group Protocol
 */
export const CANCEL_METHOD = 'cancel';
/**
 * Method of the credit notice of a stream: a oneway request to {@link CANCEL_SERVICE_PATH}
 * whose 12-byte payload is the stream's call seq (uint64, big-endian) and the count of further
 * values its consumer takes (uint32, 1 to 2^31-1). A Go Phobos or rpcx server drops it, as it
 * drops a cancel notice.
 *
 * @group Protocol
 */
export const CREDIT_METHOD = 'credit';
