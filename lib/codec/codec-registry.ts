import { CodecError } from '../errors/index.js';
import type { Codec } from './codec.js';
import { jsonCodec } from './json-codec.js';
import { msgpackCodec } from './msgpack-codec.js';
import { protobufCodec } from './protobuf-codec.js';
import { rawCodec } from './raw-codec.js';

const MAX_SERIALIZE_TYPE = 15;

function checkCodec(codec: Codec): void {
  if (typeof codec !== 'object' || codec === null) {
    throw new RangeError(`codec must be an object with serializeType, name, encode and decode, got ${codec}`);
  }
  const { serializeType, name } = codec;
  if (!Number.isInteger(serializeType) || serializeType < 0 || serializeType > MAX_SERIALIZE_TYPE) {
    throw new RangeError(
      `codec.serializeType must be an integer from 0 to ${MAX_SERIALIZE_TYPE} (a 4-bit header field), got ${serializeType}`,
    );
  }
  if (typeof name !== 'string' || name === '') {
    throw new RangeError(`codec.name must be a non-empty string, got ${String(name)}`);
  }
  if (typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new RangeError(`codec '${name}' must have encode and decode functions`);
  }
}

/**
 * The codecs a client or server can use, by serialize type (0..15).
 *
 * Registering a codec for a number that already has one replaces it (so the defaults can be
 * swapped, e.g. a MessagePack codec with other options). `register` throws a `RangeError` when
 * the serialize type is not an integer 0..15 or the codec is malformed; `get` throws a
 * `CodecError` (`details.serializeType`) for a number nothing is registered for.
 *
 * @example
 * ```ts
 * const codecs = createDefaultCodecs();
 * codecs.register(createMsgpackCodec({ msgpackr: { moreTypes: true } })); // replaces 3
 * const bytes = codecs.get(SerializeType.JSON).encode({ A: 7, B: 8 });
 * codecs.get(9); // throws CodecError: unknown serialize type 9; registered: 0 (raw), 1 (json), ...
 * ```
 */
export class CodecRegistry {
  readonly #codecs = new Map<number, Codec>();

  /**
   * Adds `codec` under its serialize type, replacing any codec registered there; returns the
   * registry. Throws a `RangeError` when the serialize type is not an integer 0..15, the name is
   * empty, or encode/decode are missing.
   *
   * @example
   * ```ts
   * new CodecRegistry().register(jsonCodec).register(msgpackCodec);
   * ```
   */
  register(codec: Codec): this {
    checkCodec(codec);
    this.#codecs.set(codec.serializeType, codec);
    return this;
  }

  /**
   * The codec for `serializeType`. Throws a `CodecError` naming the number and listing the
   * registered ones when there is none.
   *
   * @example
   * ```ts
   * const value = codecs.get(header.serializeType).decode(payload);
   * ```
   */
  get(serializeType: number): Codec {
    const codec = this.#codecs.get(serializeType);
    if (codec !== undefined) return codec;
    const registered = [...this.#codecs.values()]
      .sort((a, b) => a.serializeType - b.serializeType)
      .map((known) => `${known.serializeType} (${known.name})`)
      .join(', ');
    throw new CodecError(
      `unknown serialize type ${serializeType}; registered: ${registered === '' ? 'none' : registered}. ` +
        'Register a codec for it on both sides, or use one of these',
      { details: { serializeType } },
    );
  }

  /**
   * Whether a codec is registered for `serializeType`. Never throws.
   *
   * @example
   * ```ts
   * if (!codecs.has(4)) codecs.register(cborCodec);
   * ```
   */
  has(serializeType: number): boolean {
    return this.#codecs.has(serializeType);
  }
}

/**
 * A new registry holding the four built-in codecs: 0 raw, 1 JSON, 2 Protobuf, 3 MsgPack.
 * Each call returns a fresh registry, so registering on one does not change another.
 *
 * Never throws.
 *
 * @example
 * ```ts
 * const codecs = createDefaultCodecs();
 * codecs.has(SerializeType.MsgPack); // true
 * ```
 */
export function createDefaultCodecs(): CodecRegistry {
  return new CodecRegistry()
    .register(rawCodec)
    .register(jsonCodec)
    .register(protobufCodec)
    .register(msgpackCodec);
}
