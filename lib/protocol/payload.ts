import type { Codec, CodecHint } from '../codec/codec.js';
import { type CompressedPayload, compressPayloadOffloading } from '../compress/compress-payload.js';
import type { Compressor } from '../compress/compressor.js';
import { decompressPayloadOffloading, type OffloadDecompressLimits } from '../compress/decompress-payload.js';
import { describeValue } from '../util/validate.js';
import { EMPTY_PAYLOAD } from './message.js';

/** The hint of a value without a protobuf type: one object for every call, never written. */
const NO_HINT: CodecHint = Object.freeze({});

/**
 * The thresholds {@link encodePayload} compresses by (a client's and a server's resolved options
 * have them).
 *
 * @internal
 */
export interface CompressThresholds {
  /** Payloads larger than this many bytes are compressed. */
  readonly compressThresholdBytes: number;
  /** Payloads larger than this many bytes are compressed off the event loop (or `Infinity`). */
  readonly offloadThresholdBytes: number;
}

/**
 * What {@link encodePayload} gives when asked to compress: the bytes with their compress type
 * (none when the payload was within the threshold), or a promise of them when compressed off
 * the event loop; without a compressor, the bytes alone.
 *
 * @internal
 */
export type EncodedPayload = Uint8Array | CompressedPayload | Promise<CompressedPayload>;

/**
 * Encodes `value` into a frame's payload: `undefined` as no bytes, else with `codec` (and the
 * protobuf `type`, when given), or, without a codec, the bytes of a raw call as they are; then,
 * with a `compressor`, compresses them when longer than `compressThresholdBytes` (on the thread
 * pool, as a promise, when longer than `offloadThresholdBytes` and the compressor can).
 *
 * @throws CodecError when the codec cannot encode `value`; TypeError when a raw value is not a
 *   `Uint8Array`; whatever the compressor throws (its async form rejects the promise instead).
 * @example
 * ```ts
 * const payload = encodePayload({ A: 7, B: 8 }, jsonCodec, undefined); // {"A":7,"B":8}
 * const sent = encodePayload(big, jsonCodec, undefined, gzipCompressor, options);
 * if (sent instanceof Promise) sent.then(({ payload, compressType }) => send(payload, compressType));
 * ```
 * @internal
 */
export function encodePayload(value: unknown, codec: Codec | undefined, type: CodecHint['type']): Uint8Array;
export function encodePayload(
  value: unknown,
  codec: Codec | undefined,
  type: CodecHint['type'],
  compressor: Compressor | undefined,
  thresholds: CompressThresholds,
): EncodedPayload;
export function encodePayload(
  value: unknown,
  codec: Codec | undefined,
  type: CodecHint['type'],
  compressor?: Compressor,
  thresholds?: CompressThresholds,
): EncodedPayload {
  let payload: Uint8Array;
  if (value === undefined) payload = EMPTY_PAYLOAD;
  else if (codec !== undefined) payload = codec.encode(value, type === undefined ? NO_HINT : { type });
  else if (value instanceof Uint8Array) payload = value;
  else throw new TypeError(`a raw call takes its payload as a Uint8Array, got ${describeValue(value)}`);
  if (compressor === undefined || thresholds === undefined) return payload;
  return compressPayloadOffloading(
    payload,
    compressor,
    thresholds.compressThresholdBytes,
    thresholds.offloadThresholdBytes,
  );
}

/**
 * Decodes a frame's payload: inflates it for its compress type within the limits
 * (`maxDecompressedBytes`, `maxCompressionRatio`; on the thread pool past
 * `offloadThresholdBytes`), then decodes it with `codec` (and the protobuf `type`, when given);
 * no bytes decode to `undefined`. Without a codec, the inflated bytes are the result (a raw call,
 * a proxy). The result is a promise only when the payload inflated off the event loop (a codec
 * decodes bytes to data, never to a promise).
 *
 * @throws ProtocolError (`field: 'payload'`) past a limit, for a corrupt payload or an unknown
 *   compress type; CodecError when the bytes do not decode. Off the event loop, the promise
 *   rejects with them instead.
 * @example
 * ```ts
 * const args = decodePayload(request.payload, request.compressType, jsonCodec, undefined, options);
 * if (args instanceof Promise) args.then(invoke, refuse);
 * else invoke(args);
 * ```
 * @internal
 */
export function decodePayload(
  payload: Uint8Array,
  compressType: number,
  codec: Codec | undefined,
  type: CodecHint['type'],
  limits: OffloadDecompressLimits,
): unknown {
  const inflated = decompressPayloadOffloading(payload, compressType, limits);
  // Only payloads inflated on the thread pool pay for this closure.
  if (inflated instanceof Promise) return inflated.then((bytes) => decodeInflated(bytes, codec, type));
  return decodeInflated(inflated, codec, type);
}

/**
 * The decoding step of {@link decodePayload}, for bytes already inflated: with `codec` (no bytes
 * are `undefined`), or the bytes themselves without one.
 *
 * @throws CodecError when the bytes do not decode.
 * @example
 * ```ts
 * decodeInflated(new TextEncoder().encode('{"C":56}'), jsonCodec, undefined); // { C: 56 }
 * ```
 * @internal
 */
export function decodeInflated(
  bytes: Uint8Array,
  codec: Codec | undefined,
  type: CodecHint['type'],
): unknown {
  if (codec === undefined) return bytes;
  return bytes.length === 0 ? undefined : codec.decode(bytes, type === undefined ? NO_HINT : { type });
}
