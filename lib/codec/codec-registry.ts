import { CodecError } from '../errors/index.js';
import { type NumberedKind, NumberedRegistry } from '../util/numbered-registry.js';
import type { Codec } from './codec.js';
import { jsonCodec } from './json-codec.js';
import { msgpackCodec } from './msgpack-codec.js';
import { protobufCodec } from './protobuf-codec.js';
import { rawCodec } from './raw-codec.js';

const CODEC_KIND: NumberedKind<Codec> = {
  noun: 'codec',
  numberKey: 'serializeType',
  bits: 4,
  methods: ['encode', 'decode'],
  unknown: (serializeType, registered) =>
    new CodecError(
      `unknown serialize type ${serializeType}; registered: ${registered}. Register a codec for it on both sides, or use one of these`,
      { details: { serializeType } },
    ),
};

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
 * @group Codecs
 */
export class CodecRegistry extends NumberedRegistry<Codec> {
  constructor() {
    super(CODEC_KIND);
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
 * @group Codecs
 */
export function createDefaultCodecs(): CodecRegistry {
  return new CodecRegistry()
    .register(rawCodec)
    .register(jsonCodec)
    .register(protobufCodec)
    .register(msgpackCodec);
}
