import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../lib/cli/parse-duration.js';

describe('parseDuration', () => {
  it('parseDuration - reads ms, s, m and h, and a bare number as ms', () => {
    expect(parseDuration('-d', '500ms')).toBe(500);
    expect(parseDuration('-d', '10s')).toBe(10_000);
    expect(parseDuration('-d', '1.5s')).toBe(1_500);
    expect(parseDuration('-d', '1m')).toBe(60_000);
    expect(parseDuration('-d', '2h')).toBe(7_200_000);
    expect(parseDuration('-d', '250')).toBe(250);
    expect(parseDuration('-d', ' 0 ')).toBe(0);
  });

  it('parseDuration - refuses what is not a duration, naming the flag', () => {
    for (const text of ['abc', '', '-1s', '10x', '1e3', 's', '1 s s', '0x10', 'Infinity']) {
      expect(() => parseDuration('--duration', text)).toThrow(
        new RangeError(`--duration must be a duration like 500ms, 10s or 1m, got ${JSON.stringify(text)}`),
      );
    }
    expect(() => parseDuration('-t', '0.5ms')).toThrow(/-t must be a whole number of milliseconds/);
    expect(() => parseDuration('-t', '25d')).toThrow(RangeError);
    expect(() => parseDuration('-t', `${MAX_DURATION_MS + 1}`)).toThrow(/-t must be at most 2147483647 ms/);
  });

  it('parseDuration - every whole number of ms up to the limit reads back in any unit that holds it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DURATION_MS }), (ms) => {
        expect(parseDuration('d', `${ms}ms`)).toBe(ms);
        expect(parseDuration('d', String(ms))).toBe(ms);
        if (ms % 1_000 === 0) expect(parseDuration('d', `${ms / 1_000}s`)).toBe(ms);
      }),
    );
  });

  it('parseDuration - never throws anything but a RangeError, whatever the text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const ms = parseDuration('d', text);
          expect(Number.isInteger(ms) && ms >= 0 && ms <= MAX_DURATION_MS).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(RangeError);
        }
      }),
    );
  });

  it('formatDuration - writes ms, s and min', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(2_500)).toBe('2.5 s');
    expect(formatDuration(90_000)).toBe('1.5 min');
  });
});
