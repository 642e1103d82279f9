import type { MonoTypeOperatorFunction } from 'rxjs';
import { type RetryOptions, retryAttempts } from './retry-attempts.js';

/**
 * Options of {@link failover}: see {@link RetryOptions}.
 *
 * @group Governance
 */
export type FailoverOptions = RetryOptions;

/**
 * Retries a call on another server: on a retryable error it resubscribes the source, whose
 * subscription picks a server again (`defer(() => attempt(select(...)))`), so the retry
 * normally goes elsewhere. Go Phobos's `Failover` fail mode.
 *
 * At most `retries` retries, each after `backoff(n)` ms when a backoff is given (at once
 * otherwise), each withdrawn from `budget` when one is given (each subscription of the result
 * deposits once).
 *
 * Failure cases: an error that `shouldRetry` rejects (by default a `ServiceError`, a
 * `CancelledError`, a `CodecError`...) passes at once, with no retry; when the retries are
 * used up, or the budget refuses one, the last error passes unchanged. Unsubscribing cancels
 * the attempt in flight or the pending backoff.
 *
 * @throws TypeError when `options` is not an object; RangeError naming the option when
 *   `retries` is not an integer >= 0, `backoff` or `shouldRetry` is not a function, `budget` is
 *   not a RetryBudget or `scheduler` not a SchedulerLike.
 * @example
 * ```ts
 * const reply$ = defer(() => call(selector.select(instances, info))).pipe(
 *   callTimeout({ timeoutMs: 200 }),
 *   failover({ retries: 2, backoff: exponentialBackoff(), budget }),
 * );
 * ```
 * @group Governance
 */
export function failover<T>(options?: FailoverOptions): MonoTypeOperatorFunction<T> {
  return retryAttempts<T>('failover', options);
}
