import type { MonoTypeOperatorFunction } from 'rxjs';
import { type RetryOptions, retryAttempts } from './retry-attempts.js';

/**
 * Options of {@link failtry}: see {@link RetryOptions}.
 *
 * @group Governance
 */
export type FailtryOptions = RetryOptions;

/**
 * Retries a call on the same server: Go Phobos's `Failtry` fail mode. It has the mechanics of
 * `failover` (same options, same rules); what differs is the source it is meant for, one pinned
 * to the server picked once (the XClient builds it by selecting outside the `defer`), so that
 * each resubscription calls that server again. Use it where a retry elsewhere would be wrong or
 * useless (state held by one server, a single server).
 *
 * Failure cases: an error that `shouldRetry` rejects passes at once; when the retries are used
 * up, or the budget refuses one, the last error passes unchanged.
 *
 * @throws TypeError when `options` is not an object; RangeError naming the option when
 *   `retries` is not an integer >= 0, `backoff` or `shouldRetry` is not a function, `budget` is
 *   not a RetryBudget or `scheduler` not a SchedulerLike.
 * @example
 * ```ts
 * const instance = selector.select(instances, info);             // picked once
 * const reply$ = defer(() => call(instance)).pipe(failtry({ retries: 3, backoff: constantBackoff(20) }));
 * ```
 * @group Governance
 */
export function failtry<T>(options?: FailtryOptions): MonoTypeOperatorFunction<T> {
  return retryAttempts<T>('failtry', options);
}
