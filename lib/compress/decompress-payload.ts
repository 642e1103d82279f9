import { ProtocolError } from '../errors/index.js';
import type { Compressor } from './compressor.js';
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
    throw byRatioError(error, compressor, payload, limits);
  }
}

/**
 * The limits of {@link decompressPayloadOffloading}: those of {@link decompressPayload}, and the
 * size past which inflating moves off the event loop.
 *
 * @internal
 */
export interface OffloadDecompressLimits extends DecompressLimits {
  /** Payloads that inflate past this many bytes are inflated with `decompressAsync`. */
  readonly offloadThresholdBytes: number;
}

/**
 * {@link decompressPayload}, moving the work off the event loop (`decompressAsync`) when the
 * payload inflates past `offloadThresholdBytes`; the result is then a promise, rejected with the
 * errors `decompressPayload` throws. Whether it does is decided without trusting the payload:
 * when the most it may inflate (the limits' bound) is within the threshold, or the compressor
 * has no async form, it inflates here; when the format's size hint (gzip's trailer) is past the
 * threshold or missing, on the pool; when the hint is within it, here but no further than the
 * threshold, and a payload that inflates further after all (a lying trailer, several gzip
 * members) is inflated again on the pool.
 *
 * @throws ProtocolError as `decompressPayload`, for the part done here.
 * @internal
 */
export function decompressPayloadOffloading(
  payload: Uint8Array,
  compressType: number,
  limits: OffloadDecompressLimits,
): Uint8Array | Promise<Uint8Array> {
  if (compressType === CompressType.None) return payload;
  const compressor = limits.compressors.get(compressType);
  const offloadAt = limits.offloadThresholdBytes;
  const bound = Math.min(limits.maxDecompressedBytes, payload.length * limits.maxCompressionRatio);
  if (compressor.decompressAsync === undefined || bound <= offloadAt)
    return decompressPayload(payload, compressType, limits);
  const hint = compressor.inflatedSizeHint?.(payload);
  if (hint === undefined || hint > offloadAt) return inflateOffloaded(compressor, payload, limits);
  try {
    return compressor.decompress(payload, offloadAt);
  } catch (error) {
    if (!isPastLimit(error, offloadAt)) throw error;
    return inflateOffloaded(compressor, payload, limits);
  }
}

async function inflateOffloaded(
  compressor: Compressor,
  payload: Uint8Array,
  limits: DecompressLimits,
): Promise<Uint8Array> {
  const inflate = compressor.decompressAsync?.bind(compressor) as NonNullable<Compressor['decompressAsync']>;
  const byRatio = payload.length * limits.maxCompressionRatio;
  if (byRatio >= limits.maxDecompressedBytes) return inflate(payload, limits.maxDecompressedBytes);
  try {
    return await inflate(payload, byRatio);
  } catch (error) {
    throw byRatioError(error, compressor, payload, limits);
  }
}

/** Whether `error` is a compressor's refusal to inflate past exactly `maxBytes`. */
function isPastLimit(error: unknown, maxBytes: number): boolean {
  return error instanceof ProtocolError && error.details.maxDecompressedBytes === maxBytes;
}

/** A refusal at the ratio's bound, told as the ratio's; any other error as it is. */
function byRatioError(
  error: unknown,
  compressor: Compressor,
  payload: Uint8Array,
  limits: DecompressLimits,
): unknown {
  if (!isPastLimit(error, payload.length * limits.maxCompressionRatio)) return error;
  return new ProtocolError(
    `${compressor.name} payload of ${payload.length} bytes inflates more than maxCompressionRatio (${limits.maxCompressionRatio}) times; ` +
      'it may be a decompression bomb. Raise maxCompressionRatio if such payloads are expected',
    {
      field: 'payload',
      cause: error,
      details: { compressedBytes: payload.length, maxCompressionRatio: limits.maxCompressionRatio },
    },
  );
}
