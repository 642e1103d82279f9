import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../../lib/errors/index.js';
import {
  decodeFrame,
  EMPTY_PAYLOAD,
  encodeFrame,
  encodeMessage,
  FrameDecoder,
  type Message,
} from '../../lib/protocol/index.js';
import { thrown } from '../support/thrown.js';
import {
  cutAt,
  cutEvery,
  cutsArb,
  expectProtocolError,
  frameWithBody,
  lengthPrefixed,
  messageArb,
  seededBytes,
  u32,
  view,
} from './arbitraries.js';

/** The fields a ProtocolError from the decoder may name; 'frame' would mean an internal error leaked. */
const FRAME_FIELDS = ['magic', 'version', 'length', 'servicePath', 'serviceMethod', 'metadata', 'payload'];

const REQUEST: Message = {
  magic: 0x42,
  messageType: 0,
  heartbeat: false,
  oneway: false,
  compressType: 0,
  status: 0,
  serializeType: 1,
  seq: 1n,
  servicePath: '',
  serviceMethod: '',
  metadata: new Map(),
  payload: EMPTY_PAYLOAD,
};

interface Outcome {
  readonly messages: Message[];
  readonly error: ProtocolError | undefined;
}

/**
 * Feeds chunks to a decoder, checking after every push that it either returned messages or
 * threw a ProtocolError naming a frame field, that once it threw it throws the same error on
 * every later push, and that it never buffers more than `maxMessageBytes` plus the last chunk.
 */
function feedChecked(decoder: FrameDecoder, chunks: readonly Uint8Array[], maxMessageBytes: number): Outcome {
  const messages: Message[] = [];
  let error: ProtocolError | undefined;
  const afterError = [new Uint8Array(0), Uint8Array.of(0x42), encodeMessage(REQUEST)];
  for (const chunk of [...chunks, ...afterError]) {
    if (error === undefined) {
      try {
        const returned = decoder.push(chunk);
        expect(Array.isArray(returned)).toBe(true);
        messages.push(...returned);
      } catch (thrown) {
        expect(thrown).toBeInstanceOf(ProtocolError);
        error = thrown as ProtocolError;
        expect(FRAME_FIELDS).toContain(error.field);
      }
    } else {
      expect(thrown(() => decoder.push(chunk))).toBe(error);
    }
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxMessageBytes + chunk.length);
  }
  // Whatever was returned is a well-formed message (every header field in range).
  for (const message of messages) expect(() => encodeMessage(message)).not.toThrow();
  return { messages, error };
}

/** Offsets of every uint32 length field in a valid stream of frames, walked independently of the decoder. */
function lengthFieldOffsets(stream: Buffer): number[] {
  const offsets: number[] = [];
  let frame = 0;
  while (frame + 16 <= stream.length) {
    const end = frame + 16 + stream.readUInt32BE(frame + 12);
    offsets.push(frame + 12);
    let at = frame + 16;
    for (let field = 0; field < 4; field++) {
      offsets.push(at);
      const length = stream.readUInt32BE(at);
      if (field === 2) {
        for (let pair = at + 4; pair < at + 4 + length; ) {
          offsets.push(pair);
          pair += 4 + stream.readUInt32BE(pair);
          offsets.push(pair);
          pair += 4 + stream.readUInt32BE(pair);
        }
      }
      at += 4 + length;
    }
    frame = end;
  }
  return offsets;
}

type Mutation =
  | { readonly kind: 'byte'; readonly at: number; readonly value: number }
  | { readonly kind: 'length'; readonly which: number; readonly value: number }
  | { readonly kind: 'nudge'; readonly which: number; readonly delta: number }
  | { readonly kind: 'truncate'; readonly at: number };

