import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { jsonCodec, msgpackCodec, protobufCodec } from '../../lib/codec/index.js';
import {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  decodeFrame,
  EMPTY_METADATA,
  EMPTY_PAYLOAD,
  encodeMessage,
  type Message,
  MetadataKey,
  PHOBOS,
  RPCX,
  type ServerErrorCode,
} from '../../lib/protocol/index.js';
import {
  cancelMessage,
  errorReply,
  heartbeatMessage,
  heartbeatReply,
  replyMessage,
  requestMessage,
} from '../../lib/protocol/messages.js';
import { type GoFrame, goFrames } from '../support/go-frames.js';
import { hexOf, MAX_UINT64, messageArb, metadataArb, smallPayloadArb, unicodeString } from './arbitraries.js';

// Each factory against the literal the library wrote by hand before it, field by field, and
// against Go's frames where the fixture has one.

const magicArb = fc.constantFrom(PHOBOS.magic, RPCX.magic);
const seqArb = fc.bigInt({ min: 0n, max: MAX_UINT64 });
const serializeTypeArb = fc.integer({ min: 0, max: 15 });
const compressTypeArb = fc.integer({ min: 0, max: 7 });
const codeArb = fc.constantFrom<ServerErrorCode | undefined>(
  undefined,
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'INVALID_ARGUMENT',
  'UNAUTHENTICATED',
);
/** Limits under which any metadata makes a decoded frame `invalid`. */
const limitsOfNone = { maxMetadataEntries: 0, maxMetadataBytes: 0 };
/** A request as a decoder gives it, sometimes with `invalid` set (when it has metadata). */
const receivedArb = fc
  .tuple(messageArb(), fc.boolean())
  .map(
    ([message, invalid]): Message => (invalid ? decodeFrame(encodeMessage(message), limitsOfNone) : message),
  );

/** The keys of a decoded message, in the decoder's order: the shape every factory keeps. */
const SHAPE = Object.keys(
  decodeFrame(encodeMessage(heartbeatMessage(PHOBOS.magic, 1n)), {
    maxMetadataEntries: 128,
    maxMetadataBytes: 1024,
  }),
);

function expectSameFrame(built: Message, literal: Message): void {
  expect(hexOf(encodeMessage(built))).toBe(hexOf(encodeMessage(literal)));
  expect(Object.keys(built)).toEqual(SHAPE);
}

