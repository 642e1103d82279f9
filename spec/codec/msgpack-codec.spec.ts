import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMsgpackCodec, jsonCodec, msgpackCodec, SerializeType } from '../../lib/codec/index.js';
import { CodecError } from '../../lib/errors/index.js';
import { thrown } from '../support/thrown.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'hex'));

interface GoVector {
  readonly case: string;
  readonly decoded: { readonly serializeType: number; readonly payloadHex: string };
}
const goVectors = (
  JSON.parse(readFileSync(new URL('../fixtures/phobos-go-frames.json', import.meta.url), 'utf8')) as {
    vectors: GoVector[];
  }
).vectors.filter((vector) => vector.decoded.serializeType === SerializeType.MsgPack);

/** Values Go's msgpack can carry: strings, numbers, booleans, nil, bytes, arrays and string-keyed maps. */
const goValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.double().map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 40 }),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(
    fc.string().filter((key) => key !== '__proto__'),
    tie('value'),
    { maxKeys: 5, noNullPrototype: true },
  ),
})).value;

describe('msgpack codec', () => {
  it('msgpack codec - answers to serialize type 3', () => {
    expect(msgpackCodec.serializeType).toBe(SerializeType.MsgPack);
    expect(msgpackCodec.name).toBe('msgpack');
  });

  it("msgpack codec - encodes Go's fixmap bytes for {A:7,B:8}", () => {
    expect(hex(msgpackCodec.encode({ A: 7, B: 8 }))).toBe('82a14107a14208');
  });

  it("msgpack codec - encodes Go's fixmap bytes for {C:56}", () => {
    expect(hex(msgpackCodec.encode({ C: 56 }))).toBe('81a14338');
  });

  it("msgpack codec - decodes Go's maps to plain objects", () => {
    const args = msgpackCodec.decode(fromHex('82a14107a14208'));
    expect(args).toEqual({ A: 7, B: 8 });
    expect(Object.getPrototypeOf(args)).toBe(Object.prototype);
    expect(msgpackCodec.decode(fromHex('81a14338'))).toEqual({ C: 56 });
  });

  it('msgpack codec - reads and writes every MsgPack payload of the Go fixture byte for byte', () => {
    expect(goVectors.length).toBeGreaterThan(0);
    for (const vector of goVectors) {
      const payload = fromHex(vector.decoded.payloadHex);
      expect(hex(msgpackCodec.encode(msgpackCodec.decode(payload)))).toBe(vector.decoded.payloadHex);
    }
  });

  it('msgpack codec - round trips strings, numbers, booleans, nil, bytes, arrays and maps', () => {
    fc.assert(
      fc.property(goValue, (value) => {
        expect(msgpackCodec.decode(msgpackCodec.encode(value))).toEqual(value);
      }),
    );
  });

  it('msgpack codec - decodes bin as a plain Uint8Array copy, not a view of the payload', () => {
    const payload = Buffer.from('c4020102', 'hex');
    const decoded = msgpackCodec.decode(payload) as Uint8Array;
    expect(decoded.constructor).toBe(Uint8Array);
    expect([...decoded]).toEqual([1, 2]);
    payload[2] = 9;
    expect([...decoded]).toEqual([1, 2]);
  });

  it('msgpack codec - writes safe integers past 32 bits as int64, which Go accepts for integer fields', () => {
    expect(hex(msgpackCodec.encode(2 ** 40))).toBe('d30000010000000000');
    expect(hex(msgpackCodec.encode(-(2 ** 40)))).toBe('d3ffffff0000000000');
    expect(hex(msgpackCodec.encode({ t: Number.MAX_SAFE_INTEGER }))).toBe('81a174d3001fffffffffffff');
    expect(hex(msgpackCodec.encode(0xffff_ffff))).toBe('ceffffffff');
    expect(hex(msgpackCodec.encode(1.5))).toBe('cb3ff8000000000000');
  });

  it('msgpack codec - writes past-32-bit integers as float64 when integersAsInt64 is off', () => {
    expect(hex(createMsgpackCodec({ integersAsInt64: false }).encode(2 ** 40))).toBe('cb4270000000000000');
  });

  it('msgpack codec - leaves the encoded value untouched when widening integers', () => {
    const value = { big: 2 ** 40, list: [2 ** 41], map: new Map([['k', 2 ** 42]]) };
    msgpackCodec.encode(value);
    expect(value).toEqual({ big: 2 ** 40, list: [2 ** 41], map: new Map([['k', 2 ** 42]]) });
  });

  it('msgpack codec - decodes 64-bit integers as numbers within 2^53 and as bigints beyond', () => {
    expect(msgpackCodec.decode(fromHex('d30000010000000000'))).toBe(2 ** 40);
    expect(msgpackCodec.decode(fromHex('cf0020000000000000'))).toBe(2 ** 53);
    expect(msgpackCodec.decode(fromHex('cf0020000000000001'))).toBe(2n ** 53n + 1n);
    expect(msgpackCodec.decode(fromHex('d3ffe0000000000000'))).toBe(-(2 ** 53));
    expect(msgpackCodec.decode(fromHex('d37fffffffffffffff'))).toBe(2n ** 63n - 1n);
    expect(msgpackCodec.decode(fromHex('cfffffffffffffffff'))).toBe(2n ** 64n - 1n);
  });

  it('msgpack codec - round trips any 64-bit integer given as a bigint', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), (value) => {
        const decoded = msgpackCodec.decode(msgpackCodec.encode(value));
        expect(BigInt(decoded as number | bigint)).toBe(value);
      }),
    );
  });

  it('msgpack codec - writes undefined as nil and decodes an empty payload to undefined', () => {
    expect(hex(msgpackCodec.encode(undefined))).toBe('c0');
    expect(hex(msgpackCodec.encode({ u: undefined }))).toBe('81a175c0');
    expect(msgpackCodec.decode(new Uint8Array(0))).toBeUndefined();
  });

  it('msgpack codec - writes a Date as the standard timestamp extension', () => {
    expect(hex(msgpackCodec.encode(new Date(0)))).toBe('d6ff00000000');
    expect(msgpackCodec.decode(fromHex('d6ff00000000'))).toEqual(new Date(0));
  });

  it('msgpack codec - writes no msgpackr-only extensions for sets, maps and class instances', () => {
    expect(hex(msgpackCodec.encode(new Set([1])))).toBe('9101');
    expect(hex(msgpackCodec.encode(new Map([['a', 1]])))).toBe('81a16101');
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(hex(msgpackCodec.encode(new Point(1, 2)))).toBe('82a17801a17902');
  });

  it('msgpack codec - lets users opt into msgpackr extensions', () => {
    const codec = createMsgpackCodec({ msgpackr: { moreTypes: true } });
    const decoded = codec.decode(codec.encode(new Set([1, 2])));
    expect(decoded).toEqual(new Set([1, 2]));
  });

  it('msgpack codec - refuses a cycle with a CodecError', () => {
    const cyclic: Record<string, unknown> = { a: [1] };
    (cyclic.a as unknown[]).push(cyclic);
    const error = thrown(() => msgpackCodec.encode(cyclic));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).message).toContain('cyclic');
  });

  it('msgpack codec - refuses a BigInt past 64 bits and a symbol with a CodecError', () => {
    const error = thrown(() => msgpackCodec.encode(2n ** 70n));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).details).toEqual({ serializeType: 3, codec: 'msgpack' });
    expect(thrown(() => msgpackCodec.encode(Symbol('s')))).toBeInstanceOf(CodecError);
  });

  it('msgpack codec - refuses a function or a symbol as the JSON codec does, instead of writing nil', () => {
    for (const value of [() => 'a method', Symbol('s')]) {
      const error = thrown(() => msgpackCodec.encode(value));
      expect(error).toBeInstanceOf(CodecError);
      expect((error as CodecError).message).toMatch(
        /^msgpack codec cannot encode a (function|symbol); pass an object/,
      );
      expect(thrown(() => jsonCodec.encode(value))).toBeInstanceOf(CodecError);
    }
  });

  it('msgpack codec - refuses truncated and trailing bytes with a CodecError', () => {
    for (const payload of ['82a14107a142', '82', 'a5', 'c70100', '82a14107a1420801']) {
      const error = thrown(() => msgpackCodec.decode(fromHex(payload)));
      expect(error).toBeInstanceOf(CodecError);
      expect((error as CodecError).message).toMatch(
        /^msgpack codec received a payload that is not valid MessagePack/,
      );
    }
  });

  it('msgpack codec - decodes random bytes to a value or a CodecError, never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          msgpackCodec.decode(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('msgpack codec - decodes mutated or cut MessagePack to a value or a CodecError, never another error', () => {
    fc.assert(
      fc.property(
        goValue,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.boolean(),
        (value, position, byte, cut) => {
          const encoded = Uint8Array.from(msgpackCodec.encode(value));
          const index = position % encoded.length;
          encoded[index] = byte;
          try {
            msgpackCodec.decode(cut ? encoded.subarray(0, index) : encoded);
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
