import { describeValue, durationOption, integerOption, optionsObject } from '../util/validate.js';
import { type BreakerStrategy, DEFAULT_BREAKER_WINDOW_MS } from './breaker-strategy.js';
import {
  type BreakerPolicyOptions,
  policyBreaker,
  type ResettableBreaker,
  resolveBreakerPolicyOptions,
} from './policy-breaker.js';

/**
 * Default of {@link FailureRateBreakerOptions.failureRateThreshold}: 0.5.
 *
 * @group Governance
 */
export const DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD = 0.5;

/**
 * Default of {@link FailureRateBreakerOptions.minimumRequests}: 20.
 *
 * @group Governance
 */
export const DEFAULT_BREAKER_MINIMUM_REQUESTS = 20;

/**
 * Default of {@link FailureRateBreakerOptions.buckets}: 10.
 *
 * @group Governance
 */
export const DEFAULT_BREAKER_BUCKETS = 10;

/**
 * Options of {@link failureRateBreaker}.
 *
 * @example
 * ```ts
 * const options: FailureRateBreakerOptions = { failureRateThreshold: 0.25, minimumRequests: 50 };
 * ```
 * @group Governance
 */
export interface FailureRateBreakerOptions extends BreakerPolicyOptions {
  /** The breaker opens when failures / requests in the window reach this, in 0..1. Default 0.5. */
  readonly failureRateThreshold?: number;
  /** ...and only when the window holds at least this many requests. Default 20. */
  readonly minimumRequests?: number;
  /** The length of the sliding window. Default 10 000. */
  readonly windowMs?: number;
  /**
   * How many buckets the window slides by (`windowMs / buckets` ms each), at most `windowMs`.
   * Default 10.
   */
  readonly buckets?: number;
}

/**
 * {@link FailureRateBreakerOptions} with every default filled in.
 *
 * @example
 * ```ts
 * const resolved: ResolvedFailureRateBreakerOptions = resolveFailureRateBreakerOptions({});
 * ```
 * @group Governance
 */
export type ResolvedFailureRateBreakerOptions = Required<FailureRateBreakerOptions>;

/**
 * Validates the options of {@link failureRateBreaker} and fills in their defaults.
 *
 * @throws RangeError naming the option when one is out of range: `failureRateThreshold` not a
 *   number in 0..1 (1.5, -0.1, NaN), `minimumRequests`, `windowMs` or `buckets` not a positive
 *   integer, `buckets` above `windowMs`; see also {@link resolveBreakerPolicyOptions}.
 * @throws TypeError when `options` is not an object.
 * @example
 * ```ts
 * resolveFailureRateBreakerOptions({ failureRateThreshold: 1.5 }); // throws RangeError: failureRateThreshold ...
 * ```
 * @group Governance
 */
export function resolveFailureRateBreakerOptions(
  options?: FailureRateBreakerOptions,
): ResolvedFailureRateBreakerOptions {
  const o = optionsObject('failureRateBreaker options', options);
  const failureRateThreshold = o.failureRateThreshold ?? DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD;
  if (
    typeof failureRateThreshold !== 'number' ||
    Number.isNaN(failureRateThreshold) ||
    failureRateThreshold < 0 ||
    failureRateThreshold > 1
  ) {
    throw new RangeError(
      `failureRateThreshold must be a number in 0..1, got ${describeValue(failureRateThreshold)}`,
    );
  }
  const minimumRequests = integerOption(
    'minimumRequests',
    o.minimumRequests,
    DEFAULT_BREAKER_MINIMUM_REQUESTS,
    1,
  );
  const windowMs = durationOption('windowMs', o.windowMs, DEFAULT_BREAKER_WINDOW_MS, 1);
  const buckets = integerOption('buckets', o.buckets, DEFAULT_BREAKER_BUCKETS, 1, windowMs);
  return { ...resolveBreakerPolicyOptions(o), failureRateThreshold, minimumRequests, windowMs, buckets };
}

/**
 * A circuit breaker that opens when the failure ratio over a sliding time window reaches
 * `failureRateThreshold` and the window holds at least `minimumRequests` requests.
 *
 * The window is `buckets` buckets of `windowMs / buckets` ms on the clock; it holds the current
 * bucket and the `buckets - 1` before it, so an outcome leaves it between
 * `windowMs - windowMs / buckets` and `windowMs` after it was recorded. The ratio is checked
 * when a failure is recorded; the counts start empty when the breaker is made, opens or closes.
 * The open and half-open states are {@link policyBreaker}'s.
 *
 * Failure cases: below `minimumRequests` it never opens, whatever the ratio; results reported
 * while open are ignored (late results of calls that passed before it opened); any failure in
 * half-open opens it again for another `openMs`.
 *
 * @throws RangeError at creation naming a bad option (`failureRateThreshold` 1.5, -0.1 or NaN,
 *   `minimumRequests` 0, `openMs` 0, `halfOpenSuccesses` above `halfOpenProbes`, ...).
 * @example
 * ```ts
 * const breaker = failureRateBreaker({ failureRateThreshold: 0.5, minimumRequests: 20 });
 * if (breaker.tryPass()) call().then(() => breaker.success(), () => breaker.failure());
 * ```
 * @group Governance
 */
export function failureRateBreaker(options?: FailureRateBreakerOptions): ResettableBreaker {
  const resolved = resolveFailureRateBreakerOptions(options);
  return policyBreaker(failureRateStrategy(resolved), resolved);
}

function failureRateStrategy(options: ResolvedFailureRateBreakerOptions): BreakerStrategy {
  const { buckets, windowMs, minimumRequests, failureRateThreshold } = options;
  // Slot i holds bucket ids[i]: its requests and failures. A slot whose id is out of the window
  // is stale and reused by the next bucket that maps to it.
  const ids = new Array<number>(buckets).fill(Number.NEGATIVE_INFINITY);
  const requests = new Array<number>(buckets).fill(0);
  const failures = new Array<number>(buckets).fill(0);

  const record = (now: number, failed: boolean): number => {
    const bucket = Math.floor((now * buckets) / windowMs);
    const slot = ((bucket % buckets) + buckets) % buckets;
    if (ids[slot] !== bucket) {
      ids[slot] = bucket;
      requests[slot] = 0;
      failures[slot] = 0;
    }
    requests[slot] = (requests[slot] ?? 0) + 1;
    if (failed) failures[slot] = (failures[slot] ?? 0) + 1;
    return bucket;
  };

  return {
    success(now) {
      record(now, false);
    },
    failure(now) {
      const bucket = record(now, true);
      let total = 0;
      let failed = 0;
      for (let slot = 0; slot < buckets; slot += 1) {
        if ((ids[slot] ?? Number.NEGATIVE_INFINITY) > bucket - buckets) {
          total += requests[slot] ?? 0;
          failed += failures[slot] ?? 0;
        }
      }
      return total >= minimumRequests && failed / total >= failureRateThreshold;
    },
    reset() {
      ids.fill(Number.NEGATIVE_INFINITY);
      requests.fill(0);
      failures.fill(0);
    },
  };
}
