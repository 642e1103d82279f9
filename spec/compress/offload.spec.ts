import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Compressor,
  CompressorRegistry,
  CompressType,
  compressPayloadOffloading,
  createGzipCompressor,
  DEFAULT_OFFLOAD_THRESHOLD_BYTES,
  decompressPayload,
  decompressPayloadOffloading,
  gzipCompressor,
  noneCompressor,
} from '../../lib/compress/index.js';
import { ProtocolError } from '../../lib/errors/index.js';

const KiB = 1024;
const gzipAsync = gzipCompressor.compressAsync as NonNullable<Compressor['compressAsync']>;
const gunzipAsync = gzipCompressor.decompressAsync as NonNullable<Compressor['decompressAsync']>;

/** Bytes that compress, but not to nothing: a few distinct words repeated at random. */
function text(bytes: number, seed = 1): Uint8Array {
  const words = ['alpha ', 'beta ', 'gamma ', 'delta ', 'epsilon '];
  let state = seed;
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    const word = words[state % words.length] as string;
    parts.push(word);
    length += word.length;
  }
  return Buffer.from(parts.join('').slice(0, bytes));
}

/** gzip whose calls are recorded: which form ran, and with what limit. */
function recordingGzip(): { compressor: Compressor; calls: string[] } {
  const calls: string[] = [];
  const compressor: Compressor = {
    compressType: CompressType.Gzip,
    name: 'gzip',
    compress: (data) => {
      calls.push('compress');
      return gzipCompressor.compress(data);
    },
    decompress: (data, maxBytes) => {
      calls.push(`decompress ${maxBytes}`);
      return gzipCompressor.decompress(data, maxBytes);
    },
    compressAsync: (data) => {
      calls.push('compressAsync');
      return gzipAsync(data);
    },
    decompressAsync: (data, maxBytes) => {
      calls.push(`decompressAsync ${maxBytes}`);
      return gunzipAsync(data, maxBytes);
    },
    inflatedSizeHint: (data) => gzipCompressor.inflatedSizeHint?.(data),
  };
  return { compressor, calls };
}

function limits(compressor: Compressor, offloadThresholdBytes: number, more: object = {}) {
  return {
    compressors: new CompressorRegistry().register(noneCompressor).register(compressor),
    maxDecompressedBytes: 4 * 1024 * KiB,
    maxCompressionRatio: 200,
    offloadThresholdBytes,
    ...more,
  };
}

