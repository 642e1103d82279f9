import { describe, expect, it } from 'vitest';
import {
  type Codec,
  CodecRegistry,
  createDefaultCodecs,
  createMsgpackCodec,
  jsonCodec,
  msgpackCodec,
  protobufCodec,
  rawCodec,
  SerializeType,
} from '../../lib/codec/index.js';
import { CodecError } from '../../lib/errors/index.js';
import { thrown } from '../support/thrown.js';

const textCodec = (serializeType: number): Codec => ({
  serializeType,
  name: 'text',
  encode: (value) => new TextEncoder().encode(String(value)),
  decode: (bytes) => new TextDecoder().decode(bytes),
});

describe('codec registry', () => {
  it('codec registry - holds raw, JSON, Protobuf and MsgPack by default', () => {
    const codecs = createDefaultCodecs();
    expect(codecs.get(SerializeType.Raw)).toBe(rawCodec);
    expect(codecs.get(SerializeType.JSON)).toBe(jsonCodec);
    expect(codecs.get(SerializeType.Protobuf)).toBe(protobufCodec);
    expect(codecs.get(SerializeType.MsgPack)).toBe(msgpackCodec);
    expect(codecs.has(4)).toBe(false);
  });

  it('codec registry - gives each caller a fresh default registry', () => {
    const first = createDefaultCodecs();
    first.register(textCodec(4));
    expect(createDefaultCodecs().has(4)).toBe(false);
  });

  it('codec registry - fails an unknown serialize type with a CodecError listing the registered ones', () => {
    const error = thrown(() => createDefaultCodecs().get(9));
    expect(error).toBeInstanceOf(CodecError);
    expect((error as CodecError).message).toMatch(
      /^unknown serialize type 9; registered: 0 \(raw\), 1 \(json\), 2 \(protobuf\), 3 \(msgpack\)/,
    );
    expect((error as CodecError).details).toEqual({ serializeType: 9 });
  });

  it('codec registry - says none are registered when empty', () => {
    expect((thrown(() => new CodecRegistry().get(0)) as CodecError).message).toMatch(/registered: none/);
  });

  it('codec registry - registers a custom codec for 4..15', () => {
    const codecs = createDefaultCodecs().register(textCodec(4)).register(textCodec(15));
    expect(codecs.get(4).decode(codecs.get(4).encode('hi'))).toBe('hi');
    expect(codecs.has(15)).toBe(true);
  });

  it('codec registry - replaces the codec of a number registered again', () => {
    const tuned = createMsgpackCodec({ integersAsInt64: false });
    const codecs = createDefaultCodecs().register(tuned);
    expect(codecs.get(SerializeType.MsgPack)).toBe(tuned);
  });

  it('codec registry - refuses serialize types 16, -1 and 1.5 with a RangeError', () => {
    const codecs = new CodecRegistry();
    for (const serializeType of [16, -1, 1.5, Number.NaN]) {
      const error = thrown(() => codecs.register(textCodec(serializeType)));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as RangeError).message).toContain('serializeType must be an integer from 0 to 15');
    }
    expect(codecs.has(16)).toBe(false);
  });

  it('codec registry - refuses a malformed codec with a RangeError', () => {
    const codecs = new CodecRegistry();
    const malformed: unknown[] = [
      null,
      { ...textCodec(5), name: '' },
      { ...textCodec(5), encode: undefined },
      { serializeType: 5, name: 'half', encode: () => new Uint8Array(0) },
    ];
    for (const codec of malformed) {
      expect(thrown(() => codecs.register(codec as Codec))).toBeInstanceOf(RangeError);
    }
    expect(codecs.has(5)).toBe(false);
  });

  it('codec registry - built-in codecs can be copied under another number', () => {
    const codecs = new CodecRegistry().register({ ...jsonCodec, serializeType: 7, name: 'json-again' });
    expect(new TextDecoder().decode(codecs.get(7).encode({ A: 1 }))).toBe('{"A":1}');
  });
});
