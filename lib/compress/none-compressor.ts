import { ProtocolError } from '../errors/index.js';
import type { Compressor } from './compressor.js';
import { CompressType } from './compressor.js';

/**
 * The pass-through compressor (compress type 0, no compression), so that a caller can look up
 * every frame's compress type in a {@link CompressorRegistry} without a special case. Neither
 * direction copies.
 *
 * `decompress` applies the same limit as real compressors: a payload longer than `maxBytes`
 * throws a `ProtocolError` (`field: 'payload'`); a negative or NaN `maxBytes` a `RangeError`.
 *
 * @example
 * ```ts
 * noneCompressor.decompress(payload, maxDecompressedBytes) === payload; // true when within the limit
 * ```
 * @group Codecs
 */
export const noneCompressor: Compressor = Object.freeze({
  compressType: CompressType.None,
  name: 'none',
  compress: (data: Uint8Array): Uint8Array => data,
  decompress(data: Uint8Array, maxBytes: number): Uint8Array {
    if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a number >= 0, got ${maxBytes}`);
    if (data.length > maxBytes) {
      throw new ProtocolError(
        `payload of ${data.length} bytes exceeds maxDecompressedBytes (${maxBytes} bytes); ` +
          'raise maxDecompressedBytes if such payloads are expected',
        { field: 'payload', details: { maxDecompressedBytes: maxBytes, payloadBytes: data.length } },
      );
    }
    return data;
  },
});
