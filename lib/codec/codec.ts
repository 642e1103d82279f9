import type { Type } from 'protobufjs';

/**
 * The serialize types built into the wire protocol (the high nibble of header byte 3).
 * Numbers 4..15 are free for custom codecs registered in a {@link CodecRegistry}.
 *
 * Using a number no codec is registered for fails at {@link CodecRegistry.get} with a `CodecError`.
 *
 * @example
 * ```ts
 * const codec = createDefaultCodecs().get(SerializeType.MsgPack);
 * ```
 * @group Codecs
 */
export const SerializeType = {
  /** Raw bytes, passed through as they are (Go's `[]byte`). */
  Raw: 0,
  /** UTF-8 JSON, as Go's `encoding/json` writes it. */
  JSON: 1,
  /** Protocol Buffers; the message type is given per method or per call. */
  Protobuf: 2,
  /** MessagePack, as Go's `github.com/vmihailenco/msgpack` writes it. */
  MsgPack: 3,
} as const;

/**
 * A serialize type: one of the four built in ({@link SerializeType}), or 4..15 for a custom codec.
 * The field is 4 bits wide, so nothing above 15 can travel.
 *
 * @example
 * ```ts
 * const cbor: SerializeType = 4;
 * ```
 * @group Codecs
 */
export type SerializeType = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14 | 15;

/**
 * Per-call information a codec may need beyond the value itself. Only the Protobuf codec uses
 * it: the message type to encode or decode with (given when a method is registered, or per call).
 *
 * @example
 * ```ts
 * const Args = protobuf.parse('syntax = "proto3"; message Args { int32 A = 1; int32 B = 2; }').root.lookupType('Args');
 * protobufCodec.encode({ A: 7, B: 8 }, { type: Args });
 * ```
 * @group Codecs
 */
export interface CodecHint {
  /** The protobufjs message type of the value. */
  readonly type?: Type;
}

/**
 * A serializer for payloads: turns a value into bytes and back. One codec per serialize type.
 *
 * `encode` and `decode` throw a `CodecError` (with `details.serializeType` and `details.codec`)
 * when the value cannot be encoded or the bytes do not decode, and never any other error.
 *
 * @example
 * ```ts
 * const upper: Codec = {
 *   serializeType: 9,
 *   name: 'upper-text',
 *   encode: (value) => new TextEncoder().encode(String(value).toUpperCase()),
 *   decode: (bytes) => new TextDecoder().decode(bytes),
 * };
 * createDefaultCodecs().register(upper);
 * ```
 * @group Codecs
 */
export interface Codec {
  /** The serialize type this codec answers to, 0..15. */
  readonly serializeType: number;
  /** A short name for messages and logs (`json`, `msgpack`...). */
  readonly name: string;
  /** Serializes `value`; throws `CodecError` when it cannot. */
  encode(value: unknown, hint?: CodecHint): Uint8Array;
  /** Deserializes `bytes`; throws `CodecError` when they do not decode. */
  decode(bytes: Uint8Array, hint?: CodecHint): unknown;
}
