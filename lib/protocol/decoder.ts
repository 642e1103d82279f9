import { ProtocolError } from '../errors/index.js';
import { integerOption } from '../util/validate.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_MAX_METADATA_ENTRIES,
  FRAME_PREFIX_BYTES,
  MAGIC_PHOBOS,
  MAGIC_RPCX,
  type MessageType,
} from './constants.js';
import { EMPTY_METADATA, EMPTY_PAYLOAD, type Message, type Metadata } from './message.js';

/**
 * Options of a {@link FrameDecoder}.
 *
 * @group Protocol
 */
export interface FrameDecoderOptions {
  /** Largest frame accepted, header included, checked before anything is allocated. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /** Magic bytes accepted. Default both 0x42 (Phobos) and 0x08 (rpcx). */
  readonly magics?: readonly number[];
  /** Most metadata entries a frame may carry. Default 128. */
  readonly maxMetadataEntries?: number;
  /** Largest metadata section a frame may carry (keys, values, their lengths). Default 32 KiB. */
  readonly maxMetadataBytes?: number;
}

/**
 * Limits a frame must keep, past its lengths; see {@link decodeFrame}.
 *
 * @group Protocol
 */
export interface FrameLimits {
  /** Most metadata entries. */
  readonly maxMetadataEntries: number;
  /** Largest metadata section in bytes. */
  readonly maxMetadataBytes: number;
}

/**
 * An incremental frame decoder: feed it TCP chunks of any size (a frame split across many
 * chunks, many frames in one chunk) and it returns each complete message.
 *
 * It checks the magic and version as soon as those bytes arrive, and every length against the
 * frame and `maxMessageBytes` before it allocates. A violation throws {@link ProtocolError}
 * naming the field; the stream cannot be resynchronised after that, so every later `push`
 * throws the same error. Frames completed in the same chunk before the bad one are returned
 * first (then `error` is set and the next `push` throws).
 *
 * A frame that breaks a metadata limit (`maxMetadataEntries`, `maxMetadataBytes`) is returned
 * with `invalid` set and its metadata and payload left unread: the stream goes on, and the
 * receiver answers that one frame with an error.
 *
 * @example
 * ```ts
 * const decoder = new FrameDecoder({ maxMessageBytes: 1 << 20 });
 * socket.on('data', (chunk) => {
 *   for (const message of decoder.push(chunk)) handle(message);
 * });
 * ```
 * @group Protocol
 */
export class FrameDecoder {
  private readonly maxMessageBytes: number;
  private readonly magics: readonly number[];
  private readonly limits: FrameLimits;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private failure: ProtocolError | undefined;

