import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rawCodec, SerializeType } from '../../lib/codec/index.js';
import { CodecError } from '../../lib/errors/index.js';

function encodeError(value: unknown): CodecError {
  try {
    rawCodec.encode(value);
  } catch (error) {
    if (error instanceof CodecError) return error;
    throw error;
  }
  throw new Error('expected raw encode to throw');
}

describe('raw codec', () => {
  it('raw codec - answers to serialize type 0', () => {
    expect(rawCodec.serializeType).toBe(SerializeType.Raw);
    expect(rawCodec.name).toBe('raw');
  });

  it('raw codec - round trips any bytes without copying them', () => {
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        const encoded = rawCodec.encode(bytes);
        expect(encoded).toBe(bytes);
        expect(rawCodec.decode(encoded)).toBe(bytes);
      }),
    );
  });

  it('raw codec - accepts a Buffer as bytes', () => {
    const buffer = Buffer.from('hi');
    expect(rawCodec.encode(buffer)).toBe(buffer);
  });

  it('raw codec - refuses a string with a CodecError naming the type received', () => {
    const error = encodeError('hi');
    expect(error.message).toContain('received string');
    expect(error.details).toEqual({ serializeType: 0, codec: 'raw' });
  });

  it('raw codec - names the class of a non-bytes object it refuses', () => {
    expect(encodeError(new ArrayBuffer(2)).message).toContain('received ArrayBuffer');
    expect(encodeError([1, 2]).message).toContain('received Array');
    expect(encodeError(null).message).toContain('received null');
    expect(encodeError(undefined).message).toContain('received undefined');
  });
});
