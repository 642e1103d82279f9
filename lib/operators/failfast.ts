import { identity, type MonoTypeOperatorFunction } from 'rxjs';

/**
 * Never retries: the first attempt's result, value or error, is the call's. Go Phobos's
 * `Failfast` fail mode; the identity, there so that every fail mode has an operator.
 *
 * Failure cases: any error of the attempt passes at once.
 *
 * @example
 * ```ts
 * const policy = failMode === 'failfast' ? failfast<Reply>() : failover<Reply>({ retries: 3 });
 * const reply$ = defer(() => pickAndCall()).pipe(policy);
 * ```
 * @group Governance
 */
export function failfast<T>(): MonoTypeOperatorFunction<T> {
  return identity;
}
