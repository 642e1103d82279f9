import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonCodec, SerializeType } from '../../lib/codec/index.js';
import { CodecError } from '../../lib/errors/index.js';
import { thrown } from '../support/thrown.js';

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const utf8 = (value: string): Uint8Array => new TextEncoder().encode(value);

interface GoVector {
  readonly decoded: { readonly serializeType: number; readonly payloadHex: string };
}
const goPayloads = (
  JSON.parse(readFileSync(new URL('../fixtures/phobos-go-frames.json', import.meta.url), 'utf8')) as {
    vectors: GoVector[];
  }
).vectors
  .filter((vector) => vector.decoded.serializeType === SerializeType.JSON && vector.decoded.payloadHex !== '')
  .map((vector) => vector.decoded.payloadHex);

describe('json codec', () => {
  it('json codec - answers to serialize type 1', () => {
    expect(jsonCodec.serializeType).toBe(SerializeType.JSON);
    expect(jsonCodec.name).toBe('json');
  });

  it('json codec - round trips any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        // JSON itself writes -0 as 0; apart from that the value comes back as it was.
        expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(JSON.parse(JSON.stringify(value)));
        expect(JSON.stringify(jsonCodec.decode(jsonCodec.encode(value)))).toBe(JSON.stringify(value));
      }),
    );
  });

  it("json codec - encodes {A:7,B:8} as Go's encoding/json does", () => {
    expect(text(jsonCodec.encode({ A: 7, B: 8 }))).toBe('{"A":7,"B":8}');
    expect(Buffer.from(jsonCodec.encode({ A: 7, B: 8 })).toString('hex')).toBe('7b2241223a372c2242223a387d');
  });

  it('json codec - decodes Go\'s reply {"C":56}', () => {
    expect(jsonCodec.decode(Buffer.from('7b2243223a35367d', 'hex'))).toEqual({ C: 56 });
  });

  it('json codec - writes a Uint8Array as base64, as Go writes []byte (\'hi\' -> "aGk=")', () => {
    expect(text(jsonCodec.encode(utf8('hi')))).toBe('"aGk="');
    expect(Buffer.from(jsonCodec.encode(utf8('hi'))).toString('hex')).toBe('2261476b3d22');
  });

  it('json codec - writes nested Uint8Arrays and Buffers as base64', () => {
    const value = {
      data: Buffer.from('hi'),
      list: [utf8('hi'), new Uint8Array(0)],
      view: utf8('xhiy').subarray(1, 3),
    };
    expect(JSON.parse(text(jsonCodec.encode(value)))).toEqual({
      data: 'aGk=',
      list: ['aGk=', ''],
      view: 'aGk=',
    });
  });

  it('json codec - writes what JSON.stringify writes with every Uint8Array as base64, bytes or none (property)', () => {
    const withBytes = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue(),
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
        fc.date({ noInvalidDate: true }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    // The reference: replace bytes by base64 first, then a plain JSON.stringify.
    const base64Bytes = (value: unknown): unknown => {
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
      if (Array.isArray(value)) return value.map(base64Bytes);
      if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, base64Bytes(item)]));
      }
      return value;
    };
    fc.assert(
      fc.property(withBytes, (value) => {
        expect(Buffer.from(jsonCodec.encode(value)).toString()).toBe(JSON.stringify(base64Bytes(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('json codec - round trips bytes as Go does: base64 out, base64 string back', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        expect(jsonCodec.decode(jsonCodec.encode({ bytes }))).toEqual({
          bytes: Buffer.from(bytes).toString('base64'),
        });
      }),
    );
  });

  it('json codec - reads and writes every JSON payload of the Go fixture byte for byte', () => {
    expect(goPayloads.length).toBeGreaterThan(0);
    for (const payloadHex of goPayloads) {
      const decoded = jsonCodec.decode(Buffer.from(payloadHex, 'hex'));
      expect(Buffer.from(jsonCodec.encode(decoded)).toString('hex')).toBe(payloadHex);
    }
  });

  it('json codec - decodes an empty payload to undefined', () => {
    expect(jsonCodec.decode(new Uint8Array(0))).toBeUndefined();
  });

  it('json codec - encodes undefined as null, a zero value for Go', () => {
    expect(text(jsonCodec.encode(undefined))).toBe('null');
  });

  it('json codec - refuses a BigInt with a CodecError', () => {
    const error = thrown(() => jsonCodec.encode({ n: 1n }));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).details).toEqual({ serializeType: 1, codec: 'json' });
    expect((error as CodecError).message).toMatch(/^json codec cannot encode the value: /);
  });

  it('json codec - refuses a cycle with a CodecError', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(thrown(() => jsonCodec.encode(cyclic))).toBeInstanceOf(CodecError);
  });

  it('json codec - refuses a bare function or symbol with a CodecError', () => {
    expect(thrown(() => jsonCodec.encode(() => 1))).toBeInstanceOf(CodecError);
    expect(thrown(() => jsonCodec.encode(Symbol('s')))).toBeInstanceOf(CodecError);
  });

  it('json codec - refuses invalid JSON with a CodecError', () => {
    const error = thrown(() => jsonCodec.decode(utf8('{"A":')));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).message).toMatch(/not valid JSON/);
  });

  it('json codec - refuses invalid UTF-8 with a CodecError', () => {
    const error = thrown(() => jsonCodec.decode(Uint8Array.of(0x22, 0xff, 0xfe, 0x22)));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).message).toMatch(/not valid UTF-8/);
  });

  it('json codec - decodes random bytes to a value or a CodecError, never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          jsonCodec.decode(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
        }
      }),
    );
  });

  it('json codec - decodes mutated JSON to a value or a CodecError, never another error', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.integer({ min: 0, max: 255 }), (value, position, byte) => {
        const bytes = Uint8Array.from(jsonCodec.encode(value));
        bytes[position % bytes.length] = byte;
        try {
          jsonCodec.decode(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
        }
      }),
    );
  });
});
