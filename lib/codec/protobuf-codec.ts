import type { Enum, Field, Type } from 'protobufjs';
import type { Codec, CodecHint } from './codec.js';
import { SerializeType } from './codec.js';
import { createCodecError, guard } from './codec-error.js';

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const UNSIGNED_LONG_TYPES = new Set(['uint64', 'fixed64']);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

interface LongBits {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
}

function isEnum(resolved: Type | Enum): resolved is Enum {
  return !('fieldsArray' in resolved);
}

function typeName(type: Type): string {
  return type.fullName.replace(/^\./, '');
}

function toLongBits(value: string | bigint, unsigned: boolean): LongBits | undefined {
  if (typeof value === 'string' && !/^\s*-?\d+\s*$/.test(value)) return undefined;
  const integer = typeof value === 'bigint' ? value : BigInt(value.trim());
  if (integer < (unsigned ? 0n : INT64_MIN) || integer > (unsigned ? UINT64_MAX : INT64_MAX))
    return undefined;
  const bits = BigInt.asUintN(64, integer);
  return { low: Number(bits & 0xffff_ffffn) | 0, high: Number(bits >> 32n) | 0, unsigned };
}

function normalizeValue(field: Field, value: unknown): unknown {
  const resolved = field.resolvedType;
  if (resolved !== null) {
    if (!isEnum(resolved)) return normalizeMessage(resolved, value);
    return typeof value === 'string' && Object.hasOwn(resolved.values, value)
      ? resolved.values[value]
      : value;
  }
  if (LONG_TYPES.has(field.type) && (typeof value === 'string' || typeof value === 'bigint')) {
    return toLongBits(value, UNSIGNED_LONG_TYPES.has(field.type)) ?? value;
  }
  return value;
}

function normalizeField(field: Field, value: unknown): unknown {
  if (field.map) {
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    const normalized = entries.map(([key, item]) => [key, normalizeValue(field, item)] as const);
    return normalized.some(([, item], index) => item !== entries[index]?.[1])
      ? Object.fromEntries(normalized)
      : value;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) return value;
    const normalized = value.map((item: unknown) => normalizeValue(field, item));
    return normalized.some((item, index) => item !== value[index]) ? normalized : value;
  }
  return normalizeValue(field, value);
}

/**
 * Returns `value` with the forms `decode` produces turned into forms `verify` accepts: enum
 * names into their numbers, decimal strings and BigInts of 64-bit fields into Long bits.
 */
function normalizeMessage(type: Type, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array || Array.isArray(value)) {
    return value;
  }
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const field of type.fieldsArray) {
    field.resolve();
    const item = Object.hasOwn(source, field.name) ? source[field.name] : undefined;
    if (item === undefined || item === null) continue;
    const normalized = normalizeField(field, item);
    if (normalized !== item) {
      copy ??= { ...source };
      copy[field.name] = normalized;
    }
  }
  return copy ?? value;
}

/**
 * The Protocol Buffers codec (serialize type 2), on protobufjs. The message type comes from the
 * hint (`{ type }`), given when a method is registered or per call.
 *
 * `encode` passes a `Uint8Array` through as already-encoded bytes; otherwise it checks the value
 * with `type.verify` and writes `type.encode(value)`. Enum names and 64-bit
 * integers as decimal strings or BigInts are accepted, so a decoded message encodes again.
 * `decode` with a type returns the protobufjs message (`type.decode(bytes)`): its fields are
 * properties, unset fields read as their defaults (from the prototype), 64-bit integers are
 * `Long`s, enums numbers, bytes `Buffer`s, and `JSON.stringify` gives the canonical JSON form;
 * `type.toObject(message, options)` converts it further. Such a message encodes again without
 * any check (the fast path of a server echoing or amending what it received). Without a type
 * `decode` returns the bytes as they are.
 *
 * Throws a `CodecError` when encoding a non-bytes value without a type, when `verify` rejects
 * the value (its message is kept), or when the bytes are not a valid message of the type.
 *
 * @example
 * ```ts
 * const root = protobuf.parse('syntax = "proto3"; message Args { int32 A = 1; int32 B = 2; }').root;
 * const Args = root.lookupType('Args');
 * protobufCodec.encode({ A: 7, B: 8 }, { type: Args }); // 08 07 10 08
 * protobufCodec.decode(Uint8Array.of(8, 7, 16, 8), { type: Args }); // { A: 7, B: 8 }
 * ```
 * @group Codecs
 */
export const protobufCodec: Codec = Object.freeze({
  serializeType: SerializeType.Protobuf,
  name: 'protobuf',
  encode(value: unknown, hint?: CodecHint): Uint8Array {
    if (value instanceof Uint8Array) return value;
    const type = hint?.type;
    if (type === undefined) {
      throw createCodecError(
        protobufCodec,
        'protobuf codec needs a message type to encode an object: give a protobufjs Type when the method ' +
          'is registered or in the call options, or pass already-encoded bytes',
      );
    }
    // A decoded message (or one made with type.create/fromObject) is already in shape: no checks.
    if (value instanceof type.ctor) return type.encode(value).finish();
    const what = (): string => `protobuf codec cannot encode the value as ${typeName(type)}`;
    return guard(protobufCodec, what, () => {
      let input = value as Record<string, unknown>;
      let problem = type.verify(input);
      if (problem !== null) {
        input = normalizeMessage(type, value) as Record<string, unknown>;
        problem = type.verify(input);
      }
      if (problem !== null) throw createCodecError(protobufCodec, `${what()}: ${problem}`);
      // verify passed: the generated encoder reads plain objects as they are (fromObject would
      // only copy every field into a message first).
      return type.encode(input).finish();
    });
  },
  decode(bytes: Uint8Array, hint?: CodecHint): unknown {
    const type = hint?.type;
    if (type === undefined) return bytes;
    return guard(
      protobufCodec,
      () => `protobuf codec received a payload that is not a valid ${typeName(type)}`,
      () => type.decode(bytes),
    );
  },
});
