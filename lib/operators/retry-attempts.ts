import { defer, type MonoTypeOperatorFunction, of, retry, type SchedulerLike, throwError, timer } from 'rxjs';
import {
  describeValue,
  functionOption,
  hasMethods,
  integerOption,
  optionsObject,
  schedulerOption,
} from '../util/validate.js';
import type { Backoff } from './backoff.js';
import type { RetryBudget } from './retry-budget.js';
import { isRetryable, type RetryPredicate } from './retryable.js';

/** Default of {@link RetryOptions.retries}: 3, as Go Phobos and rpcx. */
export const DEFAULT_RETRIES = 3;

/** Options of the retry operators, `failover` and `failtry`. Every option is optional. */
export interface RetryOptions {
  /** At most this many retries after the first attempt (an integer >= 0). Default 3. */
  readonly retries?: number;
  /**
   * Wait `backoff(n)` ms before retry n (a delay that is not a finite number > 0 retries at
   * once). Default none: retry at once, as Go Phobos.
   */
  readonly backoff?: Backoff;
  /**
   * A budget shared by the calls of a client: each subscription deposits once, each retry must
   * withdraw, and a retry that cannot fails the call with the error it would have retried.
   * Default none.
   */
  readonly budget?: RetryBudget;
  /** Which errors are retried. Default {@link isRetryable}; any other error passes at once. */
  readonly shouldRetry?: RetryPredicate;
  /** Where backoff delays are scheduled. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * The retry mechanics that `failover` and `failtry` share: resubscribe the source on a
 * retryable error, within the count, the budget and the backoff.
 *
 * @param who - the operator's name, for error messages.
 * @internal
 */
export function retryAttempts<T>(
  who: string,
  options: RetryOptions | undefined,
): MonoTypeOperatorFunction<T> {
  const o = optionsObject(`${who} options`, options);
  const retries = integerOption('retries', o.retries, DEFAULT_RETRIES, 0);
  const backoff = functionOption('backoff', o.backoff);
  const shouldRetry = functionOption('shouldRetry', o.shouldRetry) ?? isRetryable;
  const scheduler = schedulerOption('scheduler', o.scheduler);
  const budget = o.budget;
  if (budget !== undefined && !hasMethods(budget, ['deposit', 'tryWithdraw'])) {
    throw new RangeError(`budget must be a RetryBudget (deposit, tryWithdraw), got ${describeValue(budget)}`);
  }

  const retrying = retry<T>({
    count: retries,
    delay: (error: unknown, retryNumber: number) => {
      if (!shouldRetry(error)) return throwError(() => error);
      if (budget !== undefined && !budget.tryWithdraw()) return throwError(() => error);
      const delayMs = backoff === undefined ? 0 : backoff(retryNumber);
      // Go Phobos retries at once: no delay means resubscribing in the same turn.
      return delayMs > 0 && Number.isFinite(delayMs) ? timer(delayMs, scheduler) : of(0);
    },
  });
  if (budget === undefined) return retrying;
  return (source) =>
    defer(() => {
      budget.deposit();
      return source.pipe(retrying);
    });
}
