import { Gunzip, gzipSync } from 'fflate';
import { ProtocolError } from '../errors/index.js';
import type { Compressor } from './compressor.js';
import { CompressType } from './compressor.js';
import { crc32 } from './crc32.js';

/**
 * Compressed bytes fed to the inflater at a time. Deflate expands at most 1032:1, so one slice
 * yields at most about 1 MiB: the most a bomb can produce past `maxBytes` before it is stopped.
 */
const INPUT_SLICE_BYTES = 1024;
/** A gzip member is at least a 10-byte header, an empty deflate block and an 8-byte trailer. */
const MIN_GZIP_BYTES = 18;
const TRAILER_BYTES = 8;
const ISIZE_MODULUS = 0x1_0000_0000;
/** A minimal gzip member header (no flags, zero time). */
const SENTINEL_HEADER = Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff);

/** Options of {@link createGzipCompressor}. */
export interface GzipCompressorOptions {
  /** Deflate level, 0 (store) to 9 (smallest). Default 6, as Go's gzip.DefaultCompression. */
  readonly level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

function payloadError(message: string, details: Record<string, unknown>, cause?: unknown): ProtocolError {
  return new ProtocolError('payload', message, cause === undefined ? { details } : { details, cause });
}

function concat(chunks: readonly Uint8Array[], totalBytes: number): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const result = new Uint8Array(totalBytes);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}

function gunzipBounded(data: Uint8Array, maxBytes: number): Uint8Array {
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a number >= 0, got ${maxBytes}`);
  const details = { compressedBytes: data.length };
  if (data.length < MIN_GZIP_BYTES) {
    throw payloadError(
      `gzip payload of ${data.length} bytes is truncated: a gzip stream has at least ${MIN_GZIP_BYTES} bytes`,
      details,
    );
  }
  const chunks: Uint8Array[] = [];
  let totalBytes = 0;
  let memberCrc = 0;
  let memberBytes = 0;
  let lastMemberEnd = 0;

  const gunzip = new Gunzip((chunk) => {
    totalBytes += chunk.length;
    if (totalBytes > maxBytes) {
      throw payloadError(
        `gzip payload decompresses past maxDecompressedBytes (${maxBytes} bytes); ` +
          'it may be a gzip bomb. Raise maxDecompressedBytes if such payloads are expected',
        { ...details, maxDecompressedBytes: maxBytes },
      );
    }
    if (chunk.length === 0) return;
    chunks.push(chunk);
    memberCrc = crc32(chunk, memberCrc);
    memberBytes += chunk.length;
  });
  // fflate checks neither the CRC-32 nor the size trailer, so we do, at the end of each member.
  gunzip.onmember = (end) => {
    const trailer = new DataView(data.buffer, data.byteOffset + end - TRAILER_BYTES, TRAILER_BYTES);
    if (
      trailer.getUint32(0, true) !== memberCrc ||
      trailer.getUint32(4, true) !== memberBytes % ISIZE_MODULUS
    ) {
      throw payloadError(
        'gzip payload is corrupt: a CRC-32 or size trailer does not match the decompressed data',
        details,
      );
    }
    memberCrc = 0;
    memberBytes = 0;
    lastMemberEnd = end;
  };

  try {
    for (let offset = 0; offset < data.length; offset += INPUT_SLICE_BYTES) {
      gunzip.push(data.subarray(offset, offset + INPUT_SLICE_BYTES));
    }
    // fflate reports where a member ends only when the next one begins, and ignores a cut trailer
    // at the very end: a sentinel header makes it report the end of the last member too.
    gunzip.push(SENTINEL_HEADER);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw payloadError(`gzip payload is corrupt or truncated: ${reason}`, details, error);
  }
  if (lastMemberEnd !== data.length) {
    throw payloadError(
      'gzip payload is truncated: its last member does not end with a complete trailer',
      details,
    );
  }
  return concat(chunks, totalBytes);
}

/**
 * Creates a gzip compressor (compress type 1) on fflate. `compress` writes one gzip member with
 * no file name and a zero modification time (deterministic bytes, as Go's gzip.Writer).
 *
 * `decompress` inflates in 1 KiB input slices and counts the output: as soon as it passes
 * `maxBytes` it throws a `ProtocolError` (`field: 'payload'`), having held at most `maxBytes`
 * plus one slice's expansion (about 1 MiB). It reads concatenated members as Go does, and checks
 * every member's CRC-32 and size trailer. Corrupt, truncated or trailing bytes throw a
 * `ProtocolError` (`field: 'payload'`); a negative or NaN `maxBytes` throws a `RangeError`.
 * The result is one contiguous `Uint8Array`.
 *
 * @example
 * ```ts
 * const fast = createGzipCompressor({ level: 1 });
 * const bytes = fast.compress(payload);
 * fast.decompress(bytes, 1024 * 1024); // throws ProtocolError past 1 MiB of output
 * ```
 */
export function createGzipCompressor(options: GzipCompressorOptions = {}): Compressor {
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`level must be an integer from 0 to 9, got ${level}`);
  }
  return Object.freeze({
    compressType: CompressType.Gzip,
    name: 'gzip',
    compress: (data: Uint8Array): Uint8Array => gzipSync(data, { level, mtime: 0 }),
    decompress: gunzipBounded,
  });
}

/**
 * The gzip compressor (compress type 1) at the default level; see {@link createGzipCompressor}.
 *
 * `decompress` throws a `ProtocolError` past `maxBytes` of output or for corrupt data.
 *
 * @example
 * ```ts
 * const bytes = gzipCompressor.compress(new Uint8Array(4096));
 * gzipCompressor.decompress(bytes, 16 * 1024 * 1024).length; // 4096
 * ```
 */
export const gzipCompressor: Compressor = createGzipCompressor();
