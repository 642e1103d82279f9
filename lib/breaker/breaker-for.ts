import { describeValue, optionsObject } from '../util/validate.js';
import type { CircuitBreaker } from './breaker.js';
import {
  type ConsecutiveFailuresBreakerOptions,
  consecutiveFailuresBreaker,
  resolveConsecutiveFailuresBreakerOptions,
} from './consecutive-failures-breaker.js';
import {
  type FailureRateBreakerOptions,
  failureRateBreaker,
  resolveFailureRateBreakerOptions,
} from './failure-rate-breaker.js';

/**
 * Makes the breaker of one server instance. A client calls it once per instance `key` (such as
 * `'tcp@127.0.0.1:8972'`) the first time it calls that instance, keeps the breaker for as long
 * as the instance is in discovery, and drops it when the instance leaves. Each call must return
 * a new, independent breaker; the key is for factories that treat instances differently.
 *
 * @example
 * ```ts
 * const factory: BreakerFactory = (key) =>
 *   key.startsWith('unix@') ? consecutiveFailuresBreaker({ failureThreshold: 1 }) : failureRateBreaker();
 * ```
 * @group Governance
 */
export type BreakerFactory = (key: string) => CircuitBreaker;

/**
 * A breaker described by options: `kind` picks the strategy, the rest are its options.
 *
 * @example
 * ```ts
 * const config: BreakerConfig = { kind: 'rate', failureRateThreshold: 0.3, minimumRequests: 50 };
 * ```
 * @group Governance
 */
export type BreakerConfig =
  | ({
      /** {@link consecutiveFailuresBreaker}: opens after more than `failureThreshold` failures in a row. */
      readonly kind: 'consecutive';
    } & ConsecutiveFailuresBreakerOptions)
  | ({
      /** {@link failureRateBreaker}: opens when the failure ratio over a sliding window is too high. */
      readonly kind: 'rate';
    } & FailureRateBreakerOptions);

/**
 * What a client's `breaker` option accepts: options, your own factory, or `false` for none.
 *
 * @example
 * ```ts
 * const option: BreakerOption = { kind: 'consecutive', failureThreshold: 5 };
 * ```
 * @group Governance
 */
export type BreakerOption = BreakerConfig | BreakerFactory | false;

/**
 * Turns a client's `breaker` option into a factory of one breaker per server instance:
 * `{ kind: 'consecutive', ... }` makes {@link consecutiveFailuresBreaker}s, `{ kind: 'rate', ... }`
 * {@link failureRateBreaker}s, a function is returned as it is, and `false` or `undefined` give
 * `undefined` (no circuit breaking; the client chooses its own default for `undefined`).
 *
 * Options are validated here, once, so a bad one fails when the client is made, not at its
 * first call.
 *
 * @throws RangeError naming the option when `kind` is neither `'consecutive'` nor `'rate'`, or
 *   when an option of that kind is out of range.
 * @throws TypeError when the option is neither an object, a function nor `false`.
 * @example
 * ```ts
 * const factory = breakerFor({ kind: 'consecutive', clock: () => scheduler.now() });
 * const breakers = new Map<string, CircuitBreaker>();
 * const breakerOf = (key: string) => breakers.get(key) ?? breakers.set(key, factory!(key)).get(key)!;
 * ```
 * @group Governance
 */
export function breakerFor(option: BreakerOption | undefined): BreakerFactory | undefined {
  if (option === undefined || option === false) return undefined;
  if (typeof option === 'function') return option;
  const { kind, ...options } = optionsObject('breaker', option) as Partial<BreakerConfig>;
  switch (kind) {
    case 'consecutive': {
      const resolved = resolveConsecutiveFailuresBreakerOptions(options);
      return () => consecutiveFailuresBreaker(resolved);
    }
    case 'rate': {
      const resolved = resolveFailureRateBreakerOptions(options);
      return () => failureRateBreaker(resolved);
    }
    default:
      throw new RangeError(`breaker.kind must be 'consecutive' or 'rate', got ${describeValue(kind)}`);
  }
}
