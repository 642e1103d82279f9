import { asyncScheduler } from 'rxjs';
import type { Clock } from '../breaker/breaker.js';
import {
  durationOption,
  finiteOption,
  functionOption,
  integerOption,
  optionsObject,
} from '../util/validate.js';

/**
 * Default of {@link RetryBudgetOptions.ratio}: retries may add 20% to the calls.
 *
 * @group Governance
 */
export const DEFAULT_RETRY_BUDGET_RATIO = 0.2;
/**
 * Default of {@link RetryBudgetOptions.minRetriesPerSecond}: 10.
 *
 * @group Governance
 */
export const DEFAULT_RETRY_BUDGET_MIN_RETRIES_PER_SECOND = 10;
/**
 * Default of {@link RetryBudgetOptions.ttlMs}: 10 seconds.
 *
 * @group Governance
 */
export const DEFAULT_RETRY_BUDGET_TTL_MS = 10_000;

/**
 * Bounds retries to a share of calls, so that retries cannot multiply the load on servers that
 * are already failing (Finagle's `RetryBudget`). Share one budget among all the calls of a
 * client; a retry operator given one deposits once per call and withdraws once per retry.
 * @group Governance
 */
export interface RetryBudget {
  /** Records a call (an original attempt, not a retry). */
  deposit(): void;
  /** Takes one retry from the budget: true when it may go, false (taking nothing) otherwise. */
  tryWithdraw(): boolean;
  /** How many retries `tryWithdraw` would allow now, were no calls made meanwhile. */
  readonly balance: number;
}

/**
 * Options of {@link retryBudget}. Every option is optional.
 *
 * @group Governance
 */
export interface RetryBudgetOptions {
  /**
   * Retries allowed per call made within `ttlMs`, in [0, 1000] (precision 1e-6). Default 0.2.
   */
  readonly ratio?: number;
  /**
   * Retries allowed regardless of traffic, per second of `ttlMs` (so that a client making few
   * calls can still retry). Default 10.
   */
  readonly minRetriesPerSecond?: number;
  /** How long a call counts toward the budget. Default 10,000 ms. */
  readonly ttlMs?: number;
  /** The clock in ms. Default the time of `asyncScheduler` (inject a scheduler's `now` in tests). */
  readonly clock?: Clock;
}

// The window is cut into SLICES buckets; one more is kept for withdrawals (see below).
const SLICES = 10;
// Ratios are held in millionths so that the arithmetic stays in exact integers.
const SCALE = 1_000_000;

interface Bucket {
  index: number;
  deposits: number;
  withdrawals: number;
}

/**
 * Makes a retry budget: at any time, the retries withdrawn within the last `ttlMs` never exceed
 * `ratio × calls deposited within the last ttlMs + minRetriesPerSecond × ttlMs / 1000`.
 *
 * It is pure: no timers, time read from the injected clock. Counts are kept in ten buckets of
 * `ttlMs / 10`; to keep the guarantee exact despite them, a deposit counts for between 0.9 and
 * 1 × `ttlMs` (its bucket ages out early) and a withdrawal for between 1 and 1.1 × `ttlMs`, so
 * the budget errs on the side of fewer retries. A clock that goes back is read as standing
 * still.
 *
 * @throws TypeError when `options` is not an object; RangeError naming the option when `ratio`
 *   is not a number in [0, 1000], `minRetriesPerSecond` not an integer >= 0, `ttlMs` not an
 *   integer >= 1, or `clock` not a function.
 * @example
 * ```ts
 * const budget = retryBudget({ ratio: 0.1 });   // shared by every call of this client
 * const reply$ = defer(() => pickAndCall()).pipe(failover({ retries: 3, budget }));
 * ```
 * @group Governance
 */
export function retryBudget(options?: RetryBudgetOptions): RetryBudget {
  const o = optionsObject('retryBudget options', options);
  const ratio = finiteOption('ratio', o.ratio, DEFAULT_RETRY_BUDGET_RATIO, 0, 1000);
  const minRetriesPerSecond = integerOption(
    'minRetriesPerSecond',
    o.minRetriesPerSecond,
    DEFAULT_RETRY_BUDGET_MIN_RETRIES_PER_SECOND,
    0,
  );
  const ttlMs = durationOption('ttlMs', o.ttlMs, DEFAULT_RETRY_BUDGET_TTL_MS, 1);
  const clock = functionOption('clock', o.clock) ?? (() => asyncScheduler.now());

  const scaledRatio = Math.round(ratio * SCALE);
  // minRetriesPerSecond × ttlMs / 1000 retries, in millionths: an exact integer.
  const scaledReserve = minRetriesPerSecond * ttlMs * (SCALE / 1000);
  const buckets: Bucket[] = Array.from({ length: SLICES + 1 }, () => ({
    index: Number.NEGATIVE_INFINITY,
    deposits: 0,
    withdrawals: 0,
  }));
  let latest = Number.NEGATIVE_INFINITY;

  const currentIndex = (): number => {
    latest = Math.max(latest, clock());
    // Not latest / (ttlMs / SLICES): that width may be inexact; this is exact for integer clocks.
    return Math.floor((latest * SLICES) / ttlMs);
  };
  const bucketAt = (index: number): Bucket => {
    const slot = ((index % buckets.length) + buckets.length) % buckets.length;
    const bucket = buckets[slot] as Bucket;
    if (bucket.index !== index) {
      bucket.index = index;
      bucket.deposits = 0;
      bucket.withdrawals = 0;
    }
    return bucket;
  };
  const available = (now: number): number => {
    let deposits = 0;
    let withdrawals = 0;
    for (const bucket of buckets) {
      // Deposits of the current and the SLICES - 1 previous buckets: all made within ttlMs.
      if (bucket.index > now - SLICES && bucket.index <= now) deposits += bucket.deposits;
      // Withdrawals of SLICES + 1 buckets: every one made within ttlMs, and a few older.
      if (bucket.index >= now - SLICES && bucket.index <= now) withdrawals += bucket.withdrawals;
    }
    return Math.floor((scaledRatio * deposits + scaledReserve) / SCALE) - withdrawals;
  };

  return {
    deposit() {
      bucketAt(currentIndex()).deposits += 1;
    },
    tryWithdraw() {
      const now = currentIndex();
      if (available(now) < 1) return false;
      bucketAt(now).withdrawals += 1;
      return true;
    },
    get balance() {
      return Math.max(0, available(currentIndex()));
    },
  };
}