describe('message factories', () => {
  it('requestMessage - builds the frame of the client request and server push literals', () => {
    fc.assert(
      fc.property(
        fc.record({
          magic: magicArb,
          seq: seqArb,
          service: unicodeString(20),
          method: unicodeString(20),
          metadata: metadataArb,
          payload: smallPayloadArb,
          serializeType: serializeTypeArb,
          compressType: compressTypeArb,
          oneway: fc.boolean(),
        }),
        (f) => {
          const literal: Message = {
            magic: f.magic,
            messageType: 0,
            heartbeat: false,
            oneway: f.oneway,
            compressType: f.compressType,
            status: 0,
            serializeType: f.serializeType,
            seq: f.seq,
            servicePath: f.service,
            serviceMethod: f.method,
            metadata: f.metadata,
            payload: f.payload,
          };
          const built = requestMessage(
            f.magic,
            f.seq,
            f.service,
            f.method,
            f.metadata,
            f.payload,
            f.serializeType,
            f.compressType,
            f.oneway,
          );
          expectSameFrame(built, literal);
        },
      ),
    );
  });

  it('requestMessage - defaults to an uncompressed call that expects a reply', () => {
    const built = requestMessage(PHOBOS.magic, 3n, 'Arith', 'Mul', EMPTY_METADATA, EMPTY_PAYLOAD, 1);
    expect(built).toMatchObject({ oneway: false, compressType: 0, status: 0, messageType: 0 });
  });

  it('replyMessage - builds the frame of the server reply literal ({ ...request, reply fields })', () => {
    fc.assert(
      fc.property(
        receivedArb,
        metadataArb,
        smallPayloadArb,
        compressTypeArb,
        (request, metadata, payload, ct) => {
          const { invalid: _invalid, ...fields } = request;
          const literal: Message = {
            ...fields,
            messageType: 1,
            compressType: ct,
            status: 0,
            metadata,
            payload,
          };
          expectSameFrame(replyMessage(request, metadata, payload, ct), literal);
        },
      ),
    );
  });

  it('errorReply - builds the frame of the server error reply literal, message and code in the metadata', () => {
    fc.assert(
      fc.property(
        receivedArb,
        fc.constantFrom(PHOBOS, RPCX),
        unicodeString(40),
        codeArb,
        metadataArb,
        (request, dialect, text, code, handlerMetadata) => {
          const expected = new Map(handlerMetadata);
          expected.set(dialect.errorKey, text);
          if (code) expected.set(MetadataKey.ErrorCode, code);
          const { invalid: _invalid, ...fields } = request;
          const literal: Message = {
            ...fields,
            magic: dialect.magic,
            messageType: 1,
            compressType: 0,
            status: 1,
            metadata: expected,
            payload: EMPTY_PAYLOAD,
          };
          const given = new Map(handlerMetadata);
          const built = errorReply(request, dialect, text, code, given);
          expectSameFrame(built, literal);
          expect(built.metadata).toBe(given);
        },
      ),
    );
  });

  it('errorReply - without metadata, carries only the message (and the code when given)', () => {
    const request = requestMessage(RPCX.magic, 9n, 'Arith', 'Div', new Map([['k', 'v']]), EMPTY_PAYLOAD, 1);
    expect([...errorReply(request, RPCX, 'boom').metadata]).toEqual([[MetadataKey.RpcxError, 'boom']]);
    expect([...errorReply(request, PHOBOS, 'no such method', 'NOT_FOUND').metadata]).toEqual([
      [MetadataKey.PhobosError, 'no such method'],
      [MetadataKey.ErrorCode, 'NOT_FOUND'],
    ]);
  });

  it('heartbeatMessage - builds the frame of the client heartbeat literal', () => {
    fc.assert(
      fc.property(magicArb, seqArb, metadataArb, (magic, seq, metadata) => {
        const literal: Message = {
          magic,
          messageType: 0,
          heartbeat: true,
          oneway: false,
          compressType: 0,
          status: 0,
          serializeType: 0,
          seq,
          servicePath: '',
          serviceMethod: '',
          metadata,
          payload: EMPTY_PAYLOAD,
        };
        expectSameFrame(heartbeatMessage(magic, seq, metadata), literal);
      }),
    );
    expect(heartbeatMessage(PHOBOS.magic, 1n).metadata).toBe(EMPTY_METADATA);
  });

  it('heartbeatReply - builds the frame of the echo literal ({ ...heartbeat, messageType: 1 }), invalid left out', () => {
    fc.assert(
      fc.property(receivedArb, (heartbeat) => {
        const { invalid: _invalid, ...fields } = heartbeat;
        const echo = heartbeatReply(heartbeat);
        expectSameFrame(echo, { ...fields, messageType: 1 });
        expect(echo.invalid).toBeUndefined();
      }),
    );
  });

  it('cancelMessage - builds the frame of the cancel notice literal: its own seq, the cancelled one as payload', () => {
    fc.assert(
      fc.property(magicArb, seqArb, seqArb, (magic, seq, cancelled) => {
        const payload = Buffer.allocUnsafe(8);
        payload.writeBigUInt64BE(cancelled, 0);
        const literal: Message = {
          magic,
          messageType: 0,
          heartbeat: false,
          oneway: true,
          compressType: 0,
          status: 0,
          serializeType: 0,
          seq,
          servicePath: CANCEL_SERVICE_PATH,
          serviceMethod: CANCEL_METHOD,
          metadata: EMPTY_METADATA,
          payload,
        };
        expectSameFrame(cancelMessage(magic, seq, cancelled), literal);
      }),
    );
  });

  it('cancelMessage - refuses a cancelled seq that is not a uint64 with a RangeError', () => {
    expect(() => cancelMessage(PHOBOS.magic, 1n, -1n)).toThrow(RangeError);
    expect(() => cancelMessage(PHOBOS.magic, 1n, MAX_UINT64 + 1n)).toThrow(RangeError);
  });
});