  /**
   * @throws RangeError when `maxMessageBytes` is not an integer of at least 32, `magics` is
   *   empty or holds a value that is not a byte, or a metadata limit is not an integer >= 0.
   */
  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(max) || max < FRAME_PREFIX_BYTES + 16) {
      throw new RangeError(`maxMessageBytes must be an integer >= 32, got ${String(max)}`);
    }
    const magics = options.magics ?? [MAGIC_PHOBOS, MAGIC_RPCX];
    if (magics.length === 0 || magics.some((m) => !Number.isInteger(m) || m < 0 || m > 0xff)) {
      throw new RangeError(`magics must be a non-empty list of bytes, got ${String(magics)}`);
    }
    this.maxMessageBytes = max;
    this.magics = magics;
    this.limits = {
      maxMetadataEntries: integerOption(
        'maxMetadataEntries',
        options.maxMetadataEntries,
        DEFAULT_MAX_METADATA_ENTRIES,
        0,
      ),
      maxMetadataBytes: integerOption(
        'maxMetadataBytes',
        options.maxMetadataBytes,
        DEFAULT_MAX_METADATA_BYTES,
        0,
      ),
    };
  }

  /** Bytes received but not yet returned as a message. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Adds a chunk and returns every message it completes (possibly none).
   *
   * @throws ProtocolError when the bytes break the protocol (and on every call after that).
   */
  push(chunk: Uint8Array): Message[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
      );
      this.buffered += chunk.length;
    }
    const messages: Message[] = [];
    try {
      for (;;) {
        const frameBytes = this.nextFrameBytes();
        if (frameBytes === undefined || this.buffered < frameBytes) break;
        messages.push(decodeFrame(this.take(frameBytes), this.limits));
      }
    } catch (error) {
      this.failure =
        error instanceof ProtocolError
          ? error
          : new ProtocolError(String(error), { field: 'frame', cause: error });
      this.chunks = [];
      this.buffered = 0;
      // Frames completed before the bad one are returned, never lost; the next push throws.
      if (messages.length === 0) throw this.failure;
    }
    return messages;
  }

  /** The ProtocolError that stopped this decoder, if one did. */
  get error(): ProtocolError | undefined {
    return this.failure;
  }

  /** The size of the next frame once its prefix is here; checks what has arrived so far. */
  private nextFrameBytes(): number | undefined {
    if (this.buffered === 0) return undefined;
    const first = this.chunks[0] as Buffer;
    const magic = first[0] as number;
    if (!this.magics.includes(magic)) {
      throw new ProtocolError(
        `bad magic byte 0x${hex(magic)}: expected ${this.magics.map((m) => `0x${hex(m)}`).join(' or ')}; is the peer speaking Phobos/rpcx?`,
        { field: 'magic' },
      );
    }
    if (this.buffered < 2) return undefined;
    const version = this.byteAt(1);
    if (version !== 0)
      throw new ProtocolError(`unsupported protocol version ${version}, expected 0`, { field: 'version' });
    if (this.buffered < FRAME_PREFIX_BYTES) return undefined;
    const bodyBytes =
      first.length >= FRAME_PREFIX_BYTES
        ? first.readUInt32BE(12)
        : ((this.byteAt(12) << 24) | (this.byteAt(13) << 16) | (this.byteAt(14) << 8) | this.byteAt(15)) >>>
          0;
    const frameBytes = FRAME_PREFIX_BYTES + bodyBytes;
    if (frameBytes > this.maxMessageBytes) {
      throw new ProtocolError(
        `frame of ${frameBytes} bytes exceeds maxMessageBytes (${this.maxMessageBytes}); raise maxMessageBytes if the peer is trusted`,
        { field: 'length', details: { frameBytes, maxMessageBytes: this.maxMessageBytes } },
      );
    }
    if (bodyBytes < 16) {
      throw new ProtocolError(
        `frame body of ${bodyBytes} bytes cannot hold its four length fields (16 bytes)`,
        { field: 'length' },
      );
    }
    return frameBytes;
  }

  private byteAt(index: number): number {
    let rest = index;
    for (const chunk of this.chunks) {
      if (rest < chunk.length) return chunk[rest] as number;
      rest -= chunk.length;
    }
    throw new RangeError(`byte ${index} is not buffered`);
  }

  /** Removes `bytes` from the front of the buffered chunks, copying only when a frame spans chunks. */
  private take(bytes: number): Buffer {
    this.buffered -= bytes;
    const first = this.chunks[0] as Buffer;
    if (first.length >= bytes) {
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
      return first.subarray(0, bytes);
    }
    const frame = Buffer.allocUnsafe(bytes);
    let offset = 0;
    while (offset < bytes) {
      const chunk = this.chunks[0] as Buffer;
      const wanted = bytes - offset;
      if (chunk.length <= wanted) {
        frame.set(chunk, offset);
        offset += chunk.length;
        this.chunks.shift();
      } else {
        frame.set(chunk.subarray(0, wanted), offset);
        this.chunks[0] = chunk.subarray(wanted);
        offset = bytes;
      }
    }
    return frame;
  }
}

/**
 * Decodes one complete frame (prefix included). Given `limits`, a frame whose metadata breaks
 * them is returned with `invalid` set (a {@link ProtocolError} naming the limit), empty metadata
 * and payload; the limits are checked before any metadata entry is read past them.
 *
 * @throws ProtocolError naming the field whose length runs past the frame, or when the frame's
 *   declared length does not match its size. Does not check the magic (the caller decides which
 *   it accepts).
 * @example
 * ```ts
 * const message = decodeFrame(Buffer.from(hex, 'hex'));
 * ```
 * @group Protocol
 */
