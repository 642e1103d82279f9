import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  EMPTY_PAYLOAD,
  encodeFrame,
  encodeMessage,
  FrameDecoder,
  type Message,
  metadataByteLength,
} from '../../lib/protocol/index.js';
import {
  anyPayloadArb,
  cutAt,
  cutEvery,
  cutsArb,
  hexOf,
  largePayloadArb,
  messageArb,
  seededBytes,
  TWO_CHUNK_PAYLOAD_BYTES,
  view,
} from './arbitraries.js';

function pushAll(decoder: FrameDecoder, chunks: readonly Uint8Array[]): Message[] {
  return chunks.flatMap((chunk) => decoder.push(chunk));
}

const EMPTY_REQUEST: Message = {
  magic: 0x42,
  messageType: 0,
  heartbeat: false,
  oneway: false,
  compressType: 0,
  status: 0,
  serializeType: 0,
  seq: 0n,
  servicePath: '',
  serviceMethod: '',
  metadata: new Map(),
  payload: EMPTY_PAYLOAD,
};

describe('encodeMessage / decodeFrame round trip', () => {
  it('roundtrip - decodeFrame(encodeMessage(m)) gives back any message', () => {
    fc.assert(
      fc.property(messageArb(), (message) => {
        const decoded = decodeFrame(encodeMessage(message));
        expect(view(decoded)).toEqual(view(message));
      }),
    );
  });

  it('roundtrip - messages with payloads of 16 KiB and more round-trip through the two-chunk path', () => {
    fc.assert(
      fc.property(messageArb(largePayloadArb), (message) => {
        const bytes = encodeMessage(message);
        expect(view(decodeFrame(bytes))).toEqual(view(message));
        expect(view(decodeFrame(Uint8Array.from(bytes)))).toEqual(view(message));
      }),
      { numRuns: 20 },
    );
  });

  it('roundtrip - the frame length field counts every byte after the 16-byte prefix', () => {
    fc.assert(
      fc.property(messageArb(anyPayloadArb), (message) => {
        const bytes = encodeMessage(message);
        expect(bytes.readUInt32BE(12)).toBe(bytes.length - 16);
        const strings = Buffer.byteLength(message.servicePath) + Buffer.byteLength(message.serviceMethod);
        expect(bytes.length).toBe(
          32 + strings + metadataByteLength(message.metadata) + message.payload.length,
        );
      }),
      { numRuns: 40 },
    );
  });

  it('roundtrip - metadata decoded from an empty map is an empty Map', () => {
    const decoded = decodeFrame(encodeMessage(EMPTY_REQUEST));
    expect(decoded.metadata).toBeInstanceOf(Map);
    expect([...decoded.metadata]).toEqual([]);
    expect(decoded.payload).toHaveLength(0);
  });

  it('roundtrip - metadata keeps its order, empty keys and values, and multi-byte UTF-8', () => {
    const metadata = new Map([
      ['', ''],
      ['z', 'last-looking key first'],
      ['ключ', '值 🚀'],
      ['a', ''],
    ]);
    const decoded = decodeFrame(encodeMessage({ ...EMPTY_REQUEST, metadata }));
    expect([...decoded.metadata]).toEqual([...metadata]);
  });

  it('metadataByteLength - counts 8 bytes of lengths plus the UTF-8 bytes of each pair', () => {
    expect(metadataByteLength(new Map())).toBe(0);
    expect(metadataByteLength(new Map([['k', 'v']]))).toBe(10);
    expect(metadataByteLength(new Map([['é', '🚀']]))).toBe(8 + 2 + 4);
  });
});

describe('encodeFrame', () => {
  it('encodeFrame - its chunks concatenated equal encodeMessage', () => {
    fc.assert(
      fc.property(messageArb(anyPayloadArb), (message) => {
        const chunks = encodeFrame(message);
        expect(hexOf(Buffer.concat(chunks))).toBe(hexOf(encodeMessage(message)));
        expect(chunks).toHaveLength(message.payload.length >= TWO_CHUNK_PAYLOAD_BYTES ? 2 : 1);
      }),
      { numRuns: 50 },
    );
  });

  it('encodeFrame - writes a payload of 16 KiB or more as its own chunk without copying it', () => {
    const backing = seededBytes(TWO_CHUNK_PAYLOAD_BYTES + 10, 7);
    const payload = backing.subarray(5, 5 + TWO_CHUNK_PAYLOAD_BYTES);
    const chunks = encodeFrame({ ...EMPTY_REQUEST, payload });
    expect(chunks).toHaveLength(2);
    const [prefix, body] = chunks as [Buffer, Buffer];
    expect(prefix).toHaveLength(32);
    expect(body.buffer).toBe(payload.buffer);
    expect(body.byteOffset).toBe(payload.byteOffset);
    expect(body.length).toBe(payload.length);
  });

  it('encodeFrame - copies a payload below 16 KiB into a single chunk', () => {
    const payload = seededBytes(TWO_CHUNK_PAYLOAD_BYTES - 1, 7);
    const chunks = encodeFrame({ ...EMPTY_REQUEST, payload });
    expect(chunks).toHaveLength(1);
    expect(chunks[0]?.length).toBe(32 + payload.length);
  });
});

