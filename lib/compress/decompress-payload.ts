import { ProtocolError } from '../errors/index.js';
import { CompressType } from './compressor.js';
import type { CompressorRegistry } from './compressor-registry.js';

/**
 * Default largest payload a compressed payload may inflate to: 4 MiB.
 *
 * @group Codecs
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024;
/**
 * Default most a compressed payload may inflate relative to its size: 200 times (the default of
 * Apache's `DeflateInflateRatioLimit`; JSON typically compresses 5 to 20 times, a run of one
 * byte 1,000 times).
 * @group Codecs
 */
export const DEFAULT_MAX_COMPRESSION_RATIO = 200;

/**
 * The limits {@link decompressPayload} applies.
 *
 * @group Codecs
 */
export interface DecompressLimits {
  /** Compressors by compress type. */
  readonly compressors: CompressorRegistry;
  /** Largest decompressed payload in bytes. */
  readonly maxDecompressedBytes: number;
  /** Most the payload may inflate: decompressed bytes over compressed bytes. */
  readonly maxCompressionRatio: number;
}

/**
 * Decompresses a frame's payload for its compress type (returned as is for none), inflating at
 * most `min(maxDecompressedBytes, payload bytes x maxCompressionRatio)`: a payload that inflates
 * past either bound is refused without the bytes past the bound being made, so a small request
 * cannot buy a large decode.
 *
 * @throws ProtocolError (`field: 'payload'`) past a bound (naming the option to raise), for a
 *   corrupt payload, or for a compress type nothing is registered for.
 * @example
 * ```ts
 * const bytes = decompressPayload(message.payload, message.compressType, {
 *   compressors: createDefaultCompressors(),
 *   maxDecompressedBytes: 4 * 1024 * 1024,
 *   maxCompressionRatio: 200,
 * });
 * ```
 * @group Codecs
 */
export function decompressPayload(
  payload: Uint8Array,
  compressType: number,
  limits: DecompressLimits,
): Uint8Array {
  if (compressType === CompressType.None) return payload;
  const compressor = limits.compressors.get(compressType);
  const byRatio = payload.length * limits.maxCompressionRatio;
  if (byRatio >= limits.maxDecompressedBytes)
    return compressor.decompress(payload, limits.maxDecompressedBytes);
  try {
    return compressor.decompress(payload, byRatio);
  } catch (error) {
    const past = error instanceof ProtocolError && error.details.maxDecompressedBytes === byRatio;
    if (!past) throw error;
    throw new ProtocolError(
      'payload',
      `${compressor.name} payload of ${payload.length} bytes inflates more than maxCompressionRatio (${limits.maxCompressionRatio}) times; ` +
        'it may be a decompression bomb. Raise maxCompressionRatio if such payloads are expected',
      {
        cause: error,
        details: { compressedBytes: payload.length, maxCompressionRatio: limits.maxCompressionRatio },
      },
    );
  }
}
