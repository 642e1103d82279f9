import { gunzipSync, gzipSync } from 'node:zlib';
import { ProtocolError } from '../errors/index.js';
import type { Compressor } from './compressor.js';
import { CompressType } from './compressor.js';

/**
 * Default of {@link GzipCompressorOptions.level}: 1, zlib's fastest (as Go's `gzip.BestSpeed`).
 *
 * @group Codecs
 */
export const DEFAULT_GZIP_LEVEL = 1;

/**
 * Options of {@link createGzipCompressor}.
 *
 * @group Codecs
 */
export interface GzipCompressorOptions {
  /**
   * zlib compression level, 0 (store) to 9 (smallest). Default 1: an RPC payload is compressed
   * on every call, and level 1 is about ten times faster than level 6 for a few percent more
   * bytes.
   */
  readonly level?: 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

const MIN_GZIP_BYTES = 18;

function payloadError(message: string, details: Record<string, unknown>, cause?: unknown): ProtocolError {
  return new ProtocolError('payload', message, cause === undefined ? { details } : { details, cause });
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
  let output: Buffer;
  let consumed: number;
  try {
    // zlib stops at maxOutputLength: a bomb never makes it allocate past the limit.
    const result = gunzipSync(data, { maxOutputLength: Math.max(1, maxBytes), info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
    output = result.buffer;
    consumed = result.engine.bytesWritten;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw payloadError(
        `gzip payload decompresses past maxDecompressedBytes (${maxBytes} bytes); ` +
          'it may be a gzip bomb. Raise maxDecompressedBytes if such payloads are expected',
        { ...details, maxDecompressedBytes: maxBytes },
        error,
      );
    }
    throw payloadError(`gzip payload is corrupt or truncated: ${(error as Error).message}`, details, error);
  }
  if (consumed !== data.length) {
    throw payloadError(
      `gzip payload has ${data.length - consumed} bytes after its last gzip member`,
      details,
    );
  }
  if (output.length > maxBytes) {
    throw payloadError(`gzip payload decompresses past maxDecompressedBytes (${maxBytes} bytes)`, {
      ...details,
      maxDecompressedBytes: maxBytes,
    });
  }
  return output;
}

/**
 * Creates a gzip compressor (compress type 1) on Node's zlib. `compress` writes one gzip member
 * with no file name and a zero modification time (deterministic bytes, as Go's gzip.Writer).
 *
 * `decompress` inflates with zlib's `maxOutputLength` set to `maxBytes`: past it, it throws a
 * `ProtocolError` (`field: 'payload'`) without having allocated more. It reads concatenated
 * members as Go does and checks every member's CRC-32 and size trailer. Corrupt or truncated
 * bytes throw a `ProtocolError` (`field: 'payload'`); a negative or NaN `maxBytes` throws a
 * `RangeError`. The result is one contiguous `Uint8Array` (a Buffer).
 *
 * @throws RangeError when `level` is not an integer 0..9.
 * @example
 * ```ts
 * const small = createGzipCompressor({ level: 9 });
 * const bytes = small.compress(payload);
 * small.decompress(bytes, 1024 * 1024); // throws ProtocolError past 1 MiB of output
 * ```
 * @group Codecs
 */
export function createGzipCompressor(options: GzipCompressorOptions = {}): Compressor {
  const level = options.level ?? DEFAULT_GZIP_LEVEL;
  if (!Number.isInteger(level) || level < 0 || level > 9) {
    throw new RangeError(`level must be an integer from 0 to 9, got ${level}`);
  }
  return Object.freeze({
    compressType: CompressType.Gzip,
    name: 'gzip',
    compress: (data: Uint8Array): Uint8Array => gzipSync(data, { level }),
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
 * @group Codecs
 */
export const gzipCompressor: Compressor = createGzipCompressor();
