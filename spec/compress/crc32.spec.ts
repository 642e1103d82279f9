import { Buffer } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../lib/compress/crc32.js';

describe('crc32', () => {
  it('crc32 - gives the standard check value for "123456789"', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it("crc32 - equals the CRC in node:zlib's gzip trailer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        const gzip = gzipSync(data);
        expect(crc32(data)).toBe(gzip.readUInt32LE(gzip.length - 8));
      }),
      { numRuns: 50 },
    );
  });

  it('crc32 - continues from a previous CRC as if the parts were one', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (first, second) => {
        expect(crc32(second, crc32(first))).toBe(crc32(Buffer.concat([first, second])));
      }),
    );
  });
});