const lengthValueArb = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.constantFrom(0xffffffff, 0x7fffffff, 0x80000000, 1024, 1025),
  fc.nat({ max: 0xffffffff }),
);

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('length' as const), which: fc.nat(), value: lengthValueArb }),
  fc.record({ kind: fc.constant('nudge' as const), which: fc.nat(), delta: fc.integer({ min: -3, max: 3 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(original: Buffer, mutations: readonly Mutation[]): Buffer {
  const offsets = lengthFieldOffsets(original);
  let stream = Buffer.from(original);
  for (const mutation of mutations) {
    if (stream.length === 0) break;
    switch (mutation.kind) {
      case 'byte':
        stream[mutation.at % stream.length] = mutation.value;
        break;
      case 'length':
      case 'nudge': {
        const at = offsets[mutation.which % offsets.length] ?? 0;
        if (at + 4 > stream.length) break;
        const value =
          mutation.kind === 'length' ? mutation.value : (stream.readUInt32BE(at) + mutation.delta) >>> 0;
        stream.writeUInt32BE(value, at);
        break;
      }
      case 'truncate':
        stream = stream.subarray(0, mutation.at % (stream.length + 1));
        break;
    }
  }
  return stream;
}

describe('FrameDecoder fuzzing', () => {
  it('FrameDecoder - random bytes in random chunks give messages, a wait, or a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('none', 'magic', 'magic+version'),
        cutsArb,
        (random, prefix, cuts) => {
          const head = prefix === 'none' ? [] : prefix === 'magic' ? [0x42] : [0x08, 0x00];
          const stream = Uint8Array.from([...head, ...random]);
          feedChecked(new FrameDecoder({ maxMessageBytes: 1024 }), cutAt(stream, cuts), 1024);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('FrameDecoder - a valid prefix with a random length and random bytes gives messages, a wait, or a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        lengthValueArb,
        fc.uint8Array({ maxLength: 200 }),
        cutsArb,
        (header, length, rest, cuts) => {
          const stream = Uint8Array.from([0x42, 0x00, ...header, ...u32(length), ...rest]);
          feedChecked(new FrameDecoder({ maxMessageBytes: 1024 }), cutAt(stream, cuts), 1024);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('FrameDecoder - mutated and truncated valid frames in random chunks give messages, a wait, or a ProtocolError', () => {
    fc.assert(
      fc.property(
        fc.array(messageArb(), { minLength: 1, maxLength: 3 }),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        cutsArb,
        fc.constantFrom(1024, 64 * 1024),
        (messages, mutations, cuts, maxMessageBytes) => {
          const stream = mutate(Buffer.concat(messages.map((m) => encodeMessage(m))), mutations);
          feedChecked(new FrameDecoder({ maxMessageBytes }), cutAt(stream, cuts), maxMessageBytes);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('FrameDecoder - frames sent before the first damaged byte are still returned', () => {
    fc.assert(
      fc.property(
        fc.array(messageArb(), { minLength: 2, maxLength: 4 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        cutsArb,
        (messages, where, flip, cuts) => {
          const frames = messages.map((m) => Buffer.from(encodeMessage(m)));
          const total = frames.reduce((sum, frame) => sum + frame.length, 0);
          let at = where % total;
          let intact = 0;
          for (const frame of frames) {
            if (at < frame.length) {
              frame[at] = (frame[at] as number) ^ flip;
              break;
            }
            at -= frame.length;
            intact++;
          }
          // Each frame in its own chunks: a push that ends a frame never holds bytes of the next one.
          const chunks = frames.flatMap((frame) => cutAt(frame, cuts));
          const { messages: decoded } = feedChecked(new FrameDecoder(), chunks, 16 * 1024 * 1024);
          expect(decoded.length).toBeGreaterThanOrEqual(intact);
          expect(decoded.slice(0, intact).map(view)).toEqual(messages.slice(0, intact).map(view));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('FrameDecoder - a length past maxMessageBytes is refused as soon as the 16-byte prefix arrives', () => {
    const maxMessageBytes = 1024;
    fc.assert(
      fc.property(
        fc.constantFrom(0x42, 0x08),
        fc.uint8Array({ minLength: 10, maxLength: 10 }),
        fc.oneof(fc.constant(0xffffffff), fc.integer({ min: maxMessageBytes - 16 + 1, max: 0xffffffff })),
        cutsArb,
        (magic, header, length, cuts) => {
          const prefix = Uint8Array.from([magic, 0x00, ...header, ...u32(length)]);
          const chunks = cutAt(prefix, cuts);
          const decoder = new FrameDecoder({ maxMessageBytes });
          let received = 0;
          for (const chunk of chunks) {
            received += chunk.length;
            if (received < 16 || chunk.length === 0) {
              expect(decoder.push(chunk)).toEqual([]);
            } else {
              const error = expectProtocolError(() => decoder.push(chunk), 'length');
              expect(error.details.frameBytes).toBe(16 + length);
              expect(thrown(() => decoder.push(new Uint8Array(1)))).toBe(error);
              return;
            }
            expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxMessageBytes + chunk.length);
          }
          expect.unreachable('the prefix was sent but the decoder did not refuse it');
        },
      ),
    );
  });
});

describe('FrameDecoder - specific bad frames', () => {
  it("FrameDecoder - a bad magic 0x43 throws ProtocolError 'magic' after 1 byte", () => {
    const decoder = new FrameDecoder();
    expectProtocolError(() => decoder.push(Uint8Array.of(0x43)), 'magic');
  });

  it("FrameDecoder - a bad magic in the second frame throws ProtocolError 'magic' after the first is returned", () => {
    const frame = encodeMessage(REQUEST);
    const decoder = new FrameDecoder();
    expect(decoder.push(frame)).toHaveLength(1);
    expectProtocolError(() => decoder.push(Uint8Array.of(0x43)), 'magic');
  });

  it("FrameDecoder - version 1 throws ProtocolError 'version' after 2 bytes", () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(Uint8Array.of(0x42))).toEqual([]);
    expectProtocolError(() => decoder.push(Uint8Array.of(0x01)), 'version');
  });

  it("FrameDecoder - a body length below 16 throws ProtocolError 'length' once the prefix arrives", () => {
    for (const length of [0, 1, 15]) {
      const prefix = Uint8Array.from([0x42, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, ...u32(length)]);
      const decoder = new FrameDecoder();
      expect(decoder.push(prefix.subarray(0, 15))).toEqual([]);
      expectProtocolError(() => decoder.push(prefix.subarray(15)), 'length');
    }
  });

  it('FrameDecoder - after a ProtocolError every later push throws the same error, and nothing stays buffered', () => {
    const decoder = new FrameDecoder();
    expect(decoder.push(Uint8Array.of(0x42, 0x00, 0x00))).toEqual([]);
    const error = expectProtocolError(
      () => decoder.push(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
      'length',
    );
    expect(decoder.bufferedBytes).toBe(0);
    expect(thrown(() => decoder.push(new Uint8Array(0)))).toBe(error);
    expect(thrown(() => decoder.push(encodeMessage(REQUEST)))).toBe(error);
    expect(thrown(() => decoder.push(Uint8Array.of(0x42)))).toBe(error);
  });

  const BAD_BODIES: readonly [string, string, readonly number[]][] = [
    ['servicePath length past the frame', 'servicePath', [...u32(1000), ...u32(0), ...u32(0), ...u32(0)]],
    [
      'serviceMethod length past the frame',
      'serviceMethod',
      [...lengthPrefixed('Arith'), ...u32(100), ...u32(0), ...u32(0)],
    ],
    ['metadata length past the frame', 'metadata', [...u32(0), ...u32(0), ...u32(500), ...u32(0)]],
    [
      'metadata pair running past the metadata section (but not past the frame)',
      'metadata',
      [...u32(0), ...u32(0), ...u32(10), ...u32(1), 0x6b, ...u32(5), 0x76, ...u32(4), 1, 2, 3, 4],
    ],
    [
      'metadata key without a value',
      'metadata',
      [...u32(0), ...u32(0), ...u32(5), ...lengthPrefixed('k'), ...u32(0)],
    ],
    [
      'metadata section too short for a length',
      'metadata',
      [...u32(0), ...u32(0), ...u32(3), 0, 0, 1, ...u32(0)],
    ],
    ['payload length past the end', 'payload', [...u32(0), ...u32(0), ...u32(0), ...u32(5), 1, 2, 3]],
    ['payload length short of the end', 'payload', [...u32(0), ...u32(0), ...u32(0), ...u32(2), 1, 2, 3]],
    ['no room for the payload length', 'payload', [...u32(0), ...lengthPrefixed('abcd'), ...u32(0)]],
  ];

  it.each(BAD_BODIES)("decodeFrame - %s throws ProtocolError '%s'", (_, field, body) => {
    expectProtocolError(() => decodeFrame(frameWithBody(body)), field);
  });

  it.each(BAD_BODIES)(
    "FrameDecoder - %s throws ProtocolError '%s', whole or byte by byte",
    (_, field, body) => {
      const frame = frameWithBody(body);
      expectProtocolError(() => new FrameDecoder().push(frame), field);
      const decoder = new FrameDecoder();
      const chunks = cutEvery(frame, 1);
      for (const chunk of chunks.slice(0, -1)) expect(decoder.push(chunk)).toEqual([]);
      expectProtocolError(() => decoder.push(chunks.at(-1) ?? new Uint8Array(0)), field);
    },
  );

  it("decodeFrame - a frame under 32 bytes or whose length field disagrees with its size throws 'length'", () => {
    expectProtocolError(() => decodeFrame(frameWithBody([...u32(0), ...u32(0), ...u32(0)])), 'length');
    const frame = encodeMessage(REQUEST);
    expectProtocolError(() => decodeFrame(Buffer.concat([frame, Uint8Array.of(0)])), 'length');
    expectProtocolError(() => decodeFrame(frame.subarray(0, frame.length - 1)), 'length');
  });
});

describe('maxMessageBytes', () => {
  const maxMessageBytes = 1024;
  const exact: Message = { ...REQUEST, payload: seededBytes(maxMessageBytes - 32, 5) };
  const over: Message = { ...REQUEST, payload: seededBytes(maxMessageBytes - 32 + 1, 5) };

  it('FrameDecoder - a frame of exactly maxMessageBytes is accepted, one byte more is refused', () => {
    const frame = encodeMessage(exact);
    expect(frame).toHaveLength(maxMessageBytes);
    expect(new FrameDecoder({ maxMessageBytes }).push(frame).map(view)).toEqual([view(exact)]);

    const tooBig = encodeMessage(over);
    expect(tooBig).toHaveLength(maxMessageBytes + 1);
    const decoder = new FrameDecoder({ maxMessageBytes });
    expectProtocolError(() => decoder.push(tooBig.subarray(0, 16)), 'length');
  });

  it("encodeMessage - refuses a frame over maxMessageBytes with ProtocolError 'length'", () => {
    expect(encodeMessage(exact, maxMessageBytes)).toHaveLength(maxMessageBytes);
    const error = expectProtocolError(() => encodeMessage(over, maxMessageBytes), 'length');
    expect(error.details).toMatchObject({ frameBytes: maxMessageBytes + 1, maxMessageBytes });
    expectProtocolError(() => encodeFrame(over, maxMessageBytes), 'length');
  });

  const BAD_FIELDS: readonly [string, Partial<Record<keyof Message, unknown>>][] = [
    ['serializeType 16', { serializeType: 16 }],
    ['serializeType 1.5', { serializeType: 1.5 }],
    ['seq -1n', { seq: -1n }],
    ['seq 2^64', { seq: 2n ** 64n }],
    ['compressType 8', { compressType: 8 }],
    ['status 4', { status: 4 }],
    ['messageType 2', { messageType: 2 }],
    ['magic 256', { magic: 256 }],
  ];

  it.each(BAD_FIELDS)('encodeMessage - refuses %s with RangeError', (_, fields) => {
    const message = { ...REQUEST, ...fields } as Message;
    expect(thrown(() => encodeMessage(message))).toBeInstanceOf(RangeError);
    expect(thrown(() => encodeFrame(message))).toBeInstanceOf(RangeError);
  });
});

describe('FrameDecoder options', () => {
  it.each([0, 1.5, Number.NaN, 31, Number.POSITIVE_INFINITY, -1])(
    'FrameDecoder - rejects maxMessageBytes %s with RangeError',
    (maxMessageBytes) => {
      expect(thrown(() => new FrameDecoder({ maxMessageBytes }))).toBeInstanceOf(RangeError);
    },
  );

  it.each([[[]], [[256]], [[-1]], [[0x42, 1.5]]])(
    'FrameDecoder - rejects magics %j with RangeError',
    (magics) => {
      expect(thrown(() => new FrameDecoder({ magics }))).toBeInstanceOf(RangeError);
    },
  );

  it.each([
    ['maxMetadataEntries', -1],
    ['maxMetadataEntries', 1.5],
    ['maxMetadataBytes', -1],
    ['maxMetadataBytes', Number.NaN],
  ])('FrameDecoder - rejects %s %s with a RangeError naming it', (name, value) => {
    const error = thrown(() => new FrameDecoder({ [name]: value }));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as RangeError).message).toMatch(new RegExp(`^${name} must be an integer >= 0`));
  });

  it('FrameDecoder - accepts the smallest maxMessageBytes (32) and decodes an empty frame with it', () => {
    expect(new FrameDecoder({ maxMessageBytes: 32 }).push(encodeMessage(REQUEST)).map(view)).toEqual([
      view(REQUEST),
    ]);
  });

  it('FrameDecoder - accepts both magics by default', () => {
    const decoder = new FrameDecoder();
    const frames = [REQUEST, { ...REQUEST, magic: 0x08 }];
    expect(decoder.push(Buffer.concat(frames.map((m) => encodeMessage(m)))).map(view)).toEqual(
      frames.map(view),
    );
  });
});