/** The hex of the frames of a golden case in one direction, in order. */
function goldenHex(name: string, direction: GoFrame['direction']): string[] {
  return goFrames(name, direction).map(hexOf);
}

describe('message factories against Go frames', () => {
  const mul = (seq: bigint, codec = jsonCodec, metadata = EMPTY_METADATA): Message =>
    requestMessage(
      PHOBOS.magic,
      seq,
      'Arith',
      'Mul',
      metadata,
      codec.encode({ A: 7, B: 8 }),
      codec.serializeType,
    );

  it('Arith.Mul in JSON and MsgPack: the request and the reply are byte for byte what Go sends', () => {
    for (const [name, codec, reply] of [
      ['Arith.Mul {A:7,B:8}, JSON', jsonCodec, { C: 56 }],
      ['Arith.Mul {A:7,B:8}, msgpack', msgpackCodec, { C: 56 }],
    ] as const) {
      const request = mul(0n, codec);
      expect(hexOf(encodeMessage(request))).toBe(goldenHex(name, 'client->server')[0]);
      const answer = replyMessage(request, EMPTY_METADATA, codec.encode(reply));
      expect(hexOf(encodeMessage(answer))).toBe(goldenHex(name, 'server->client')[0]);
    }
  });

  it('two calls with metadata k=v: seq 0 and 1, replies without metadata', () => {
    const requests = [0n, 1n].map((seq) => mul(seq, jsonCodec, new Map([['k', 'v']])));
    expect(requests.map((r) => hexOf(encodeMessage(r)))).toEqual(
      goldenHex('Arith.Mul with request metadata', 'client->server'),
    );
    const replies = requests.map((r) => replyMessage(r, EMPTY_METADATA, jsonCodec.encode({ C: 56 })));
    expect(replies.map((r) => hexOf(encodeMessage(r)))).toEqual(
      goldenHex('Arith.Mul with request metadata', 'server->client'),
    );
  });

  it('PBArith.Mul in Protobuf: the request and the reply are byte for byte what Go sends', () => {
    const root = protobuf.parse(
      'syntax = "proto3"; message Args { int32 A = 1; int32 B = 2; } message Reply { int32 C = 1; }',
    ).root;
    const request = requestMessage(
      PHOBOS.magic,
      0n,
      'PBArith',
      'Mul',
      EMPTY_METADATA,
      protobufCodec.encode({ A: 7, B: 8 }, { type: root.lookupType('Args') }),
      protobufCodec.serializeType,
    );
    expect(hexOf(encodeMessage(request))).toBe(goldenHex('PBArith.Mul', 'client->server')[0]);
    const reply = replyMessage(
      request,
      EMPTY_METADATA,
      protobufCodec.encode({ C: 56 }, { type: root.lookupType('Reply') }),
    );
    expect(hexOf(encodeMessage(reply))).toBe(goldenHex('PBArith.Mul', 'server->client')[0]);
  });

  it('a heartbeat and its echo are byte for byte what Go sends', () => {
    const ping = heartbeatMessage(PHOBOS.magic, 0n);
    expect(hexOf(encodeMessage(ping))).toBe(goldenHex('heartbeat', 'client->server')[0]);
    expect(hexOf(encodeMessage(heartbeatReply(ping)))).toBe(goldenHex('heartbeat', 'server->client')[0]);
  });

  it("a handler's error reply is byte for byte what Go sends", () => {
    const request = requestMessage(
      PHOBOS.magic,
      0n,
      'Arith',
      'Div',
      EMPTY_METADATA,
      jsonCodec.encode({ A: 7, B: 0 }),
      jsonCodec.serializeType,
    );
    expect(hexOf(encodeMessage(request))).toBe(goldenHex('Arith.Div', 'client->server')[0]);
    const reply = errorReply(request, PHOBOS, 'divide by zero');
    expect(hexOf(encodeMessage(reply))).toBe(goldenHex('Arith.Div', 'server->client')[0]);
  });
});
