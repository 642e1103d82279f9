import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HISTOGRAM_MIN_MS, LatencyHistogram } from '../../lib/cli/latency-histogram.js';

/** The nearest-rank quantile of a sorted list. */
function exact(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1] as number;
}

describe('LatencyHistogram', () => {
  it('LatencyHistogram - quantiles are within 0.5% of the exact nearest-rank values, and within [min, max]', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: HISTOGRAM_MIN_MS, max: 60_000, noNaN: true }), {
          minLength: 1,
          maxLength: 500,
        }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (latencies, q) => {
          const histogram = new LatencyHistogram();
          for (const ms of latencies) histogram.record(ms);
          const sorted = [...latencies].sort((a, b) => a - b);
          const value = histogram.quantile(q);
          const truth = exact(sorted, q);
          expect(Math.abs(value - truth) / truth).toBeLessThanOrEqual(0.005 + 1e-9);
          expect(value).toBeGreaterThanOrEqual(sorted[0] as number);
          expect(value).toBeLessThanOrEqual(sorted[sorted.length - 1] as number);
          expect(histogram.count).toBe(latencies.length);
          expect(histogram.min).toBe(sorted[0]);
          expect(histogram.max).toBe(sorted[sorted.length - 1]);
        },
      ),
    );
  });

  it('LatencyHistogram - quantiles never decrease as q grows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1e7, noNaN: true }), { minLength: 1, maxLength: 200 }),
        (latencies) => {
          const histogram = new LatencyHistogram();
          for (const ms of latencies) histogram.record(ms);
          const quantiles = [0, 0.5, 0.9, 0.99, 0.999, 1].map((q) => histogram.quantile(q));
          for (let i = 1; i < quantiles.length; i++) {
            expect(quantiles[i]).toBeGreaterThanOrEqual(quantiles[i - 1] as number);
          }
        },
      ),
    );
  });

  it('LatencyHistogram - empty, it answers NaN; bad input is refused', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.quantile(0.5)).toBeNaN();
    expect(histogram.mean).toBeNaN();
    expect(() => histogram.record(-1)).toThrow(RangeError);
    expect(() => histogram.record(Number.NaN)).toThrow(RangeError);
    expect(() => histogram.record(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => histogram.quantile(1.5)).toThrow(RangeError);
    histogram.record(3);
    histogram.record(1);
    expect(histogram.mean).toBe(2);
  });
});
