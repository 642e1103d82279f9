import type { Codec } from './codec.js';
import { SerializeType } from './codec.js';
import { createCodecError, describeType } from './codec-error.js';

/**
 * The raw-bytes codec (serialize type 0): the payload is the bytes themselves, as Go's `[]byte`
 * codec sends them. Neither direction copies.
 *
 * `encode` throws a `CodecError` naming the type received when the value is not a `Uint8Array`
 * (a `Buffer` is one). `decode` never throws.
 *
 * @example
 * ```ts
 * const bytes = rawCodec.encode(new TextEncoder().encode('hi')); // the same Uint8Array
 * rawCodec.encode('hi'); // throws CodecError: raw codec encodes only a Uint8Array, received string
 * ```
 * @group Codecs
 */
export const rawCodec: Codec = Object.freeze({
  serializeType: SerializeType.Raw,
  name: 'raw',
  encode(value: unknown): Uint8Array {
    if (value instanceof Uint8Array) return value;
    throw createCodecError(
      rawCodec,
      `raw codec encodes only a Uint8Array (or Buffer), received ${describeType(value)}; ` +
        'pass bytes, or pick another serialize type',
    );
  },
  decode(bytes: Uint8Array): Uint8Array {
    return bytes;
  },
});
