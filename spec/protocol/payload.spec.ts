import fc from 'fast-check';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { type Codec, jsonCodec, msgpackCodec, protobufCodec } from '../../lib/codec/index.js';
import {
  type CompressedPayload,
  CompressType,
  createDefaultCompressors,
  decompressPayload,
  gzipCompressor,
} from '../../lib/compress/index.js';
import { CodecError, ProtocolError } from '../../lib/errors/index.js';
import { decodeFrame, EMPTY_PAYLOAD } from '../../lib/protocol/index.js';
import {
  decodeInflated,
  decodePayload,
  type EncodedPayload,
  encodePayload,
} from '../../lib/protocol/payload.js';
import { goFrames } from '../support/go-frames.js';
import { thrown } from '../support/thrown.js';
import { hexOf, seededBytes } from './arbitraries.js';

const KiB = 1024;

function limits(more: Partial<{ maxDecompressedBytes: number; maxCompressionRatio: number }> = {}) {
  return {
    compressors: createDefaultCompressors(),
    maxDecompressedBytes: 4 * 1024 * KiB,
    maxCompressionRatio: 200,
    compressThresholdBytes: 1024,
    offloadThresholdBytes: 64 * KiB,
    ...more,
  };
}

/** What encodePayload gave, awaited, with its compress type (none for bare bytes). */
async function settled(encoded: EncodedPayload): Promise<CompressedPayload> {
  const ready = await encoded;
  return ready instanceof Uint8Array ? { payload: ready, compressType: CompressType.None } : ready;
}

/** The rejection of a promise, or what a function threw. */
async function failure(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/**
 * Checks that decodePayload refuses a gzip payload with the error decompressPayload throws for
 * it (a ProtocolError of `payload` whose message matches `message`): thrown when inflated here,
 * the rejection of its promise when inflated on the thread pool.
 */
async function expectRefusedAsDecompressPayload(
  gzip: Uint8Array,
  bounded: ReturnType<typeof limits>,
  message: RegExp,
): Promise<void> {
  const expected = thrown(() => decompressPayload(gzip, CompressType.Gzip, bounded)) as Error;
  expect(expected.message).toMatch(message);
  const here = thrown(() => decodePayload(gzip, CompressType.Gzip, jsonCodec, undefined, bounded));
  const offloaded = decodePayload(gzip, CompressType.Gzip, jsonCodec, undefined, {
    ...bounded,
    offloadThresholdBytes: 0,
  });
  expect(offloaded).toBeInstanceOf(Promise);
  for (const error of [here, await failure(() => offloaded)]) {
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).field).toBe('payload');
    expect((error as Error).message).toBe(expected.message);
  }
}

/** JSON values that come back equal from JSON and from MsgPack (no -0, no undefined). */
const valueArb = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown);

/** A codec and a value it encodes: JSON, MsgPack, or raw bytes without a codec. */
const encodableArb = fc.oneof(
  fc.record({ codec: fc.constant<Codec | undefined>(jsonCodec), value: valueArb }),
  fc.record({ codec: fc.constant<Codec | undefined>(msgpackCodec), value: valueArb }),
  fc.record({
    codec: fc.constant<Codec | undefined>(undefined),
    value: fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc
        .record({ length: fc.integer({ min: 1, max: 80 * KiB }), seed: fc.integer() })
        .map(({ length, seed }) =>
          // Compressible: a short random pattern repeated.
          new Uint8Array(length).map((_, i) => seededBytes(16, seed)[i % 16] as number),
        ),
    ),
  }),
);

