import { durationOption, integerOption, optionsObject } from '../util/validate.js';
import { type BreakerStrategy, DEFAULT_BREAKER_WINDOW_MS } from './breaker-strategy.js';
import {
  type BreakerPolicyOptions,
  policyBreaker,
  type ResettableBreaker,
  resolveBreakerPolicyOptions,
} from './policy-breaker.js';

/**
 * Default of {@link ConsecutiveFailuresBreakerOptions.failureThreshold}: 5 (Go Phobos).
 *
 * @group Governance
 */
export const DEFAULT_BREAKER_FAILURE_THRESHOLD = 5;

/**
 * Options of {@link consecutiveFailuresBreaker}.
 *
 * @example
 * ```ts
 * const options: ConsecutiveFailuresBreakerOptions = { failureThreshold: 3, openMs: 10_000 };
 * ```
 * @group Governance
 */
export interface ConsecutiveFailuresBreakerOptions extends BreakerPolicyOptions {
  /**
   * The breaker opens when consecutive failures are MORE than this (so on the 6th by default).
   * Default 5.
   */
  readonly failureThreshold?: number;
  /**
   * While closed, counts start again every `windowMs`: a failure from before the current
   * window's start does not count. Default 10 000.
   */
  readonly windowMs?: number;
}

/**
 * {@link ConsecutiveFailuresBreakerOptions} with every default filled in.
 *
 * @example
 * ```ts
 * const resolved = resolveConsecutiveFailuresBreakerOptions({}); // failureThreshold 5, windowMs 10000, ...
 * ```
 * @group Governance
 */
export type ResolvedConsecutiveFailuresBreakerOptions = Required<ConsecutiveFailuresBreakerOptions>;

/**
 * Validates the options of {@link consecutiveFailuresBreaker} and fills in their defaults.
 *
 * @throws RangeError naming the option when one is out of range (`failureThreshold` and
 *   `windowMs` must be positive integers; see also {@link resolveBreakerPolicyOptions}).
 * @throws TypeError when `options` is not an object.
 * @example
 * ```ts
 * resolveConsecutiveFailuresBreakerOptions({ failureThreshold: 0 }); // throws RangeError: failureThreshold ...
 * ```
 * @group Governance
 */
export function resolveConsecutiveFailuresBreakerOptions(
  options?: ConsecutiveFailuresBreakerOptions,
): ResolvedConsecutiveFailuresBreakerOptions {
  const o = optionsObject('consecutiveFailuresBreaker options', options);
  const failureThreshold = integerOption(
    'failureThreshold',
    o.failureThreshold,
    DEFAULT_BREAKER_FAILURE_THRESHOLD,
    1,
  );
  const windowMs = durationOption('windowMs', o.windowMs, DEFAULT_BREAKER_WINDOW_MS, 1);
  return { ...resolveBreakerPolicyOptions(o), failureThreshold, windowMs };
}

/**
 * A circuit breaker that opens after more than `failureThreshold` consecutive failures (the
 * Go Phobos breaker: with the defaults, the 6th consecutive failure opens it; it stays open
 * 30 s, then lets 5 probes through, and 5 successes close it).
 *
 * While closed a success resets the count, and the count also starts again at the first
 * outcome after `windowMs` since the window began (the window began when the breaker was made
 * or last closed; it covers `[start, start + windowMs)`). So 6 failures spread over more than
 * `windowMs` do not open it. The open and half-open states are {@link policyBreaker}'s.
 *
 * Failure cases: results reported while open are ignored (late results of calls that passed
 * before it opened); any failure in half-open opens it again for another `openMs`.
 *
 * @throws RangeError at creation naming a bad option (`failureThreshold` 0, -1 or 1.5,
 *   `openMs` 0, `halfOpenSuccesses` above `halfOpenProbes`, ...).
 * @example
 * ```ts
 * const breaker = consecutiveFailuresBreaker({ clock: () => scheduler.now() });
 * if (!breaker.tryPass()) throw new CircuitOpenError('circuit open for tcp@10.0.0.1:8972');
 * ```
 * @group Governance
 */
export function consecutiveFailuresBreaker(options?: ConsecutiveFailuresBreakerOptions): ResettableBreaker {
  const resolved = resolveConsecutiveFailuresBreakerOptions(options);
  return policyBreaker(consecutiveFailuresStrategy(resolved.failureThreshold, resolved.windowMs), resolved);
}

function consecutiveFailuresStrategy(failureThreshold: number, windowMs: number): BreakerStrategy {
  let failures = 0;
  let windowStart = 0;
  const roll = (now: number): void => {
    if (now - windowStart >= windowMs) {
      failures = 0;
      windowStart = now;
    }
  };
  return {
    success(now) {
      roll(now);
      failures = 0;
    },
    failure(now) {
      roll(now);
      failures += 1;
      return failures > failureThreshold;
    },
    reset(now) {
      failures = 0;
      windowStart = now;
    },
  };
}
