import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { constantBackoff, exponentialBackoff, type Jitter } from '../../lib/operators/index.js';

const options = fc.record({
  initialMs: fc.integer({ min: 0, max: 5_000 }),
  extraMs: fc.integer({ min: 0, max: 60_000 }),
  multiplier: fc.double({ min: 1, max: 10, noNaN: true }),
  jitter: fc.constantFrom<Jitter>('full', 'equal', 'none'),
  randoms: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1 }),
});
const retry = fc.integer({ min: 1, max: 200 });

type BackoffCase = typeof options extends fc.Arbitrary<infer T> ? T : never;

/** The backoff of a generated case, its random() replaying the generated numbers. */
function make(o: BackoffCase, jitter: Jitter = o.jitter) {
  let i = 0;
  const random = () => o.randoms[i++ % o.randoms.length] as number;
  const maxMs = o.initialMs + o.extraMs;
  return {
    maxMs,
    backoff: exponentialBackoff({ initialMs: o.initialMs, maxMs, multiplier: o.multiplier, jitter, random }),
  };
}

describe('exponentialBackoff', () => {
  it('exponentialBackoff - doubles from 100 ms up to 10 s without jitter, by default', () => {
    const backoff = exponentialBackoff({ jitter: 'none' });
    expect([1, 2, 3, 4, 7, 8, 100].map(backoff)).toEqual([100, 200, 400, 800, 6_400, 10_000, 10_000]);
  });

  it('exponentialBackoff - follows initialMs, multiplier and maxMs', () => {
    const backoff = exponentialBackoff({ initialMs: 50, maxMs: 1_000, multiplier: 3, jitter: 'none' });
    expect([1, 2, 3, 4, 5].map(backoff)).toEqual([50, 150, 450, 1_000, 1_000]);
  });

  it('exponentialBackoff - full jitter scales the delay by random(); equal jitter keeps half of it', () => {
    const random = () => 0.5;
    expect(exponentialBackoff({ initialMs: 100, random })(2)).toBe(100);
    expect(exponentialBackoff({ initialMs: 100, jitter: 'equal', random })(2)).toBe(150);
  });

  it('exponentialBackoff - stays within [0, maxMs], in whole ms, for any options and retry', () => {
    fc.assert(
      fc.property(options, retry, (o, n) => {
        const { maxMs, backoff } = make(o);
        const delay = backoff(n);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(maxMs);
      }),
    );
  });

  it("exponentialBackoff - 'none' never shrinks from one retry to the next", () => {
    fc.assert(
      fc.property(options, retry, (o, n) => {
        const { backoff } = make(o, 'none');
        expect(backoff(n)).toBeLessThanOrEqual(backoff(n + 1));
      }),
    );
  });

  it("exponentialBackoff - 'full' is within [0, d] and 'equal' within [d/2, d] of the unjittered d", () => {
    fc.assert(
      fc.property(options, retry, (o, n) => {
        const d = make(o, 'none').backoff(n);
        const full = make(o, 'full').backoff(n);
        const equal = make(o, 'equal').backoff(n);
        expect(full).toBeLessThanOrEqual(d);
        expect(equal).toBeLessThanOrEqual(d);
        expect(equal).toBeGreaterThanOrEqual(Math.floor(d / 2));
      }),
    );
  });

  it('exponentialBackoff - survives huge retry numbers, initialMs 0 and a random() out of range', () => {
    expect(exponentialBackoff({ jitter: 'none' })(1e9)).toBe(10_000);
    expect(exponentialBackoff({ initialMs: 0, jitter: 'none' })(5_000)).toBe(0);
    expect(exponentialBackoff({ maxMs: 500, random: () => 7 })(30)).toBe(500);
    expect(exponentialBackoff({ random: () => -1 })(3)).toBe(0);
    expect(exponentialBackoff({ jitter: 'none' })(0)).toBe(100);
  });

  it.each([
    [{ initialMs: -1 }, /initialMs/],
    [{ initialMs: 1.5 }, /initialMs/],
    [{ initialMs: 200, maxMs: 100 }, /initialMs/],
    [{ maxMs: -5 }, /maxMs/],
    [{ multiplier: 0.5 }, /multiplier/],
    [{ multiplier: Number.NaN }, /multiplier/],
    [{ jitter: 'some' }, /jitter/],
    [{ random: 0.3 }, /random/],
  ])('exponentialBackoff - rejects %o at creation', (bad, message) => {
    expect(() => exponentialBackoff(bad as never)).toThrow(RangeError);
    expect(() => exponentialBackoff(bad as never)).toThrow(message);
  });
});

describe('constantBackoff', () => {
  it('constantBackoff - waits the same for every retry', () => {
    expect([1, 2, 50].map(constantBackoff(20))).toEqual([20, 20, 20]);
  });

  it.each([[-1], [2.5], [undefined]])('constantBackoff - rejects %s', (ms) => {
    expect(() => constantBackoff(ms as never)).toThrow(RangeError);
  });
});
