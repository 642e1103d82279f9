import { Buffer } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompressType, createGzipCompressor, gzipCompressor } from '../../lib/compress/index.js';
import { ProtocolError } from '../../lib/errors/index.js';
import { thrown } from '../support/thrown.js';

const MiB = 1024 * 1024;

function expectPayloadError(action: () => unknown): ProtocolError {
  const error = thrown(action);
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).field).toBe('payload');
  return error as ProtocolError;
}

/** Bytes that compress well, so that the inflater emits many chunks. */
const compressible = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 3000 })), { maxLength: 40 })
  .map((runs) => Uint8Array.from(runs.flatMap(([byte, length]) => new Array<number>(length).fill(byte))));

describe('gzip compressor', () => {
  it('gzip compressor - answers to compress type 1', () => {
    expect(gzipCompressor.compressType).toBe(CompressType.Gzip);
    expect(gzipCompressor.name).toBe('gzip');
  });

  it('gzip compressor - round trips any bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 5000 }), compressible), (data) => {
        const restored = gzipCompressor.decompress(gzipCompressor.compress(data), data.length);
        expect(restored).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(restored).equals(Buffer.from(data))).toBe(true);
      }),
    );
  });

  it('gzip compressor - returns one contiguous array when the output came in many chunks', () => {
    const data = new Uint8Array(3 * MiB).map((_, index) => index % 7);
    const restored = gzipCompressor.decompress(gzipCompressor.compress(data), data.length);
    expect(restored.length).toBe(data.length);
    expect(restored.byteLength).toBe(restored.buffer.byteLength);
    expect(Buffer.from(restored).equals(Buffer.from(data))).toBe(true);
  });

  it("gzip compressor - reads node:zlib's gzip and writes gzip node:zlib reads", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (data) => {
        expect(
          Buffer.from(gzipCompressor.decompress(gzipSync(data), data.length)).equals(Buffer.from(data)),
        ).toBe(true);
        expect(gunzipSync(gzipCompressor.compress(data)).equals(Buffer.from(data))).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('gzip compressor - writes a zero modification time, so equal input gives equal bytes', () => {
    const compressed = gzipCompressor.compress(new TextEncoder().encode('hello'));
    expect([...compressed.subarray(4, 8)]).toEqual([0, 0, 0, 0]);
  });

  it('gzip compressor - reads concatenated gzip members as one payload, as Go does', () => {
    const first = new TextEncoder().encode('a'.repeat(5000));
    const second = new TextEncoder().encode('bc');
    const joined = Buffer.concat([gzipCompressor.compress(first), gzipSync(second)]);
    expect(Buffer.from(gzipCompressor.decompress(joined, 10_000)).toString()).toBe(`${'a'.repeat(5000)}bc`);
  });

  it('gzip compressor - decompresses up to exactly maxBytes and refuses one byte more', () => {
    const data = new Uint8Array(4096).fill(1);
    const compressed = gzipCompressor.compress(data);
    expect(gzipCompressor.decompress(compressed, 4096).length).toBe(4096);
    const error = expectPayloadError(() => gzipCompressor.decompress(compressed, 4095));
    expect(error.message).toMatch(/^gzip payload decompresses past maxDecompressedBytes \(4095 bytes\); /);
    expect(error.details).toMatchObject({ field: 'payload', maxDecompressedBytes: 4095 });
  });

  it('gzip compressor - stops a gzip bomb of 64 MiB of zeros after about maxBytes of output', () => {
    const bomb = gzipSync(Buffer.alloc(64 * MiB), { level: 9 });
    expect(bomb.length).toBeLessThan(128 * 1024);
    // zlib's maxOutputLength stops inflating at the limit: no buffer past it is ever allocated.
    const error = expectPayloadError(() => gzipCompressor.decompress(bomb, MiB));
    expect(error.message).toContain(`maxDecompressedBytes (${MiB} bytes)`);
  });

  it('gzip compressor - stops a bomb hidden in the second member', () => {
    const bomb = Buffer.concat([gzipSync(Buffer.from('ok')), gzipSync(Buffer.alloc(16 * MiB), { level: 9 })]);
    expectPayloadError(() => gzipCompressor.decompress(bomb, 256 * 1024));
  });

  it('gzip compressor - refuses every truncation of a gzip stream with a ProtocolError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 3000 }), compressible), fc.nat(), (data, cut) => {
        const compressed = gzipCompressor.compress(data);
        const truncated = compressed.subarray(0, cut % compressed.length);
        expect(expectPayloadError(() => gzipCompressor.decompress(truncated, 1e9)).message).toMatch(
          /^gzip payload (of \d+ bytes )?is (corrupt or )?truncated/,
        );
      }),
    );
  });

  it('gzip compressor - refuses a stream missing only its size trailer', () => {
    const compressed = gzipCompressor.compress(new TextEncoder().encode('hello world'));
    for (let cut = 1; cut <= 8; cut++) {
      expectPayloadError(() =>
        gzipCompressor.decompress(compressed.subarray(0, compressed.length - cut), 1e9),
      );
    }
  });

  it('gzip compressor - refuses a wrong CRC-32 and trailing bytes', () => {
    const compressed = Uint8Array.from(gzipCompressor.compress(new TextEncoder().encode('hello world')));
    const wrongCrc = Uint8Array.from(compressed);
    wrongCrc[compressed.length - 8] = (wrongCrc[compressed.length - 8] as number) ^ 1;
    expectPayloadError(() => gzipCompressor.decompress(wrongCrc, 1e9));
    for (const extra of [[0], [1, 2, 3], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]) {
      expectPayloadError(() =>
        gzipCompressor.decompress(Buffer.concat([compressed, Uint8Array.from(extra)]), 1e9),
      );
    }
  });

  it('gzip compressor - never returns wrong bytes for a flipped bit: a ProtocolError or the original', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 3000 }), compressible),
        fc.nat(),
        fc.nat(7),
        (data, position, bit) => {
          const corrupt = Uint8Array.from(gzipCompressor.compress(data));
          const index = 10 + (position % (corrupt.length - 10));
          corrupt[index] = (corrupt[index] as number) ^ (1 << bit);
          let restored: Uint8Array;
          try {
            restored = gzipCompressor.decompress(corrupt, 1e9);
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
            return;
          }
          // Only a padding bit after the last deflate block can change without changing the data.
          expect(Buffer.from(restored).equals(Buffer.from(data))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gzip compressor - turns random bytes into a ProtocolError, never another error', () => {
    const gzipHeader = fc
      .uint8Array({ maxLength: 200 })
      .map((rest) => Uint8Array.from([0x1f, 0x8b, 8, 0, ...rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), gzipHeader), (bytes) => {
        expectPayloadError(() => gzipCompressor.decompress(bytes, 1e6));
      }),
      { numRuns: 2_000 },
    );
  });

  it('gzip compressor - refuses a negative or NaN maxBytes with a RangeError', () => {
    const compressed = gzipCompressor.compress(new Uint8Array(10));
    expect(thrown(() => gzipCompressor.decompress(compressed, -1))).toBeInstanceOf(RangeError);
    expect(thrown(() => gzipCompressor.decompress(compressed, Number.NaN))).toBeInstanceOf(RangeError);
  });

  it('gzip compressor - compresses at the level asked for, and refuses a level outside 0..9', () => {
    const data = new Uint8Array(10_000);
    expect(createGzipCompressor({ level: 0 }).compress(data).length).toBeGreaterThan(10_000);
    expect(createGzipCompressor({ level: 9 }).compress(data).length).toBeLessThan(100);
    expect(thrown(() => createGzipCompressor({ level: 10 as 9 }))).toBeInstanceOf(RangeError);
  });
});
