import { MAX_TIMER_MS } from '../util/max-timer.js';
/**
 * Smallest latency the histogram tells apart: 1 µs (anything faster counts as 1 µs).
 *
 * @example
 * ```ts
 * new LatencyHistogram().record(HISTOGRAM_MIN_MS / 2); // counts as 1 µs
 * ```
 */
export const HISTOGRAM_MIN_MS = 0.001;

/**
 * Width of a bucket: each is 1% wider than the one before, so quantiles are within 0.5%.
 *
 * @example
 * ```ts
 * const relativeError = Math.sqrt(HISTOGRAM_BUCKET_RATIO) - 1; // ~0.005
 * ```
 */
export const HISTOGRAM_BUCKET_RATIO = 1.01;

/** Largest latency recorded apart: the longest deadline, 2^31-1 ms (longer ones count in the last bucket). */
const MAX_MS = MAX_TIMER_MS;
const LOG_RATIO = Math.log(HISTOGRAM_BUCKET_RATIO);
const BUCKETS = Math.ceil(Math.log(MAX_MS / HISTOGRAM_MIN_MS) / LOG_RATIO) + 1;

/**
 * Latencies in logarithmic buckets (1 µs to 24.8 days, each bucket 1% wide): constant memory
 * (about 23 KB) however many calls a benchmark makes, quantiles within 0.5% of the exact
 * values, exact minimum, maximum and mean. No clock, no I/O.
 *
 * @example
 * ```ts
 * const histogram = new LatencyHistogram();
 * for (const ms of [1.2, 0.8, 3.5]) histogram.record(ms);
 * histogram.quantile(0.5); // ~1.2
 * ```
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private lowest = Number.POSITIVE_INFINITY;
  private highest = Number.NEGATIVE_INFINITY;

  /**
   * Records one latency in ms.
   *
   * @throws RangeError for a negative or non-finite value (a clock gone wrong).
   */
  record(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms))
      throw new RangeError(`a latency must be a finite ms >= 0, got ${ms}`);
    const index =
      ms <= HISTOGRAM_MIN_MS
        ? 0
        : Math.min(BUCKETS - 1, Math.floor(Math.log(ms / HISTOGRAM_MIN_MS) / LOG_RATIO));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.total++;
    this.sum += ms;
    if (ms < this.lowest) this.lowest = ms;
    if (ms > this.highest) this.highest = ms;
  }

  /** Latencies recorded. */
  get count(): number {
    return this.total;
  }

  /** The smallest latency recorded (NaN when none). */
  get min(): number {
    return this.total === 0 ? Number.NaN : this.lowest;
  }

  /** The largest latency recorded (NaN when none). */
  get max(): number {
    return this.total === 0 ? Number.NaN : this.highest;
  }

  /** The mean latency (NaN when none). */
  get mean(): number {
    return this.total === 0 ? Number.NaN : this.sum / this.total;
  }

  /**
   * The latency below or at which a fraction `q` of the calls finished (nearest rank): 0.5 for
   * the median, 0.99 for p99. Within 0.5% of the exact value, and never outside [min, max].
   *
   * @throws RangeError when `q` is not within [0, 1].
   * @returns NaN when nothing was recorded.
   */
  quantile(q: number): number {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`a quantile must be within [0, 1], got ${q}`);
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index] ?? 0;
      if (seen >= rank) {
        const middle = HISTOGRAM_MIN_MS * HISTOGRAM_BUCKET_RATIO ** (index + 0.5);
        return Math.min(this.highest, Math.max(this.lowest, middle));
      }
    }
    return this.highest;
  }
}
