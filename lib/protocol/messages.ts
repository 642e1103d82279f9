import { CompressType } from '../compress/compressor.js';
import {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  CREDIT_METHOD,
  type Dialect,
  MAX_STREAM_CREDIT,
  MessageStatus,
  MessageType,
  MetadataKey,
  type ServerErrorCode,
  StreamSignal,
} from './constants.js';
import { EMPTY_METADATA, EMPTY_PAYLOAD, type Message, type Metadata } from './message.js';

// Each factory writes one object literal with the twelve fields in the decoder's order, so every
// message the library sends has the same shape and the encoder's property reads stay monomorphic.

/**
 * A request: a call (`oneway` false), a oneway call, or a server push (a oneway request a server
 * sends). Never throws: fields out of range (a serialize type above 15, a negative seq) are
 * refused when the message is encoded.
 *
 * @param compressType - the compress type of `payload` as given (compress it first); default none.
 * @example
 * ```ts
 * const request = requestMessage(PHOBOS.magic, 1n, 'Arith', 'Mul', EMPTY_METADATA, payload, 1);
 * ```
 * @internal
 */
export function requestMessage(
  magic: number,
  seq: bigint,
  servicePath: string,
  serviceMethod: string,
  metadata: Metadata,
  payload: Uint8Array,
  serializeType: number,
  compressType: number = CompressType.None,
  oneway = false,
): Message {
  return {
    magic,
    messageType: MessageType.Request,
    heartbeat: false,
    oneway,
    compressType,
    status: MessageStatus.Normal,
    serializeType,
    seq,
    servicePath,
    serviceMethod,
    metadata,
    payload,
  };
}

/**
 * The normal reply to `request`: its magic, seq, service, method, serialize type and flags, with
 * the reply's metadata and payload. Never throws.
 *
 * @param compressType - the compress type of `payload` as given; default none.
 * @example
 * ```ts
 * frames.send(replyMessage(request, ctx.replyMetadata, payload));
 * ```
 * @internal
 */
export function replyMessage(
  request: Message,
  metadata: Metadata,
  payload: Uint8Array,
  compressType: number = CompressType.None,
): Message {
  return {
    magic: request.magic,
    messageType: MessageType.Response,
    heartbeat: request.heartbeat,
    oneway: request.oneway,
    compressType,
    status: MessageStatus.Normal,
    serializeType: request.serializeType,
    seq: request.seq,
    servicePath: request.servicePath,
    serviceMethod: request.serviceMethod,
    metadata,
    payload,
  };
}

/**
 * The error reply to `request` in `dialect`: status error, no payload, `text` under the dialect's
 * error key and `code` under `__phobos_code` (when given). Both are set in `metadata`, which
 * becomes the reply's: pass a map of its own (default a new one). Never throws.
 *
 * @example
 * ```ts
 * frames.send(errorReply(request, PHOBOS, 'can not find service "Arith"', 'NOT_FOUND'));
 * ```
 * @internal
 */
export function errorReply(
  request: Message,
  dialect: Dialect,
  text: string,
  code?: ServerErrorCode,
  metadata: Map<string, string> = new Map(),
): Message {
  metadata.set(dialect.errorKey, text);
  if (code !== undefined) metadata.set(MetadataKey.ErrorCode, code);
  return {
    magic: dialect.magic,
    messageType: MessageType.Response,
    heartbeat: request.heartbeat,
    oneway: request.oneway,
    compressType: CompressType.None,
    status: MessageStatus.Error,
    serializeType: request.serializeType,
    seq: request.seq,
    servicePath: request.servicePath,
    serviceMethod: request.serviceMethod,
    metadata,
    payload: EMPTY_PAYLOAD,
  };
}

/**
 * A heartbeat request: empty service, method and payload, with `metadata` (a client's `__AUTH`
 * token, when it has one). Never throws.
 *
 * @example
 * ```ts
 * frames.send(heartbeatMessage(PHOBOS.magic, 7n));
 * ```
 * @internal
 */
export function heartbeatMessage(magic: number, seq: bigint, metadata: Metadata = EMPTY_METADATA): Message {
  return {
    magic,
    messageType: MessageType.Request,
    heartbeat: true,
    oneway: false,
    compressType: CompressType.None,
    status: MessageStatus.Normal,
    serializeType: 0,
    seq,
    servicePath: '',
    serviceMethod: '',
    metadata,
    payload: EMPTY_PAYLOAD,
  };
}

/**
 * The echo of a heartbeat: the same frame with the response bit set (a decoder's `invalid` is
 * not carried over). Never throws.
 *
 * @example
 * ```ts
 * if (message.heartbeat) frames.send(heartbeatReply(message));
 * ```
 * @internal
 */
export function heartbeatReply(heartbeat: Message): Message {
  return {
    magic: heartbeat.magic,
    messageType: MessageType.Response,
    heartbeat: heartbeat.heartbeat,
    oneway: heartbeat.oneway,
    compressType: heartbeat.compressType,
    status: heartbeat.status,
    serializeType: heartbeat.serializeType,
    seq: heartbeat.seq,
    servicePath: heartbeat.servicePath,
    serviceMethod: heartbeat.serviceMethod,
    metadata: heartbeat.metadata,
    payload: heartbeat.payload,
  };
}

/**
 * The cancel notice of the call whose seq is `cancelled`: a oneway request of its own `seq` to
 * {@link CANCEL_SERVICE_PATH}.{@link CANCEL_METHOD}, the cancelled seq as its 8-byte payload.
 *
 * @throws RangeError when `cancelled` is not a uint64.
 * @example
 * ```ts
 * frames.send(cancelMessage(PHOBOS.magic, 8n, 7n)); // call 7 is given up on
 * ```
 * @internal
 */
