import type { Compressor } from './compressor.js';
import { CompressType } from './compressor.js';

/**
 * Payloads up to this many bytes are sent uncompressed (rpcx and Phobos use the same default).
 *
 * @example
 * ```ts
 * compressPayload(payload, gzipCompressor, DEFAULT_COMPRESS_THRESHOLD_BYTES);
 * ```
 * @group Codecs
 */
export const DEFAULT_COMPRESS_THRESHOLD_BYTES = 1024;

/**
 * Payloads larger than this many bytes are compressed and decompressed off the event loop (on
 * libuv's thread pool) by default: 64 KiB. Measured on 2 shared cores (benchmarks/micro/compress.ts):
 * gzip at level 1 of 64 KiB holds the event loop 0.7 ms, offloaded 0.3 ms of the loop's CPU
 * (256 KiB: 2.8 ms against 0.5 ms); gunzip breaks even at 64 KiB (0.15 ms either way) and gains
 * past it (256 KiB: 0.63 ms against 0.13 ms). Below about 16 KiB a trip to the pool costs the
 * loop more than the work itself.
 *
 * @example
 * ```ts
 * const client = new Client(address, { offloadThresholdBytes: DEFAULT_OFFLOAD_THRESHOLD_BYTES * 4 });
 * ```
 * @group Codecs
 */
export const DEFAULT_OFFLOAD_THRESHOLD_BYTES = 64 * 1024;

/**
 * A payload ready for a frame, with the compress type to put in its header.
 *
 * @example
 * ```ts
 * const { payload, compressType }: CompressedPayload = compressPayload(bytes, gzipCompressor);
 * ```
 * @group Codecs
 */
export interface CompressedPayload {
  /** The bytes to send: compressed, or the original payload itself. */
  readonly payload: Uint8Array;
  /** The compress type of `payload`: the compressor's, or 0 (none) when it was not compressed. */
  readonly compressType: number;
}

/**
 * Compresses `payload` with `compressor` only when it is longer than `thresholdBytes`; otherwise
 * returns the same payload with compress type 0 (none).
 *
 * Throws a `RangeError` when `thresholdBytes` is negative or NaN; whatever `compressor.compress`
 * throws passes through.
 *
 * @example
 * ```ts
 * compressPayload(new Uint8Array(10), gzipCompressor).compressType;   // 0: not worth it
 * compressPayload(new Uint8Array(4096), gzipCompressor).compressType; // 1: gzip
 * ```
 * @group Codecs
 */
export function compressPayload(
  payload: Uint8Array,
  compressor: Compressor,
  thresholdBytes: number = DEFAULT_COMPRESS_THRESHOLD_BYTES,
): CompressedPayload {
  if (!(thresholdBytes >= 0))
    throw new RangeError(`thresholdBytes must be a number >= 0, got ${thresholdBytes}`);
  if (compressor.compressType === CompressType.None || payload.length <= thresholdBytes) {
    return { payload, compressType: CompressType.None };
  }
  return { payload: compressor.compress(payload), compressType: compressor.compressType };
}

/**
 * {@link compressPayload}, on the compressor's `compressAsync` (off the event loop) when the
 * payload is larger than `offloadThresholdBytes` and the compressor has one; the result is then a
 * promise, rejected with what `compressAsync` rejects with.
 *
 * @throws RangeError as `compressPayload`.
 * @internal
 */
export function compressPayloadOffloading(
  payload: Uint8Array,
  compressor: Compressor,
  thresholdBytes: number,
  offloadThresholdBytes: number,
): CompressedPayload | Promise<CompressedPayload> {
  const compressAsync = compressor.compressAsync;
  // compressPayload checks the threshold; a NaN one fails `<=` and is checked below.
  if (
    compressAsync === undefined ||
    payload.length <= offloadThresholdBytes ||
    payload.length <= thresholdBytes ||
    compressor.compressType === CompressType.None
  )
    return compressPayload(payload, compressor, thresholdBytes);
  if (!(thresholdBytes >= 0))
    throw new RangeError(`thresholdBytes must be a number >= 0, got ${thresholdBytes}`);
  const compressType = compressor.compressType;
  return compressAsync.call(compressor, payload).then((bytes) => ({ payload: bytes, compressType }));
}
