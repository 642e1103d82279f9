import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { protobufCodec, SerializeType } from '../../lib/codec/index.js';
import { CodecError } from '../../lib/errors/index.js';
import { thrown } from '../support/thrown.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const fromHex = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'hex'));

const root = protobuf.parse(
  `syntax = "proto3";
  message Args { int32 A = 1; int32 B = 2; }
  message Reply { int32 C = 1; }
  enum Color { RED = 0; GREEN = 1; BLUE = 2; }
  message Rich {
    int64 id = 1;
    uint64 count = 2;
    Color color = 3;
    repeated Color palette = 4;
    repeated sint64 deltas = 5;
    map<string, fixed64> totals = 6;
    bytes blob = 7;
    Args args = 8;
    string label = 9;
  }`,
  { keepCase: true },
).root;
const Args = root.lookupType('Args');
const Reply = root.lookupType('Reply');
const Rich = root.lookupType('Rich');

// Built with the reflection API rather than parsed, as a user may.
const Pair = new protobuf.Type('Pair')
  .add(new protobuf.Field('left', 1, 'int32'))
  .add(new protobuf.Field('right', 2, 'int32'));
new protobuf.Root().define('built').add(Pair);

describe('protobuf codec', () => {
  it('protobuf codec - answers to serialize type 2', () => {
    expect(protobufCodec.serializeType).toBe(SerializeType.Protobuf);
    expect(protobufCodec.name).toBe('protobuf');
  });

  it("protobuf codec - encodes Go's bytes for Args {A:7,B:8}", () => {
    expect(hex(protobufCodec.encode({ A: 7, B: 8 }, { type: Args }))).toBe('08071008');
  });

  it("protobuf codec - encodes Go's bytes for Reply {C:56}", () => {
    expect(hex(protobufCodec.encode({ C: 56 }, { type: Reply }))).toBe('0838');
  });

  it("protobuf codec - decodes Go's Args and Reply", () => {
    expect(protobufCodec.decode(fromHex('08071008'), { type: Args })).toEqual({ A: 7, B: 8 });
    expect(protobufCodec.decode(fromHex('0838'), { type: Reply })).toEqual({ C: 56 });
  });

  it('protobuf codec - round trips random int32 pairs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        (A, B) => {
          // Unset (zero) proto3 fields read as their defaults: compare field by field.
          const args = protobufCodec.decode(protobufCodec.encode({ A, B }, { type: Args }), { type: Args });
          expect(Args.toObject(args as never, { defaults: true })).toEqual({ A, B });
          const pair = { left: A, right: B };
          const decoded = protobufCodec.decode(protobufCodec.encode(pair, { type: Pair }), { type: Pair });
          expect(Pair.toObject(decoded as never, { defaults: true })).toEqual(pair);
        },
      ),
    );
  });

  it('protobuf codec - decodes to the protobufjs message, whose unset fields read as their defaults', () => {
    const decoded = protobufCodec.decode(new Uint8Array(0), { type: Args }) as Record<string, unknown>;
    expect(decoded).toBeInstanceOf(Args.ctor);
    expect(decoded.A).toBe(0);
    expect(decoded.B).toBe(0);
    expect(Args.toObject(decoded as never, { defaults: true })).toEqual({ A: 0, B: 0 });
  });

  it('protobuf codec - a decoded message encodes again to the same bytes, without checks', () => {
    const bytes = protobufCodec.encode({ A: 7, B: 8 }, { type: Args });
    const decoded = protobufCodec.decode(bytes, { type: Args });
    expect(Buffer.from(protobufCodec.encode(decoded, { type: Args })).toString('hex')).toBe('08071008');
  });

  it('protobuf codec - 64-bit integers and enums survive exactly (toObject gives strings and names)', () => {
    const bytes = protobufCodec.encode(
      {
        id: '-9223372036854775808',
        count: 2n ** 64n - 1n,
        color: 'BLUE',
        palette: [1, 'GREEN'],
        totals: { a: '18446744073709551615' },
      },
      { type: Rich },
    );
    const decoded = protobufCodec.decode(bytes, { type: Rich }) as never;
    expect(Rich.toObject(decoded, { defaults: true, longs: String, enums: String })).toEqual({
      id: '-9223372036854775808',
      count: '18446744073709551615',
      color: 'BLUE',
      palette: ['GREEN', 'GREEN'],
      deltas: [],
      totals: { a: '18446744073709551615' },
      blob: Buffer.alloc(0),
      args: null,
      label: '',
    });
  });

  it('protobuf codec - encodes again what it decoded', () => {
    const message = {
      id: 2 ** 40,
      count: 7,
      color: 2,
      palette: [0, 2],
      deltas: [-1, 5],
      totals: { x: 3 },
      blob: Uint8Array.of(1, 2),
      args: { A: 1, B: -1 },
      label: 'hi',
    };
    const bytes = protobufCodec.encode(message, { type: Rich });
    const decoded = protobufCodec.decode(bytes, { type: Rich });
    expect(hex(protobufCodec.encode(decoded, { type: Rich }))).toBe(hex(bytes));
  });

  it('protobuf codec - passes already-encoded bytes through', () => {
    const bytes = fromHex('08071008');
    expect(protobufCodec.encode(bytes)).toBe(bytes);
    expect(protobufCodec.encode(bytes, { type: Args })).toBe(bytes);
  });

  it('protobuf codec - returns the bytes when decoding without a type', () => {
    const bytes = fromHex('08071008');
    expect(protobufCodec.decode(bytes)).toBe(bytes);
  });

  it('protobuf codec - refuses to encode an object without a type, saying where to give one', () => {
    const error = thrown(() => protobufCodec.encode({ A: 7, B: 8 }));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).message).toContain('needs a message type');
    expect((error as CodecError).message).toContain('registered');
    expect((error as CodecError).details).toEqual({ serializeType: 2, codec: 'protobuf' });
  });

  it("protobuf codec - refuses a value verify rejects, with verify's message", () => {
    const error = thrown(() => protobufCodec.encode({ A: 'seven' }, { type: Args }));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).message).toBe(
      'protobuf codec cannot encode the value as Args: A: integer expected',
    );
    expect(thrown(() => protobufCodec.encode({ color: 'PURPLE' }, { type: Rich }))).toBeInstanceOf(
      CodecError,
    );
    expect(thrown(() => protobufCodec.encode({ id: '12abc' }, { type: Rich }))).toBeInstanceOf(CodecError);
    expect(thrown(() => protobufCodec.encode({ count: '-1' }, { type: Rich }))).toBeInstanceOf(CodecError);
    expect(thrown(() => protobufCodec.encode('text', { type: Args }))).toBeInstanceOf(CodecError);
    expect(thrown(() => protobufCodec.encode(null, { type: Args }))).toBeInstanceOf(CodecError);
  });

  it('protobuf codec - refuses bytes that are not a message of the type with a CodecError', () => {
    const error = thrown(() => protobufCodec.decode(fromHex('0a05'), { type: Rich }));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).message).toMatch(
      /^protobuf codec received a payload that is not a valid Rich/,
    );
  });

  it('protobuf codec - decodes random bytes to a value or a CodecError, never another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom(Args, Rich), (bytes, type) => {
        try {
          protobufCodec.decode(bytes, { type });
        } catch (error) {
          expect(error).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('protobuf codec - encodes random objects to bytes or a CodecError, never another error', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('id', 'color', 'palette', 'totals', 'args', 'blob'), fc.anything()),
        (value) => {
          try {
            protobufCodec.encode(value, { type: Rich });
          } catch (error) {
            expect(error).toBeInstanceOf(CodecError);
          }
        },
      ),
    );
  });
});
