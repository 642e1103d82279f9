import { type MonoTypeOperatorFunction, Observable, type SchedulerLike, type Subscription } from 'rxjs';
import type { Backoff } from '../retry/backoff.js';
import {
  describeValue,
  functionOption,
  hasMethods,
  integerOption,
  optionsObject,
  schedulerOption,
} from '../util/validate.js';
import type { RetryBudget } from './retry-budget.js';
import { isRetryable, type RetryPredicate } from './retryable.js';

/**
 * Default of {@link RetryOptions.retries}: 3, as Go Phobos and rpcx.
 *
 * @group Governance
 */
export const DEFAULT_RETRIES = 3;

/**
 * Options of the retry operators, `failover` and `failtry`. Every option is optional.
 *
 * @group Governance
 */
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

  // One Observable and one subscription per attempt: this sits on every XClient call.
  return (source) =>
    new Observable<T>((subscriber) => {
      budget?.deposit();
      let retryNumber = 0;
      let attempt: Subscription | undefined;
      let wait: Subscription | undefined;
      const failed = (error: unknown): void => {
        attempt = undefined;
        if (
          retryNumber >= retries ||
          !shouldRetry(error) ||
          (budget !== undefined && !budget.tryWithdraw())
        ) {
          subscriber.error(error);
          return;
        }
        retryNumber++;
        const delayMs = backoff === undefined ? 0 : backoff(retryNumber);
        // Go Phobos retries at once: no delay means resubscribing in the same turn.
        if (delayMs > 0 && Number.isFinite(delayMs)) {
          wait = scheduler.schedule(() => {
            wait = undefined;
            subscribe();
          }, delayMs);
        } else subscribe();
      };
      const subscribe = (): void => {
        // An attempt that fails while being subscribed is retried once its subscribe returns.
        let subscribing = true;
        let failedAtOnce: { error: unknown } | undefined;
        const subscription = source.subscribe({
          next: (value) => subscriber.next(value),
          error: (error: unknown) => {
            if (subscribing) failedAtOnce = { error };
            else failed(error);
          },
          complete: () => subscriber.complete(),
        });
        subscribing = false;
        if (failedAtOnce) failed(failedAtOnce.error);
        else if (!subscription.closed) attempt = subscription;
      };
      subscribe();
      return () => {
        attempt?.unsubscribe();
        wait?.unsubscribe();
      };
    });
}
