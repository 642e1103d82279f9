import { describe, expect, it } from 'vitest';
import { printable } from '../../lib/cli/error-report.js';
import { toJson } from '../../lib/cli/to-json.js';

describe('toJson', () => {
  it('toJson - writes bytes as base64 or hex, BigInts as strings, Maps as objects, undefined as null', () => {
    const value = {
      id: 2n ** 60n,
      raw: Uint8Array.of(0xca, 0xfe),
      tags: new Map([['a', Buffer.from('hi')]]),
    };
    expect(toJson(value)).toBe('{"id":"1152921504606846976","raw":"yv4=","tags":{"a":"aGk="}}');
    expect(toJson(value, { bytes: 'hex' })).toBe(
      '{"id":"1152921504606846976","raw":"cafe","tags":{"a":"6869"}}',
    );
    expect(toJson(undefined)).toBe('null');
    expect(toJson([1, 'two', null], { indent: 2 })).toBe('[\n  1,\n  "two",\n  null\n]');
  });

  it('toJson - keeps what knows its own JSON form (dates, protobufjs messages)', () => {
    expect(toJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
    expect(toJson({ toJSON: () => ({ C: '56' }) })).toBe('{"C":"56"}');
  });
});

describe('printable', () => {
  it('printable - escapes control characters so that text from a peer stays on one line', () => {
    expect(printable('a\nb\r\tc\u001b[31m\u0000\u007f\u009b')).toBe(
      'a\\nb\\r\\tc\\u001b[31m\\u0000\\u007f\\u009b',
    );
    expect(printable('héllo wörld ✓')).toBe('héllo wörld ✓');
  });
});
