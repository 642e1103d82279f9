import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeMessage, FrameDecoder, type Message } from '../../lib/protocol/index.js';
import { cutEvery, expectProtocolError, fromHex, hexOf, type MessageView, view } from './arbitraries.js';
import { goldenVectors, messageOf } from './golden-vectors.js';

const vectors = goldenVectors('phobos-go-frames.json');

const MESSAGE_KEYS = [
  'compressType',
  'heartbeat',
  'magic',
  'messageType',
  'metadata',
  'oneway',
  'payload',
  'seq',
  'serializeType',
  'serviceMethod',
  'servicePath',
  'status',
];

function expectDecodedAs(message: Message, expected: MessageView): void {
  expect(Object.keys(message).sort()).toEqual(MESSAGE_KEYS);
  expect(message.metadata).toBeInstanceOf(Map);
  expect(typeof message.seq).toBe('bigint');
  expect(view(message)).toEqual(expected);
}

describe('golden frames from Go Phobos', () => {
  it('golden - the fixture holds the frames captured from Go Phobos', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(16);
    for (const vector of vectors) expect(vector.hex).toMatch(/^([0-9a-f]{2})+$/);
  });

  for (const [index, vector] of vectors.entries()) {
    const name = `#${index} ${vector.case} (${vector.direction}, seq ${vector.decoded.seq})`;

    it(`golden - encodeMessage writes Go's bytes for ${name}`, () => {
      expect(encodeMessage(messageOf(vector)).toString('hex')).toBe(vector.hex);
    });

    it(`golden - decodeFrame reads Go's bytes of ${name}`, () => {
      const bytes = fromHex(vector.hex);
      expect(bytes[1]).toBe(vector.decoded.version);
      expectDecodedAs(decodeFrame(bytes), view(messageOf(vector)));
    });

    it(`golden - FrameDecoder reads Go's bytes of ${name}, whole and in single-byte chunks`, () => {
      const bytes = fromHex(vector.hex);
      const whole = new FrameDecoder().push(bytes);
      expect(whole).toHaveLength(1);
      expectDecodedAs(whole[0] as Message, view(messageOf(vector)));

      const decoder = new FrameDecoder();
      const messages = cutEvery(bytes, 1).flatMap((chunk) => decoder.push(chunk));
      expect(messages).toHaveLength(1);
      expectDecodedAs(messages[0] as Message, view(messageOf(vector)));
      expect(decoder.bufferedBytes).toBe(0);
    });
  }

  it('golden - FrameDecoder reads all the Go frames sent back to back, in order', () => {
    const stream = Buffer.concat(vectors.map((vector) => fromHex(vector.hex)));
    const decoder = new FrameDecoder();
    const messages = cutEvery(stream, 7).flatMap((chunk) => decoder.push(chunk));
    expect(messages.map(view)).toEqual(vectors.map((vector) => view(messageOf(vector))));
  });

  it('golden - every Go frame with the rpcx magic encodes and decodes the same apart from byte 0', () => {
    for (const vector of vectors) {
      const rpcx: Message = { ...messageOf(vector), magic: 0x08 };
      const expected = `08${vector.hex.slice(2)}`;
      expect(encodeMessage(rpcx).toString('hex')).toBe(expected);
      expectDecodedAs(decodeFrame(fromHex(expected)), view(rpcx));
    }
  });
});

describe('the worked example of the wire format', () => {
  const payload = Buffer.from('{"A":70,"B":80}');
  const request: Message = {
    magic: 0x42,
    messageType: 0,
    heartbeat: false,
    oneway: false,
    compressType: 0,
    status: 0,
    serializeType: 1,
    seq: 1n,
    servicePath: 'Arith',
    serviceMethod: 'Mul',
    metadata: new Map(),
    payload,
  };
  const expected = Buffer.concat([
    fromHex('42 00 00 10'),
    fromHex('00 00 00 00 00 00 00 01'),
    fromHex('00 00 00 27'),
    fromHex('00 00 00 05'),
    Buffer.from('Arith'),
    fromHex('00 00 00 03'),
    Buffer.from('Mul'),
    fromHex('00 00 00 00'),
    fromHex('00 00 00 0f'),
    payload,
  ]);

  it('wire format - a JSON request Arith.Mul, seq 1, 15-byte payload encodes byte for byte', () => {
    expect(payload).toHaveLength(15);
    expect(encodeMessage(request).toString('hex')).toBe(expected.toString('hex'));
  });

  it('wire format - the worked example decodes back to the request', () => {
    expectDecodedAs(decodeFrame(expected), view(request));
    const messages = new FrameDecoder().push(expected);
    expect(messages.map(view)).toEqual([view(request)]);
  });

  it('wire format - the rpcx magic (0x08) changes only byte 0', () => {
    const rpcx: Message = { ...request, magic: 0x08 };
    const rpcxBytes = encodeMessage(rpcx);
    expect(rpcxBytes[0]).toBe(0x08);
    expect(hexOf(rpcxBytes.subarray(1))).toBe(hexOf(expected.subarray(1)));
    expectDecodedAs(decodeFrame(rpcxBytes), view(rpcx));
    expect(new FrameDecoder().push(rpcxBytes).map(view)).toEqual([view(rpcx)]);
  });

  it('wire format - a decoder that accepts only one magic refuses the other', () => {
    expectProtocolError(
      () => new FrameDecoder({ magics: [0x42] }).push(encodeMessage({ ...request, magic: 0x08 })),
      'magic',
    );
    expectProtocolError(() => new FrameDecoder({ magics: [0x08] }).push(encodeMessage(request)), 'magic');
    expect(
      new FrameDecoder({ magics: [0x08] }).push(encodeMessage({ ...request, magic: 0x08 })),
    ).toHaveLength(1);
  });
});
