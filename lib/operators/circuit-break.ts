import { type MonoTypeOperatorFunction, Observable } from 'rxjs';
import type { CircuitBreaker } from '../breaker/breaker.js';
import { CircuitOpenError } from '../errors/errors.js';
import { describeValue, functionOption, hasMethods, optionsObject } from '../util/validate.js';
import { isRetryable } from './retryable.js';

/**
 * Options of {@link circuitBreak}. Every option is optional.
 *
 * @group Governance
 */
export interface CircuitBreakOptions {
  /**
   * Which errors count as a failure of the server. Default {@link isRetryable}: connection
   * errors and deadlines do; a `ServiceError` does not (the server is up and answered), nor
   * does anything else. An error that is not a failure is reported as a success.
   */
  readonly isFailure?: (error: unknown) => boolean;
  /**
   * Asked when the call is unsubscribed before any outcome: true counts that as a failure of the
   * server, false gives the pass back (`release()`). Use it when a deadline applied outside this
   * operator may cut the call: a server that let the deadline pass has failed, a caller that gave
   * up has not. Default: never a failure.
   */
  readonly cancelIsFailure?: () => boolean;
}

/**
 * Guards a call with a circuit breaker: asks `breaker.tryPass()` at subscription and reports
 * the attempt's outcome to the breaker.
 *
 * `breaker` is the breaker itself, or a function that returns the one to use, called at each
 * subscription before the source is subscribed. Use the function when each subscription may
 * reach another server, as under `failover`, so that each attempt goes through the breaker of
 * the server it calls, not of the first one (see the second example).
 *
 * The first value reports `success()`; completion without a value too. An error reports
 * `failure()` when `isFailure(error)`, else `success()`. The outcome is reported before it is
 * passed on, so a retry downstream sees the breaker's new state. Unsubscribing before any
 * outcome reports `failure()` when `cancelIsFailure()` says so, else calls `breaker.release()`
 * (when it has one) to give the pass back.
 *
 * Failure cases: when `tryPass()` refuses, the result errors at once with a
 * {@link CircuitOpenError} whose `details.state` is the breaker's state, and the source is not
 * subscribed (no call is sent). Errors of the source pass unchanged.
 *
 * @throws TypeError when `options` is not an object; RangeError when `breaker` is neither a
 *   CircuitBreaker nor a function, or `isFailure` or `cancelIsFailure` is not a function.
 * @example
 * ```ts
 * // a breaker per attempt, built where the server is picked
 * const reply$ = defer(() => {
 *   const instance = pick();
 *   return call(instance).pipe(circuitBreak(breakers.get(instance.key)));
 * }).pipe(failover({ retries: 2 }));
 *
 * // the same with a function: it runs at subscription, before the source, so it picks
 * let instance: ServiceInstance;
 * const reply2$ = defer(() => call(instance)).pipe(
 *   circuitBreak(() => breakers.get((instance = pick()).key)),
 *   failover({ retries: 2 }),
 * );
 * ```
 * @group Governance
 */
export function circuitBreak<T>(
  breaker: CircuitBreaker | (() => CircuitBreaker),
  options?: CircuitBreakOptions,
): MonoTypeOperatorFunction<T> {
  const o = optionsObject('circuitBreak options', options);
  const isFailure = functionOption('isFailure', o.isFailure) ?? isRetryable;
  const cancelIsFailure = functionOption('cancelIsFailure', o.cancelIsFailure);
  if (typeof breaker !== 'function' && !hasMethods(breaker, ['tryPass', 'success', 'failure'])) {
    throw new RangeError(
      `breaker must be a CircuitBreaker or a function returning one, got ${describeValue(breaker)}`,
    );
  }
  return breakOn(typeof breaker === 'function' ? breaker : () => breaker, isFailure, cancelIsFailure);
}

/**
 * {@link circuitBreak} with its options checked: the breaker of each subscription from `resolve`.
 *
 * @internal
 */
export function breakOn<T>(
  resolve: () => CircuitBreaker,
  isFailure: (error: unknown) => boolean,
  cancelIsFailure: (() => boolean) | undefined,
): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const current = resolve();
      if (!current.tryPass()) {
        const state = current.state;
        subscriber.error(
          new CircuitOpenError(
            `the circuit breaker is ${state.state}: the call was not sent; wait for it to close or call another server`,
            { details: { state } },
          ),
        );
        return undefined;
      }
      let reported = false;
      const report = (failed: boolean): void => {
        if (reported) return;
        reported = true;
        if (failed) current.failure();
        else current.success();
      };
      const subscription = source.subscribe({
        next: (value) => {
          report(false);
          subscriber.next(value);
        },
        error: (error: unknown) => {
          report(isFailure(error));
          subscriber.error(error);
        },
        complete: () => {
          report(false);
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        // Cancelled before any outcome: a failure when a deadline cut it, else give the pass
        // back (a half-open probe slot).
        if (!reported) {
          reported = true;
          if (cancelIsFailure?.()) current.failure();
          else current.release?.();
        }
      };
    });
}
