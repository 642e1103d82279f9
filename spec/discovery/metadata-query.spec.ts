import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMetadata, parseMetadata } from '../../lib/discovery/index.js';
import { thrown } from '../support/thrown.js';

const entries = (record: Record<string, string>) =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));

describe('parseMetadata', () => {
  it('parseMetadata - reads pairs split on & and =', () => {
    expect(entries(parseMetadata('weight=10&group=a'))).toEqual([
      ['group', 'a'],
      ['weight', '10'],
    ]);
  });

  it('parseMetadata - decodes percent-escapes as UTF-8 and + as a space', () => {
    expect({ ...parseMetadata('group=a%2Cb&note=hello+world&city=%E5%8C%97%E4%BA%AC&plus=%2B') }).toEqual({
      group: 'a,b',
      note: 'hello world',
      city: '北京',
      plus: '+',
    });
  });

  it('parseMetadata - lets the last value of a repeated key win', () => {
    expect({ ...parseMetadata('state=active&state=inactive') }).toEqual({ state: 'inactive' });
  });

  it('parseMetadata - reads a key without = as an empty value, splits on the first =, skips empty pairs', () => {
    expect({ ...parseMetadata('&flag&&a=b=c&=x&') }).toEqual({ flag: '', a: 'b=c', '': 'x' });
  });

  it('parseMetadata - gives an empty record for an empty string', () => {
    expect(Object.keys(parseMetadata(''))).toEqual([]);
  });

  it('parseMetadata - keeps __proto__ and constructor as ordinary keys in a null-prototype record', () => {
    const record = parseMetadata('__proto__=x&constructor=y&toString=z&hasOwnProperty=w');
    expect(Object.getPrototypeOf(record)).toBeNull();
    expect(Object.keys(record).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    expect(Object.entries(record)).toContainEqual(['__proto__', 'x']);
    expect(record.constructor).toBe('y');
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });

  it.each(['a=%zz', 'a=%4', 'a%=1', 'a=%E0%A4'])(
    'parseMetadata - rejects the malformed escape in %j',
    (query) => {
      const error = thrown(() => parseMetadata(query));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toContain(JSON.stringify(query));
    },
  );

  it('parseMetadata - rejects a value that is not a string', () => {
    expect(() => parseMetadata(42 as unknown as string)).toThrow(
      new TypeError('metadata must be a string, got 42'),
    );
  });
});

describe('formatMetadata', () => {
  it('formatMetadata - writes sorted keys escaped as Go url.Values.Encode', () => {
    expect(formatMetadata({ weight: '10', group: 'a,b', note: "hi there!*'()~-_.", '': '' })).toBe(
      '=&group=a%2Cb&note=hi+there%21%2A%27%28%29~-_.&weight=10',
    );
  });

  it('formatMetadata - writes a Map too', () => {
    expect(formatMetadata(new Map([['city', '北京']]))).toBe('city=%E5%8C%97%E4%BA%AC');
  });

  it('formatMetadata - writes an empty record as an empty string', () => {
    expect(formatMetadata({})).toBe('');
  });

  it('formatMetadata - rejects a value that is not a string, naming the key', () => {
    const error = thrown(() => formatMetadata({ weight: 10 } as unknown as Record<string, string>));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toContain('"weight"');
  });

  it('formatMetadata - rejects a lone surrogate, naming the key', () => {
    const error = thrown(() => formatMetadata({ bad: '\uD800' }));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toContain('"bad"');
  });

  it('formatMetadata - rejects something that is not a record', () => {
    expect(() => formatMetadata(null as unknown as Record<string, string>)).toThrow(TypeError);
  });

  it('formatMetadata - round-trips through parseMetadata for arbitrary string records', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string(),
      fc.constantFrom('__proto__', 'constructor'),
    );
    fc.assert(
      fc.property(fc.dictionary(text, text), (record) => {
        const parsed = parseMetadata(formatMetadata(record));
        expect(entries(parsed)).toEqual(entries(record));
      }),
      { numRuns: 500 },
    );
  });

  it('formatMetadata - writes only unreserved characters, %XX, + and the separators', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), (record) => {
        expect(formatMetadata(record)).toMatch(/^[A-Za-z0-9\-_.~%+=&]*$/);
      }),
    );
  });
});