export function decodeFrame(frame: Uint8Array, limits?: FrameLimits): Message {
  const buffer = Buffer.isBuffer(frame) ? frame : Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  if (buffer.length < FRAME_PREFIX_BYTES + 16) {
    throw new ProtocolError(`a frame needs at least 32 bytes, got ${buffer.length}`, { field: 'length' });
  }
  const declared = buffer.readUInt32BE(12);
  if (declared !== buffer.length - FRAME_PREFIX_BYTES) {
    throw new ProtocolError(
      `frame declares ${declared} body bytes but holds ${buffer.length - FRAME_PREFIX_BYTES}`,
      { field: 'length' },
    );
  }
  const flags = buffer[2] as number;
  const end = buffer.length;
  let offset = FRAME_PREFIX_BYTES;

  const serviceBytes = fieldLength(buffer, offset, end, 'servicePath');
  const servicePath =
    serviceBytes === 0 ? '' : buffer.toString('utf8', offset + 4, offset + 4 + serviceBytes);
  offset += 4 + serviceBytes;

  const methodBytes = fieldLength(buffer, offset, end, 'serviceMethod');
  const serviceMethod =
    methodBytes === 0 ? '' : buffer.toString('utf8', offset + 4, offset + 4 + methodBytes);
  offset += 4 + methodBytes;

  const metadataBytes = fieldLength(buffer, offset, end, 'metadata');
  const metadataStart = offset + 4;
  offset = metadataStart + metadataBytes;
  const payloadBytes = fieldLength(buffer, offset, end, 'payload');
  offset += 4;
  if (offset + payloadBytes !== end) {
    throw new ProtocolError(
      `payload length ${payloadBytes} leaves ${end - offset - payloadBytes} bytes unread in the frame`,
      { field: 'payload' },
    );
  }
  let metadata: Metadata = EMPTY_METADATA;
  let invalid: ProtocolError | undefined;
  if (limits && metadataBytes > limits.maxMetadataBytes) {
    invalid = new ProtocolError(
      `metadata of ${metadataBytes} bytes exceeds maxMetadataBytes (${limits.maxMetadataBytes})`,
      { field: 'metadata', details: { metadataBytes, maxMetadataBytes: limits.maxMetadataBytes } },
    );
  } else if (metadataBytes > 0) {
    const maxEntries = limits?.maxMetadataEntries ?? Number.POSITIVE_INFINITY;
    const decoded = decodeMetadata(buffer, metadataStart, metadataStart + metadataBytes, maxEntries);
    if (decoded === undefined) {
      invalid = new ProtocolError(`metadata has more than maxMetadataEntries (${maxEntries}) entries`, {
        field: 'metadata',
        details: { maxMetadataEntries: maxEntries },
      });
    } else metadata = decoded;
  }
  // One object literal, so that every decoded message has the same shape.
  const message: Message = {
    magic: buffer[0] as number,
    messageType: (flags >> 7) as MessageType,
    heartbeat: (flags & 0x40) !== 0,
    oneway: (flags & 0x20) !== 0,
    compressType: (flags & 0x1c) >> 2,
    status: flags & 0x03,
    serializeType: (buffer[3] as number) >> 4,
    seq: buffer.readBigUInt64BE(4),
    servicePath,
    serviceMethod,
    metadata,
    payload: invalid ? EMPTY_PAYLOAD : buffer.subarray(offset, end),
  };
  return invalid ? { ...message, invalid } : message;
}

function fieldLength(buffer: Buffer, offset: number, end: number, field: string): number {
  if (offset + 4 > end) throw new ProtocolError(`frame ends before the length of ${field}`, { field });
  const length = buffer.readUInt32BE(offset);
  if (length > end - offset - 4) {
    throw new ProtocolError(
      `${field} length ${length} runs past the end of the frame (${end - offset - 4} bytes left)`,
      { field },
    );
  }
  return length;
}

/** The metadata entries, or undefined when there are more than `maxEntries`. */
function decodeMetadata(
  buffer: Buffer,
  start: number,
  end: number,
  maxEntries: number,
): Metadata | undefined {
  const metadata = new Map<string, string>();
  let entries = 0;
  let offset = start;
  while (offset < end) {
    if (entries === maxEntries) return undefined;
    const keyBytes = fieldLength(buffer, offset, end, 'metadata');
    const key = buffer.toString('utf8', offset + 4, offset + 4 + keyBytes);
    offset += 4 + keyBytes;
    const valueBytes = fieldLength(buffer, offset, end, 'metadata');
    metadata.set(key, buffer.toString('utf8', offset + 4, offset + 4 + valueBytes));
    offset += 4 + valueBytes;
    entries += 1;
  }
  return metadata;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
