import { createGunzip, gunzipSync, gzip, gzipSync, constants as zlibConstants } from 'node:zlib';
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
  return new ProtocolError(message, { field: 'payload', details, cause });
}

/** Checks `maxBytes` and the shortest gzip stream; the details every payload error carries. */
function checkGunzip(data: Uint8Array, maxBytes: number): { compressedBytes: number } {
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a number >= 0, got ${maxBytes}`);
  const details = { compressedBytes: data.length };
  if (data.length < MIN_GZIP_BYTES) {
    throw payloadError(
      `gzip payload of ${data.length} bytes is truncated: a gzip stream has at least ${MIN_GZIP_BYTES} bytes`,
      details,
    );
  }
  return details;
}

function pastLimit(maxBytes: number, details: { compressedBytes: number }, cause?: unknown): ProtocolError {
  return payloadError(
    `gzip payload decompresses past maxDecompressedBytes (${maxBytes} bytes); ` +
      'it may be a gzip bomb. Raise maxDecompressedBytes if such payloads are expected',
    { ...details, maxDecompressedBytes: maxBytes },
    cause,
  );
}

function corrupt(error: unknown, details: { compressedBytes: number }): ProtocolError {
  return payloadError(`gzip payload is corrupt or truncated: ${(error as Error).message}`, details, error);
}

function trailing(data: Uint8Array, consumed: number, details: { compressedBytes: number }): ProtocolError {
  return payloadError(`gzip payload has ${data.length - consumed} bytes after its last gzip member`, details);
}

function gunzipBounded(data: Uint8Array, maxBytes: number): Uint8Array {
  const details = checkGunzip(data, maxBytes);
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
    if (code === 'ERR_BUFFER_TOO_LARGE') throw pastLimit(maxBytes, details, error);
    throw corrupt(error, details);
  }
  if (consumed !== data.length) throw trailing(data, consumed, details);
  if (output.length > maxBytes) throw pastLimit(maxBytes, details);
  return output;
}

/** Largest output chunk an async inflate or deflate asks zlib for at once. */
const MAX_CHUNK_BYTES = 1024 * 1024;

/**
 * The output chunk for an async zlib call expected to produce `bytes`: all of it in one chunk (up
 * to 1 MiB), plus one byte. Each chunk is one trip to the thread pool and back, about 30 us of
 * event loop; zlib's default 16 KiB would cost as much loop for 256 KiB as inflating it there.
 * The extra byte spares the trip zlib makes for a fresh chunk when the last one came back full.
 */
function chunkFor(bytes: number): number {
  return Math.max(zlibConstants.Z_MIN_CHUNK, Math.min(bytes, MAX_CHUNK_BYTES) + 1);
}

/**
 * {@link gunzipBounded} on libuv's thread pool: the output comes in chunks of the size the gzip
 * trailer announces (bounded by `maxBytes` and 1 MiB), and the stream is destroyed as soon as it
 * passes `maxBytes`, so a bomb costs at most one chunk past the limit.
 */
function gunzipBoundedAsync(data: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const details = checkGunzip(data, maxBytes);
    const engine = createGunzip({ chunkSize: chunkFor(Math.min(gzipInflatedSize(data) ?? 0, maxBytes)) });
    const chunks: Buffer[] = [];
    let size = 0;
    engine.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        engine.destroy();
        reject(pastLimit(maxBytes, details));
        return;
      }
      chunks.push(chunk);
    });
    engine.on('error', (error) => reject(corrupt(error, details)));
    engine.on('end', () => {
      if (engine.bytesWritten !== data.length) reject(trailing(data, engine.bytesWritten, details));
      else resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    engine.end(data);
  });
}

/** The size a gzip stream's trailer gives (ISIZE: its last member's input, modulo 2^32). */
function gzipInflatedSize(data: Uint8Array): number | undefined {
  if (data.length < MIN_GZIP_BYTES) return undefined;
  const at = data.length - 4;
  return (
    ((data[at] as number) | ((data[at + 1] as number) << 8) | ((data[at + 2] as number) << 16)) +
    (data[at + 3] as number) * 0x1000000
  );
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
 * `compressAsync` and `decompressAsync` do the same on libuv's thread pool (zlib's async API),
 * the latter rejecting with the same errors; `inflatedSizeHint` reads the gzip trailer's size.
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
    compressAsync: (data: Uint8Array): Promise<Uint8Array> =>
      new Promise((resolve, reject) => {
        // Deflated data is rarely larger than its input: one chunk, one trip to the pool.
        gzip(data, { level, chunkSize: chunkFor(data.length + 64) }, (error, bytes) =>
          error ? reject(error) : resolve(bytes),
        );
      }),
    decompressAsync: gunzipBoundedAsync,
    inflatedSizeHint: gzipInflatedSize,
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
