import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompressType,
  compressPayload,
  DEFAULT_COMPRESS_THRESHOLD_BYTES,
  gzipCompressor,
  noneCompressor,
} from '../../lib/compress/index.js';

describe('compressPayload', () => {
  it('compressPayload - uses a 1024-byte threshold by default', () => {
    expect(DEFAULT_COMPRESS_THRESHOLD_BYTES).toBe(1024);
    const atThreshold = new Uint8Array(1024);
    expect(compressPayload(atThreshold, gzipCompressor).payload).toBe(atThreshold);
    expect(compressPayload(new Uint8Array(1025), gzipCompressor).compressType).toBe(CompressType.Gzip);
  });

  it('compressPayload - sends a payload up to the threshold as it is, with compress type none', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(3000), (payload, extra) => {
        const result = compressPayload(payload, gzipCompressor, payload.length + extra);
        expect(result.compressType).toBe(CompressType.None);
        expect(result.payload).toBe(payload);
      }),
    );
  });

  it('compressPayload - gzips a payload above the threshold, and the gzip decompresses to it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 4000 }), fc.nat(), (payload, below) => {
        const result = compressPayload(payload, gzipCompressor, below % payload.length);
        expect(result.compressType).toBe(CompressType.Gzip);
        expect([...gzipCompressor.decompress(result.payload, payload.length)]).toEqual([...payload]);
      }),
      { numRuns: 50 },
    );
  });

  it('compressPayload - never compresses with the none compressor', () => {
    const payload = new Uint8Array(5000);
    expect(compressPayload(payload, noneCompressor, 0)).toEqual({ payload, compressType: CompressType.None });
  });

  it('compressPayload - refuses a negative or NaN threshold with a RangeError', () => {
    expect(() => compressPayload(new Uint8Array(1), gzipCompressor, -1)).toThrow(RangeError);
    expect(() => compressPayload(new Uint8Array(1), gzipCompressor, Number.NaN)).toThrow(RangeError);
  });
});
