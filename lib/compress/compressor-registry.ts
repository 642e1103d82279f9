import { ProtocolError } from '../errors/index.js';
import { type NumberedKind, NumberedRegistry } from '../util/numbered-registry.js';
import type { Compressor } from './compressor.js';
import { gzipCompressor } from './gzip-compressor.js';
import { noneCompressor } from './none-compressor.js';

const COMPRESSOR_KIND: NumberedKind<Compressor> = {
  noun: 'compressor',
  numberKey: 'compressType',
  bits: 3,
  methods: ['compress', 'decompress'],
  unknown: (compressType, registered) =>
    new ProtocolError(
      `unknown compress type ${compressType}; registered: ${registered}. Register a compressor for it on both sides, or send one of these`,
      { field: 'compressType', details: { compressType } },
    ),
};

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
 * @group Codecs
 */
export class CompressorRegistry extends NumberedRegistry<Compressor> {
  constructor() {
    super(COMPRESSOR_KIND);
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
 * @group Codecs
 */
export function createDefaultCompressors(): CompressorRegistry {
  return new CompressorRegistry().register(noneCompressor).register(gzipCompressor);
}