describe('gzip off the event loop', () => {
  it('gzipCompressor - decompressAsync gives what decompress gives, and compressAsync what compress gives', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 70_000 }),
        fc.integer({ min: 0, max: 9 }),
        async (data, level) => {
          const gzip = createGzipCompressor({ level: level as 0 });
          const bytes = gzip.compress(data);
          expect(Buffer.from((await gzip.compressAsync?.(data)) as Uint8Array)).toEqual(Buffer.from(bytes));
          const back = (await gzip.decompressAsync?.(bytes, data.length)) as Uint8Array;
          expect(Buffer.from(back)).toEqual(Buffer.from(gzip.decompress(bytes, data.length)));
          expect(gzip.inflatedSizeHint?.(bytes)).toBe(data.length);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('gzipCompressor - decompressAsync refuses a bomb past maxBytes, corrupt, truncated and trailing bytes, as decompress does', async () => {
    const bomb = gzipSync(new Uint8Array(2 * 1024 * KiB));
    const refused = (data: Uint8Array, maxBytes: number) =>
      gunzipAsync(data, maxBytes).then(
        () => undefined,
        (error: unknown) => error,
      );
    const past = await refused(bomb, 64 * KiB);
    expect(past).toBeInstanceOf(ProtocolError);
    expect((past as ProtocolError).details).toMatchObject({ maxDecompressedBytes: 64 * KiB });
    expect((past as Error).message).toMatch(/past maxDecompressedBytes \(65536 bytes\)/);

    const good = gzipSync(text(10 * KiB));
    const corrupt = Buffer.from(good);
    corrupt[20] = (corrupt[20] as number) ^ 0xff;
    expect(await refused(corrupt, 64 * KiB)).toMatchObject({ field: 'payload', message: /corrupt/ });
    expect(await refused(good.subarray(0, good.length - 5), 64 * KiB)).toMatchObject({
      message: /corrupt or truncated/,
    });
    expect(await refused(good.subarray(0, 10), 64 * KiB)).toMatchObject({ message: /truncated/ });
    expect(await refused(Buffer.concat([good, Buffer.from('junk')]), 64 * KiB)).toBeInstanceOf(ProtocolError);
    await expect(gunzipAsync(good, -1)).rejects.toBeInstanceOf(RangeError);
    // Two members, as Go reads them.
    const two = await gunzipAsync(Buffer.concat([good, good]), 64 * KiB);
    expect(two.length).toBe(20 * KiB);
  });

  it('compressPayloadOffloading - up to the offload threshold it compresses here; past it, on the pool', async () => {
    const { compressor, calls } = recordingGzip();
    const small = text(DEFAULT_OFFLOAD_THRESHOLD_BYTES);
    const here = compressPayloadOffloading(small, compressor, 1024, DEFAULT_OFFLOAD_THRESHOLD_BYTES);
    expect(here).not.toBeInstanceOf(Promise);
    expect(calls).toEqual(['compress']);

    const big = text(DEFAULT_OFFLOAD_THRESHOLD_BYTES + 1);
    const there = compressPayloadOffloading(big, compressor, 1024, DEFAULT_OFFLOAD_THRESHOLD_BYTES);
    expect(there).toBeInstanceOf(Promise);
    const { payload, compressType } = await there;
    expect(compressType).toBe(CompressType.Gzip);
    expect(Buffer.from(gzipCompressor.decompress(payload, big.length))).toEqual(Buffer.from(big));
    expect(calls).toEqual(['compress', 'compressAsync']);

    // Below the compress threshold nothing is compressed, wherever; none never compresses.
    expect(compressPayloadOffloading(big, compressor, big.length, 0)).toEqual({
      payload: big,
      compressType: 0,
    });
    expect(compressPayloadOffloading(big, noneCompressor, 0, 0)).toEqual({ payload: big, compressType: 0 });
    // A compressor without an async form compresses here.
    const { compressAsync: _, ...syncOnly } = compressor;
    expect(compressPayloadOffloading(big, syncOnly, 0, 0)).not.toBeInstanceOf(Promise);
    expect(() => compressPayloadOffloading(big, compressor, -1, 0)).toThrow(RangeError);
  });

  it('decompressPayloadOffloading - inflates here what cannot pass the threshold, on the pool what says it will', async () => {
    const { compressor, calls } = recordingGzip();
    const offloadAt = 64 * KiB;
    // 200 x 300 bytes = 60,000: the bound is within the threshold whatever the trailer says.
    const small = gzipCompressor.compress(Buffer.alloc(50_000, 'a'));
    expect(small.length).toBeLessThan(300);
    const here = decompressPayloadOffloading(small, CompressType.Gzip, limits(compressor, offloadAt));
    expect(here).not.toBeInstanceOf(Promise);
    expect((here as Uint8Array).length).toBe(50_000);
    expect(calls).toEqual([`decompress ${small.length * 200}`]);

    calls.length = 0;
    const big = gzipCompressor.compress(text(256 * KiB));
    const there = decompressPayloadOffloading(big, CompressType.Gzip, limits(compressor, offloadAt));
    expect(there).toBeInstanceOf(Promise);
    expect(Buffer.from(await there).equals(text(256 * KiB))).toBe(true);
    expect(calls).toEqual([`decompressAsync ${Math.min(4 * 1024 * KiB, big.length * 200)}`]);

    // None is never inflated; a compressor without an async form inflates here.
    const plain = text(100);
    expect(decompressPayloadOffloading(plain, CompressType.None, limits(compressor, 0))).toBe(plain);
    const { decompressAsync: _, ...syncOnly } = compressor;
    expect(decompressPayloadOffloading(big, CompressType.Gzip, limits(syncOnly, 0))).not.toBeInstanceOf(
      Promise,
    );
  });

  it('decompressPayloadOffloading - a trailer that says small is inflated here only up to the threshold, then again on the pool', async () => {
    const { compressor, calls } = recordingGzip();
    const offloadAt = 64 * KiB;
    // Two members of 40 KiB: the trailer (the last member's) says 40 KiB, the payload is 80 KiB.
    const member = gzipCompressor.compress(text(40 * KiB));
    const two = Buffer.concat([member, member]);
    expect(gzipCompressor.inflatedSizeHint?.(two)).toBe(40 * KiB);
    const result = decompressPayloadOffloading(two, CompressType.Gzip, limits(compressor, offloadAt));
    expect(result).toBeInstanceOf(Promise);
    expect((await result).length).toBe(80 * KiB);
    expect(calls).toEqual([
      `decompress ${offloadAt}`,
      `decompressAsync ${Math.min(4 * 1024 * KiB, two.length * 200)}`,
    ]);
  });

  it('decompressPayloadOffloading - rejects with the errors decompressPayload throws: size bound, ratio bound, corrupt, unknown type', async () => {
    const offloadAt = 16 * KiB;
    const cases: Array<[string, Uint8Array, number, object]> = [
      [
        'size',
        gzipSync(new Uint8Array(2 * 1024 * KiB)),
        1,
        { maxDecompressedBytes: 1024 * KiB, maxCompressionRatio: 100_000 },
      ],
      ['ratio', gzipSync(new Uint8Array(256 * KiB)), 1, {}],
      ['corrupt', Buffer.alloc(4096, 7), 1, {}],
    ];
    for (const [name, payload, type, more] of cases) {
      const sync = (() => {
        try {
          decompressPayload(payload, type, limits(gzipCompressor, offloadAt, more));
        } catch (error) {
          return error as ProtocolError;
        }
        throw new Error(`${name}: decompressPayload did not throw`);
      })();
      const offloaded = await (async () => {
        try {
          await decompressPayloadOffloading(payload, type, limits(gzipCompressor, offloadAt, more));
        } catch (error) {
          return error as ProtocolError;
        }
        throw new Error(`${name}: decompressPayloadOffloading did not fail`);
      })();
      expect(offloaded, name).toBeInstanceOf(ProtocolError);
      if (name !== 'corrupt') expect(offloaded.message, name).toBe(sync.message);
      expect(offloaded.details, name).toMatchObject({ compressedBytes: payload.length });
    }
    expect(() => decompressPayloadOffloading(new Uint8Array(20), 5, limits(gzipCompressor, 0))).toThrow(
      /unknown compress type 5/,
    );
  });
});