describe('FrameDecoder round trip', () => {
  it('FrameDecoder - a whole frame pushed at once gives back any message', () => {
    fc.assert(
      fc.property(messageArb(), (message) => {
        const decoder = new FrameDecoder();
        const messages = decoder.push(encodeMessage(message));
        expect(messages.map(view)).toEqual([view(message)]);
        expect(decoder.bufferedBytes).toBe(0);
      }),
    );
  });

  it('FrameDecoder - the chunks of encodeFrame pushed one by one give back the message', () => {
    fc.assert(
      fc.property(messageArb(anyPayloadArb), (message) => {
        const decoder = new FrameDecoder();
        expect(pushAll(decoder, encodeFrame(message)).map(view)).toEqual([view(message)]);
        expect(decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it('FrameDecoder - decodes a frame split into single-byte chunks', () => {
    const message: Message = {
      ...EMPTY_REQUEST,
      serializeType: 1,
      seq: 42n,
      servicePath: 'Arith',
      serviceMethod: 'Mul',
      metadata: new Map([['k', 'v']]),
      payload: Buffer.from('{"A":7,"B":8}'),
    };
    const bytes = encodeMessage(message);
    const decoder = new FrameDecoder();
    const results = cutEvery(bytes, 1).map((chunk) => decoder.push(chunk));
    expect(results.slice(0, -1).every((messages) => messages.length === 0)).toBe(true);
    expect((results.at(-1) ?? []).map(view)).toEqual([view(message)]);
  });

  it('FrameDecoder - decodes several frames that arrive in one chunk', () => {
    const messages = [1n, 2n, 3n].map(
      (seq): Message => ({ ...EMPTY_REQUEST, seq, payload: seededBytes(Number(seq), 1) }),
    );
    const decoder = new FrameDecoder();
    expect(decoder.push(Buffer.concat(messages.map((m) => encodeMessage(m)))).map(view)).toEqual(
      messages.map(view),
    );
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('FrameDecoder - bufferedBytes counts the bytes of an unfinished frame', () => {
    const bytes = encodeMessage({ ...EMPTY_REQUEST, payload: seededBytes(100, 3) });
    const decoder = new FrameDecoder();
    expect(decoder.push(bytes.subarray(0, 10))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(10);
    expect(decoder.push(bytes.subarray(10, 50))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(50);
    expect(decoder.push(bytes.subarray(50))).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('FrameDecoder - concatenated frames cut at arbitrary points decode to the same messages in order', () => {
    fc.assert(
      fc.property(
        fc.array(messageArb(anyPayloadArb), { minLength: 1, maxLength: 5 }),
        cutsArb,
        (messages, cuts) => {
          const stream = Buffer.concat(messages.map((m) => encodeMessage(m)));
          const decoder = new FrameDecoder();
          expect(pushAll(decoder, cutAt(stream, cuts)).map(view)).toEqual(messages.map(view));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('FrameDecoder - concatenated frames in chunks of 1 to 3 bytes decode to the same messages in order', () => {
    fc.assert(
      fc.property(
        fc.array(messageArb(), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 3 }),
        (messages, size) => {
          const stream = Buffer.concat(messages.map((m) => encodeMessage(m)));
          const decoder = new FrameDecoder();
          expect(pushAll(decoder, cutEvery(stream, size)).map(view)).toEqual(messages.map(view));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('FrameDecoder - messages already returned are not changed by later pushes', () => {
    fc.assert(
      fc.property(fc.array(messageArb(), { minLength: 2, maxLength: 4 }), cutsArb, (messages, cuts) => {
        const stream = Uint8Array.from(Buffer.concat(messages.map((m) => encodeMessage(m))));
        const decoder = new FrameDecoder();
        const decoded: { message: Message; snapshot: ReturnType<typeof view> }[] = [];
        for (const chunk of cutAt(stream, cuts)) {
          for (const message of decoder.push(chunk)) decoded.push({ message, snapshot: view(message) });
        }
        for (const { message, snapshot } of decoded) expect(view(message)).toEqual(snapshot);
        expect(decoded.map(({ snapshot }) => snapshot)).toEqual(messages.map(view));
      }),
      { numRuns: 50 },
    );
  });
});
