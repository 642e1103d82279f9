import { CompressType } from '../compress/compressor.js';
import {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  type Dialect,
  MessageStatus,
  MessageType,
  MetadataKey,
  type ServerErrorCode,
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
