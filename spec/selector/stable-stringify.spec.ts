import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stableStringify } from '../../lib/selector/stable-stringify.js';

describe('stableStringify', () => {
  it('stableStringify - writes JSON values as JSON, with sorted object keys', () => {
    expect(stableStringify({ b: [1, 'x', null, true], a: { d: 1.5, c: false } })).toBe(
      '{"a":{"c":false,"d":1.5},"b":[1,"x",null,true]}',
    );
  });

  it('stableStringify - gives the same string whatever the order of object keys', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (record) => {
        const reversed = Object.fromEntries(Object.entries(record).reverse());
        expect(stableStringify(reversed)).toBe(stableStringify(record));
      }),
    );
  });

  it('stableStringify - writes JSON values as JSON that parses back to them', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(stableStringify(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });

  it('stableStringify - tells bytes, bigints, undefined and non-finite numbers apart from strings', () => {
    const written = [
      new Uint8Array([1, 0xab]),
      "h'01ab'",
      1n,
      '1n',
      1,
      '1',
      undefined,
      'undefined',
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      new Int16Array([1]),
      new Uint8Array([1, 0]).buffer,
    ].map(stableStringify);
    expect(written).toEqual([
      "h'01ab'",
      '"h\'01ab\'"',
      '1n',
      '"1n"',
      '1',
      '"1"',
      'undefined',
      '"undefined"',
      'NaN',
      '-Infinity',
      "Int16Array h'0100'",
      "ArrayBuffer h'0100'",
    ]);
    expect(stableStringify(Buffer.from([1, 2]))).toBe("h'0102'");
  });

  it('stableStringify - leaves out undefined properties as JSON does, and writes undefined items', () => {
    expect(stableStringify({ a: undefined, b: () => 1, c: 1 })).toBe('{"c":1}');
    expect(stableStringify([undefined, 1])).toBe('[undefined,1]');
  });

  it('stableStringify - sorts Map and Set entries, and writes a Date through toJSON', () => {
    expect(
      stableStringify(
        new Map<unknown, unknown>([
          ['b', 1],
          ['a', 2],
        ]),
      ),
    ).toBe('Map{"a":2,"b":1}');
    expect(stableStringify(new Set([3, 1, 2]))).toBe('Set[1,2,3]');
    expect(stableStringify(new Date(0))).toBe('"1970-01-01T00:00:00.000Z"');
  });

  it('stableStringify - writes a cycle as [Circular] but repeats a shared object', () => {
    const shared = { x: 1 };
    const cyclic: Record<string, unknown> = { shared, again: shared };
    cyclic.self = cyclic;
    expect(stableStringify(cyclic)).toBe('{"again":{"x":1},"self":[Circular],"shared":{"x":1}}');
  });
});
