import { ProtocolError } from '../errors/index.js';
import { DEFAULT_MAX_MESSAGE_BYTES, FRAME_PREFIX_BYTES } from './constants.js';
import type { Message, Metadata } from './message.js';

/** Payloads at least this large are written as their own chunk instead of being copied. */
const COPY_PAYLOAD_BELOW_BYTES = 16 * 1024;

/**
 * Encodes a message into the chunks of one frame: one buffer holding everything, or, for a
 * large payload, the prefix followed by the payload itself (so it is never copied; a socket
 * writes both in one `writev`).
 *
 * @param maxMessageBytes - largest frame allowed; default 16 MiB.
 * @throws ProtocolError (`length`) when the frame would exceed `maxMessageBytes`; RangeError
 *   when a header field is out of range (a serialize type above 15, a negative seq...).
 * @example
 * ```ts
 * socket.cork();
 * for (const chunk of encodeFrame(message)) socket.write(chunk);
 * socket.uncork();
 * ```
 * @group Protocol
 */
export function encodeFrame(message: Message, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): Buffer[] {
  const serviceBytes = Buffer.byteLength(message.servicePath, 'utf8');
  const methodBytes = Buffer.byteLength(message.serviceMethod, 'utf8');
  const metadataBytes = metadataByteLength(message.metadata);
  const payloadBytes = message.payload.length;
  const bodyBytes = 16 + serviceBytes + methodBytes + metadataBytes + payloadBytes;
  const frameBytes = FRAME_PREFIX_BYTES + bodyBytes;
  if (frameBytes > maxMessageBytes) {
    throw new ProtocolError(
      `frame of ${frameBytes} bytes exceeds maxMessageBytes (${maxMessageBytes}); send a smaller payload, compress it, or raise maxMessageBytes on both sides`,
      { field: 'length', details: { frameBytes, maxMessageBytes } },
    );
  }
  const inline = payloadBytes < COPY_PAYLOAD_BELOW_BYTES;
  const buffer = Buffer.allocUnsafe(inline ? frameBytes : frameBytes - payloadBytes);
  writeHeader(buffer, message);
  buffer.writeUInt32BE(bodyBytes, 12);
  let offset = FRAME_PREFIX_BYTES;
  offset = writeString(buffer, offset, message.servicePath, serviceBytes);
  offset = writeString(buffer, offset, message.serviceMethod, methodBytes);
  buffer.writeUInt32BE(metadataBytes, offset);
  offset = writeMetadata(buffer, offset + 4, message.metadata);
  buffer.writeUInt32BE(payloadBytes, offset);
  offset += 4;
  if (!inline) return [buffer, toBuffer(message.payload)];
  buffer.set(message.payload, offset);
  return [buffer];
}

/**
 * Encodes a message into one contiguous frame.
 *
 * @throws the same errors as {@link encodeFrame}.
 * @example
 * ```ts
 * const bytes = encodeMessage(message);
 * ```
 * @group Protocol
 */
export function encodeMessage(message: Message, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): Buffer {
  const chunks = encodeFrame(message, maxMessageBytes);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/**
 * The number of bytes metadata takes on the wire (without its own length prefix).
 *
 * @example
 * ```ts
 * metadataByteLength(new Map([['k', 'v']])); // 10
 * ```
 * @group Protocol
 */
export function metadataByteLength(metadata: Metadata): number {
  let bytes = 0;
  for (const [key, value] of metadata) {
    bytes += 8 + Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  return bytes;
}

function writeHeader(buffer: Buffer, message: Message): void {
  const { magic, messageType, compressType, status, serializeType, seq } = message;
  checkField('magic', magic, 0xff);
  checkField('messageType', messageType, 1);
  checkField('compressType', compressType, 7);
  checkField('status', status, 3);
  checkField('serializeType', serializeType, 15);
  if (typeof seq !== 'bigint' || seq < 0n || seq > 0xffff_ffff_ffff_ffffn) {
    throw new RangeError(`seq must be a bigint in 0..2^64-1, got ${String(seq)}`);
  }
  buffer[0] = magic;
  buffer[1] = 0;
  buffer[2] =
    (messageType << 7) |
    (message.heartbeat ? 0x40 : 0) |
    (message.oneway ? 0x20 : 0) |
    (compressType << 2) |
    status;
  buffer[3] = serializeType << 4;
  buffer.writeBigUInt64BE(seq, 4);
}

function checkField(field: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field} must be an integer in 0..${max}, got ${String(value)}`);
  }
}

function writeString(buffer: Buffer, offset: number, value: string, bytes: number): number {
  buffer.writeUInt32BE(bytes, offset);
  if (bytes > 0) buffer.write(value, offset + 4, bytes, 'utf8');
  return offset + 4 + bytes;
}

function writeMetadata(buffer: Buffer, start: number, metadata: Metadata): number {
  let offset = start;
  for (const [key, value] of metadata) {
    offset = writeString(buffer, offset, key, Buffer.byteLength(key, 'utf8'));
    offset = writeString(buffer, offset, value, Buffer.byteLength(value, 'utf8'));
  }
  return offset;
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
