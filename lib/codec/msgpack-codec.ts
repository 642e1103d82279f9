import { type Options as MsgpackrOptions, Packr } from 'msgpackr';
import type { Codec } from './codec.js';
import { SerializeType } from './codec.js';
import { createCodecError, guard } from './codec-error.js';

/**
 * Options of {@link createMsgpackCodec}.
 *
 * @group Codecs
 */
export interface MsgpackCodecOptions {
  /**
   * msgpackr options laid over the Go-compatible defaults, to opt into msgpackr's own extensions
   * (`moreTypes`, `structuredClone`, `useRecords`...). Only peers running msgpackr with the same
   * options can read what those produce. Default: none.
   */
  readonly msgpackr?: MsgpackrOptions;
  /**
   * Write a whole number that does not fit in 32 bits (but is a safe integer) as a MessagePack
   * int64 instead of a float64, since Go's msgpack refuses a float for an integer field.
   * Default: `true`.
   */
  readonly integersAsInt64?: boolean;
}

// msgpackr implements 'auto' (number when it fits 2^53, else bigint) but its typings omit it.
const INT64_AUTO = 'auto' as string as NonNullable<MsgpackrOptions['int64AsType']>;

const GO_COMPATIBLE_OPTIONS: MsgpackrOptions = {
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  moreTypes: false,
  structuredClone: false,
  bundleStrings: false,
  encodeUndefinedAsNil: true,
  int64AsType: INT64_AUTO,
  copyBuffers: true,
};

const INT32_MIN = -0x8000_0000;
const UINT32_MAX = 0xffff_ffff;

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Returns `value` with every safe integer outside the 32-bit range turned into a BigInt (which
 * msgpackr writes as int64), copying only the arrays, maps and plain objects on the way to one.
 */
function widenIntegers(value: unknown, ancestors: Set<object>, codec: Codec): unknown {
  if (typeof value === 'number') {
    return (value < INT32_MIN || value > UINT32_MAX) && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (typeof value !== 'object' || value === null) return value;
  const isMap = value instanceof Map;
  if (!Array.isArray(value) && !isMap && !isPlainObject(value)) return value;
  if (ancestors.has(value)) {
    throw createCodecError(codec, 'msgpack codec cannot encode a cyclic structure; break the cycle first');
  }
  ancestors.add(value);
  let result: unknown = value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, index) => {
      const widened = widenIntegers(item, ancestors, codec);
      if (widened !== item) {
        copy ??= value.slice();
        copy[index] = widened;
      }
    });
    result = copy ?? value;
  } else if (isMap) {
    let changed = false;
    const entries = Array.from(value, ([key, item]: [unknown, unknown]) => {
      const widenedKey = widenIntegers(key, ancestors, codec);
      const widened = widenIntegers(item, ancestors, codec);
      changed ||= widenedKey !== key || widened !== item;
      return [widenedKey, widened] as const;
    });
    result = changed ? new Map(entries) : value;
  } else if (isPlainObject(value)) {
    let copy: Record<string, unknown> | undefined;
    for (const key of Object.keys(value)) {
      const item = value[key];
      const widened = widenIntegers(item, ancestors, codec);
      if (widened !== item) {
        copy ??= { ...value };
        copy[key] = widened;
      }
    }
    result = copy ?? value;
  }
  ancestors.delete(value);
  return result;
}

/**
 * Creates a MessagePack codec (serialize type 3) on msgpackr. By default it reads and writes the
 * bytes Go's `github.com/vmihailenco/msgpack` does: objects are plain string-keyed maps (fixmap
 * when small), no msgpackr-only extensions (records, structured clone, bundled strings,
 * `moreTypes`), `undefined` is nil, a `Uint8Array` is bin, a `Date` is the timestamp extension.
 *
 * 64-bit integers decode as a `number` when within ±2^53 (exact), and as a `bigint` beyond;
 * a `bigint` encodes as int64 (uint64 above 2^63). Safe integers past 32 bits encode as int64
 * (see {@link MsgpackCodecOptions.integersAsInt64}). Bin decodes to a plain `Uint8Array` copy, never
 * a view of the frame. An empty payload decodes to `undefined`. A key `__proto__` decodes as `__proto_`.
 *
 * `encode` throws a `CodecError` for what MessagePack cannot hold (a function or a symbol, as
 * the JSON codec does; a symbol anywhere; a cycle; a BigInt past 64 bits); `decode` throws a `CodecError` for truncated, trailing or garbage bytes.
 *
 * @example
 * ```ts
 * const codec = createMsgpackCodec();
 * codec.encode({ A: 7, B: 8 }); // 82 a1 41 07 a1 42 08, as Go writes it
 * const msgpackrOnly = createMsgpackCodec({ msgpackr: { moreTypes: true, structuredClone: true } });
 * ```
 * @group Codecs
 */
export function createMsgpackCodec(options: MsgpackCodecOptions = {}): Codec {
  const packr = new Packr({ ...GO_COMPATIBLE_OPTIONS, ...options.msgpackr });
  const integersAsInt64 = options.integersAsInt64 ?? true;
  const codec: Codec = Object.freeze({
    serializeType: SerializeType.MsgPack,
    name: 'msgpack',
    encode(value: unknown): Uint8Array {
      if (typeof value === 'function' || typeof value === 'symbol') {
        // msgpackr would write nil for a function: a handler that returned a method instead of
        // calling it would look like one that returned nothing. JSON refuses both too.
        throw createCodecError(
          codec,
          `msgpack codec cannot encode a ${typeof value}; pass an object, array, string, number, boolean, null or bytes`,
        );
      }
      return guard(codec, 'msgpack codec cannot encode the value', () =>
        packr.pack(integersAsInt64 ? widenIntegers(value, new Set(), codec) : value),
      );
    },
    decode(bytes: Uint8Array): unknown {
      if (bytes.length === 0) return undefined;
      return guard(codec, 'msgpack codec received a payload that is not valid MessagePack', () =>
        // A plain view makes bin values plain Uint8Array copies even when the payload is a Buffer,
        // and keeps the property msgpackr caches on its input off the caller's array.
        packr.unpack(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
      );
    },
  });
  return codec;
}

/**
 * The default MessagePack codec (serialize type 3), compatible with Go's
 * `github.com/vmihailenco/msgpack`; see {@link createMsgpackCodec} for the rules.
 *
 * Throws `CodecError` as described there.
 *
 * @example
 * ```ts
 * msgpackCodec.decode(Uint8Array.from([0x81, 0xa1, 0x43, 0x38])); // { C: 56 }
 * ```
 * @group Codecs
 */
export const msgpackCodec: Codec = createMsgpackCodec();