export function cancelMessage(magic: number, seq: bigint, cancelled: bigint): Message {
  const payload = Buffer.allocUnsafe(8);
  payload.writeBigUInt64BE(cancelled, 0);
  return {
    magic,
    messageType: MessageType.Request,
    heartbeat: false,
    oneway: true,
    compressType: CompressType.None,
    status: MessageStatus.Normal,
    serializeType: 0,
    seq,
    servicePath: CANCEL_SERVICE_PATH,
    serviceMethod: CANCEL_METHOD,
    metadata: EMPTY_METADATA,
    payload,
  };
}

const NEXT_METADATA: Metadata = new Map([[MetadataKey.Stream, StreamSignal.Next]]);
const COMPLETE_METADATA: Metadata = new Map([[MetadataKey.Stream, StreamSignal.Complete]]);

/**
 * The metadata of a stream frame: `extra` (the handler's reply metadata) with `__phobos_stream`
 * set to `signal`. Without extra entries the map is shared (frames are encoded when sent, never
 * kept). Never throws.
 *
 * @example
 * ```ts
 * frames.send(replyMessage(request, streamMetadata(StreamSignal.Next, ctx.replyMetadata), payload));
 * ```
 * @internal
 */
export function streamMetadata(signal: StreamSignal, extra: Metadata = EMPTY_METADATA): Metadata {
  if (extra.size === 0 && signal !== StreamSignal.Error)
    return signal === StreamSignal.Next ? NEXT_METADATA : COMPLETE_METADATA;
  const metadata = new Map(extra);
  metadata.set(MetadataKey.Stream, signal);
  return metadata;
}

/**
 * The credit notice granting `credit` more values of the stream whose call seq is `stream`: a
 * oneway request of its own `seq` to {@link CANCEL_SERVICE_PATH}.{@link CREDIT_METHOD}, with
 * the stream's seq and the credit as its 12-byte payload.
 *
 * @throws RangeError when `stream` is not a uint64 or `credit` is not an integer from 1 to
 * 2^31-1.
 * @example
 * ```ts
 * frames.send(creditMessage(PHOBOS.magic, 9n, 7n, 32)); // 32 more values of stream 7
 * ```
 * @internal
 */
export function creditMessage(magic: number, seq: bigint, stream: bigint, credit: number): Message {
  if (!Number.isInteger(credit) || credit < 1 || credit > MAX_STREAM_CREDIT)
    throw new RangeError(`credit must be an integer from 1 to ${MAX_STREAM_CREDIT}, got ${credit}`);
  const payload = Buffer.allocUnsafe(12);
  payload.writeBigUInt64BE(stream, 0);
  payload.writeUInt32BE(credit, 8);
  return {
    magic,
    messageType: MessageType.Request,
    heartbeat: false,
    oneway: true,
    compressType: CompressType.None,
    status: MessageStatus.Normal,
    serializeType: 0,
    seq,
    servicePath: CANCEL_SERVICE_PATH,
    serviceMethod: CREDIT_METHOD,
    metadata: EMPTY_METADATA,
    payload,
  };
}

/**
 * Reads a credit notice's payload: the stream's call seq and the credit granted.
 *
 * @returns `undefined` when the payload is not 12 bytes or the credit is not from 1 to 2^31-1.
 * @example
 * ```ts
 * const grant = readCredit(message.payload); // { stream: 7n, credit: 32 }
 * ```
 * @internal
 */
export function readCredit(
  payload: Uint8Array,
): { readonly stream: bigint; readonly credit: number } | undefined {
  if (payload.length !== 12) return undefined;
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, 12);
  const credit = bytes.readUInt32BE(8);
  if (credit < 1 || credit > MAX_STREAM_CREDIT) return undefined;
  return { stream: bytes.readBigUInt64BE(0), credit };
}

/**
 * Reads the first credit a call request asks for with `__phobos_stream`.
 *
 * @returns the credit (0 to 2^31-1); `undefined` when the request asks for no stream or the
 * value is not a decimal integer in that range.
 * @example
 * ```ts
 * const credit = streamCreditOf(request.metadata); // 64 when the caller sent "64"
 * ```
 * @internal
 */
export function streamCreditOf(metadata: Metadata): number | undefined {
  const value = metadata.get(MetadataKey.Stream);
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  const credit = Number(value);
  return credit <= MAX_STREAM_CREDIT ? credit : undefined;
}

/**
 * A frame of a caller's input stream: a oneway request of the call's `seq`, service and method,
 * marked `signal`. `next` carries one value (`payload`, compressed as `compressType` says);
 * `complete` is empty; `error` has status error and `errorText` under the dialect's error key.
 * Never throws.
 *
 * @example
 * ```ts
 * frames.send(inputMessage(PHOBOS, 7n, 'Files', 'Upload', StreamSignal.Next, chunk, 0));
 * ```
 * @internal
 */
export function inputMessage(
  dialect: Dialect,
  seq: bigint,
  servicePath: string,
  serviceMethod: string,
  signal: StreamSignal,
  payload: Uint8Array,
  serializeType: number,
  compressType: number = CompressType.None,
  errorText = '',
): Message {
  const failed = signal === StreamSignal.Error;
  return {
    magic: dialect.magic,
    messageType: MessageType.Request,
    heartbeat: false,
    oneway: true,
    compressType,
    status: failed ? MessageStatus.Error : MessageStatus.Normal,
    serializeType,
    seq,
    servicePath,
    serviceMethod,
    metadata: failed
      ? new Map([
          [dialect.errorKey, errorText],
          [MetadataKey.Stream, StreamSignal.Error],
        ])
      : streamMetadata(signal),
    payload,
  };
}
