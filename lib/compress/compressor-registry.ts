import { ProtocolError } from '../errors/index.js';
import type { Compressor } from './compressor.js';
import { gzipCompressor } from './gzip-compressor.js';
import { noneCompressor } from './none-compressor.js';

const MAX_COMPRESS_TYPE = 7;

function checkCompressor(compressor: Compressor): void {
  if (typeof compressor !== 'object' || compressor === null) {
    throw new RangeError(
      `compressor must be an object with compressType, name, compress and decompress, got ${compressor}`,
    );
  }
  const { compressType, name } = compressor;
  if (!Number.isInteger(compressType) || compressType < 0 || compressType > MAX_COMPRESS_TYPE) {
    throw new RangeError(
      `compressor.compressType must be an integer from 0 to ${MAX_COMPRESS_TYPE} (a 3-bit header field), got ${compressType}`,
    );
  }
  if (typeof name !== 'string' || name === '') {
    throw new RangeError(`compressor.name must be a non-empty string, got ${String(name)}`);
  }
  if (typeof compressor.compress !== 'function' || typeof compressor.decompress !== 'function') {
    throw new RangeError(`compressor '${name}' must have compress and decompress functions`);
  }
}

/**
 * The compressors a client or server can use, by compress type (0..7). Compress type 0 (none)
 * is a pass-through {@link noneCompressor}, so every frame's type can be looked up alike.
 *
 * Registering a compressor for a number that already has one replaces it. `register` throws a
 * `RangeError` when the compress type is not an integer 0..7 or the compressor is malformed;
 * `get` throws a `ProtocolError` (`field: 'compressType'`, `details.compressType`) for a number
 * nothing is registered for, since it came from a frame.
 *
 * @example
 * ```ts
 * const compressors = createDefaultCompressors();
 * const payload = compressors.get(header.compressType).decompress(body, maxDecompressedBytes);
 * compressors.get(5); // throws ProtocolError: unknown compress type 5; registered: 0 (none), 1 (gzip)
 * ```
 */
export class CompressorRegistry {
  readonly #compressors = new Map<number, Compressor>();

  /**
   * Adds `compressor` under its compress type, replacing any registered there; returns the
   * registry. Throws a `RangeError` when the compress type is not an integer 0..7, the name is
   * empty, or compress/decompress are missing.
   *
   * @example
   * ```ts
   * new CompressorRegistry().register(noneCompressor).register(createGzipCompressor({ level: 9 }));
   * ```
   */
  register(compressor: Compressor): this {
    checkCompressor(compressor);
    this.#compressors.set(compressor.compressType, compressor);
    return this;
  }

  /**
   * The compressor for `compressType`. Throws a `ProtocolError` naming the number and listing the
   * registered ones when there is none.
   *
   * @example
   * ```ts
   * const gzip = compressors.get(CompressType.Gzip);
   * ```
   */
  get(compressType: number): Compressor {
    const compressor = this.#compressors.get(compressType);
    if (compressor !== undefined) return compressor;
    const registered = [...this.#compressors.values()]
      .sort((a, b) => a.compressType - b.compressType)
      .map((known) => `${known.compressType} (${known.name})`)
      .join(', ');
    throw new ProtocolError(
      'compressType',
      `unknown compress type ${compressType}; registered: ${registered === '' ? 'none' : registered}. ` +
        'Register a compressor for it on both sides, or send one of these',
      { details: { compressType } },
    );
  }

  /**
   * Whether a compressor is registered for `compressType`. Never throws.
   *
   * @example
   * ```ts
   * compressors.has(CompressType.Gzip); // true for the defaults
   * ```
   */
  has(compressType: number): boolean {
    return this.#compressors.has(compressType);
  }
}

/**
 * A new registry holding 0 (none, pass-through) and 1 (gzip). Each call returns a fresh
 * registry.
 *
 * Never throws.
 *
 * @example
 * ```ts
 * const compressors = createDefaultCompressors();
 * compressors.get(CompressType.Gzip).name; // 'gzip'
 * ```
 */
export function createDefaultCompressors(): CompressorRegistry {
  return new CompressorRegistry().register(noneCompressor).register(gzipCompressor);
}