describe('payload module', () => {
  it('encodePayload and decodePayload - round trip any value over JSON, MsgPack and raw, compressed or not', async () => {
    await fc.assert(
      fc.asyncProperty(
        encodableArb,
        fc.boolean(),
        fc.integer({ min: 0, max: 2048 }),
        fc.constantFrom(0, 4 * KiB, 64 * KiB, Number.POSITIVE_INFINITY),
        async ({ codec, value }, compress, compressThresholdBytes, offloadThresholdBytes) => {
          const options = limits();
          const thresholds = { compressThresholdBytes, offloadThresholdBytes };
          const encoded = encodePayload(
            value,
            codec,
            undefined,
            compress ? gzipCompressor : undefined,
            thresholds,
          );
          const plain = encodePayload(value, codec, undefined);
          const { payload, compressType } = await settled(encoded);
          if (!compress) expect(encoded).toBeInstanceOf(Uint8Array);
          const shouldCompress = compress && plain.length > compressThresholdBytes;
          expect(compressType).toBe(shouldCompress ? CompressType.Gzip : CompressType.None);
          if (!shouldCompress) expect(hexOf(payload)).toBe(hexOf(plain));
          // Sync unless it was large enough to go to the thread pool.
          if (!(compress && plain.length > Math.max(compressThresholdBytes, offloadThresholdBytes)))
            expect(encoded).not.toBeInstanceOf(Promise);
          const decoded = await decodePayload(payload, compressType, codec, undefined, {
            ...options,
            offloadThresholdBytes,
          });
          if (codec === undefined) expect(hexOf(decoded as Uint8Array)).toBe(hexOf(value as Uint8Array));
          else expect(decoded).toEqual(value);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("encodePayload and decodePayload - give and read Go's payload bytes in JSON, MsgPack and Protobuf", () => {
    const root = protobuf.parse(
      'syntax = "proto3"; message Args { int32 A = 1; int32 B = 2; } message Reply { int32 C = 1; }',
    ).root;
    for (const [name, codec, args, reply] of [
      ['Arith.Mul {A:7,B:8}, JSON', jsonCodec, undefined, undefined],
      ['Arith.Mul {A:7,B:8}, msgpack', msgpackCodec, undefined, undefined],
      ['PBArith.Mul', protobufCodec, root.lookupType('Args'), root.lookupType('Reply')],
    ] as const) {
      const request = decodeFrame(goFrames(name, 'client->server')[0] as Buffer);
      expect(hexOf(encodePayload({ A: 7, B: 8 }, codec, args))).toBe(hexOf(request.payload));
      const answer = decodeFrame(goFrames(name, 'server->client')[0] as Buffer);
      const decoded = decodePayload(answer.payload, answer.compressType, codec, reply, limits());
      expect(reply === undefined ? decoded : reply.toObject(decoded as protobuf.Message)).toEqual({ C: 56 });
    }
  });

  it('encodePayload - encodes undefined as no bytes, which decode to undefined (raw: to no bytes)', () => {
    expect(encodePayload(undefined, jsonCodec, undefined)).toBe(EMPTY_PAYLOAD);
    expect(encodePayload(undefined, undefined, undefined)).toBe(EMPTY_PAYLOAD);
    expect(decodePayload(EMPTY_PAYLOAD, CompressType.None, jsonCodec, undefined, limits())).toBeUndefined();
    expect(decodePayload(EMPTY_PAYLOAD, CompressType.None, undefined, undefined, limits())).toBe(
      EMPTY_PAYLOAD,
    );
  });

  it('encodePayload - passes raw bytes through as they are, and refuses anything else with a TypeError', () => {
    const bytes = Uint8Array.of(1, 2, 3);
    expect(encodePayload(bytes, undefined, undefined)).toBe(bytes);
    const error = thrown(() => encodePayload('hi', undefined, undefined));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('a raw call takes its payload as a Uint8Array, got "hi"');
  });

  it('encodePayload - fails a value the codec cannot encode with its CodecError', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodePayload(cyclic, jsonCodec, undefined)).toThrow(CodecError);
    expect(() => encodePayload(cyclic, jsonCodec, undefined, gzipCompressor, limits())).toThrow(CodecError);
  });

  it('encodePayload - compresses past the offload threshold on the thread pool, as a promise', async () => {
    const big = new Uint8Array(80 * KiB).fill(7);
    const encoded = encodePayload(big, undefined, undefined, gzipCompressor, limits());
    expect(encoded).toBeInstanceOf(Promise);
    const { payload, compressType } = await (encoded as Promise<CompressedPayload>);
    expect(compressType).toBe(CompressType.Gzip);
    expect(hexOf(gzipCompressor.decompress(payload, big.length))).toBe(hexOf(big));
  });

  it('decodePayload - refuses a payload past maxDecompressedBytes with the ProtocolError decompressPayload throws, here and on the thread pool', async () => {
    const gzip = gzipCompressor.compress(new Uint8Array(2 * KiB).fill(1));
    await expectRefusedAsDecompressPayload(
      gzip,
      limits({ maxDecompressedBytes: 1 * KiB }),
      /maxDecompressedBytes \(1024 bytes\)/,
    );
  });

  it('decodePayload - refuses a payload that inflates past maxCompressionRatio, here and on the thread pool', async () => {
    const bomb = gzipCompressor.compress(new Uint8Array(256 * KiB));
    await expectRefusedAsDecompressPayload(
      bomb,
      limits({ maxCompressionRatio: 10 }),
      /inflates more than maxCompressionRatio \(10\) times/,
    );
  });

  it('decodePayload - fails an unknown compress type and a corrupt gzip with a ProtocolError', () => {
    const unknown = thrown(() => decodePayload(Uint8Array.of(1), 5, jsonCodec, undefined, limits()));
    expect(unknown).toBeInstanceOf(ProtocolError);
    expect((unknown as ProtocolError).field).toBe('compressType');
    const corrupt = thrown(() =>
      decodePayload(seededBytes(64, 9), CompressType.Gzip, jsonCodec, undefined, limits()),
    );
    expect(corrupt).toBeInstanceOf(ProtocolError);
    expect((corrupt as ProtocolError).field).toBe('payload');
  });

  it('decodePayload - fails bytes the codec cannot decode with its CodecError, here and after the thread pool', async () => {
    const notJson = new TextEncoder().encode('{"A":');
    expect(() => decodePayload(notJson, CompressType.None, jsonCodec, undefined, limits())).toThrow(
      CodecError,
    );
    const padded = new TextEncoder().encode(`{"A":${' '.repeat(100 * KiB)}`);
    const offloaded = decodePayload(
      gzipCompressor.compress(padded),
      CompressType.Gzip,
      jsonCodec,
      undefined,
      limits({ maxCompressionRatio: 1000 }),
    );
    expect(offloaded).toBeInstanceOf(Promise);
    expect(await failure(() => offloaded)).toBeInstanceOf(CodecError);
  });

  it('decodeInflated - decodes with the codec, or hands over the bytes without one', () => {
    const bytes = new TextEncoder().encode('{"C":56}');
    expect(decodeInflated(bytes, jsonCodec, undefined)).toEqual({ C: 56 });
    expect(decodeInflated(bytes, undefined, undefined)).toBe(bytes);
    expect(decodeInflated(EMPTY_PAYLOAD, msgpackCodec, undefined)).toBeUndefined();
  });
});
