import { describe, expect, it } from 'vitest';
import {
  type Compressor,
  CompressorRegistry,
  CompressType,
  createDefaultCompressors,
  createGzipCompressor,
  gzipCompressor,
  noneCompressor,
} from '../../lib/compress/index.js';
import { ProtocolError } from '../../lib/errors/index.js';
import { thrown } from '../support/thrown.js';

const identity = (compressType: number): Compressor => ({
  compressType,
  name: 'identity',
  compress: (data) => data,
  decompress: (data) => data,
});

describe('compressor registry', () => {
  it('compressor registry - holds none and gzip by default', () => {
    const compressors = createDefaultCompressors();
    expect(compressors.get(CompressType.None)).toBe(noneCompressor);
    expect(compressors.get(CompressType.Gzip)).toBe(gzipCompressor);
    expect(compressors.has(2)).toBe(false);
  });

  it('compressor registry - gives each caller a fresh default registry', () => {
    createDefaultCompressors().register(identity(2));
    expect(createDefaultCompressors().has(2)).toBe(false);
  });

  it('compressor registry - fails an unknown compress type with a ProtocolError naming it', () => {
    const error = thrown(() => createDefaultCompressors().get(5));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).field).toBe('compressType');
    expect((error as ProtocolError).message).toMatch(
      /^unknown compress type 5; registered: 0 \(none\), 1 \(gzip\)/,
    );
    expect((error as ProtocolError).details).toEqual({ field: 'compressType', compressType: 5 });
  });

  it('compressor registry - replaces the compressor of a number registered again', () => {
    const best = createGzipCompressor({ level: 9 });
    expect(createDefaultCompressors().register(best).get(CompressType.Gzip)).toBe(best);
  });

  it('compressor registry - refuses compress types 8, -1 and 1.5 with a RangeError', () => {
    const compressors = new CompressorRegistry();
    for (const compressType of [8, -1, 1.5, Number.NaN]) {
      const error = thrown(() => compressors.register(identity(compressType)));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as RangeError).message).toContain('compressType must be an integer from 0 to 7');
    }
  });

  it('compressor registry - refuses a malformed compressor with a RangeError', () => {
    const compressors = new CompressorRegistry();
    for (const compressor of [null, { ...identity(3), name: '' }, { ...identity(3), decompress: 'no' }]) {
      expect(thrown(() => compressors.register(compressor as unknown as Compressor))).toBeInstanceOf(
        RangeError,
      );
    }
    expect(compressors.has(3)).toBe(false);
  });
});

describe('none compressor', () => {
  it('none compressor - passes payloads through both ways without copying', () => {
    const payload = new Uint8Array(10);
    expect(noneCompressor.compress(payload)).toBe(payload);
    expect(noneCompressor.decompress(payload, 10)).toBe(payload);
  });

  it('none compressor - applies maxBytes like a real compressor', () => {
    const error = thrown(() => noneCompressor.decompress(new Uint8Array(11), 10));
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).field).toBe('payload');
    expect(thrown(() => noneCompressor.decompress(new Uint8Array(1), -1))).toBeInstanceOf(RangeError);
  });
});
