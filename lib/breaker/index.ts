export type { BreakerState, BreakerTransition, CircuitBreaker, Clock } from './breaker.js';
export type { BreakerConfig, BreakerFactory, BreakerOption } from './breaker-for.js';
export { breakerFor } from './breaker-for.js';
export type { BreakerStrategy } from './breaker-strategy.js';
export { DEFAULT_BREAKER_WINDOW_MS } from './breaker-strategy.js';
export type {
  ConsecutiveFailuresBreakerOptions,
  ResolvedConsecutiveFailuresBreakerOptions,
} from './consecutive-failures-breaker.js';
export {
  consecutiveFailuresBreaker,
  DEFAULT_BREAKER_FAILURE_THRESHOLD,
  resolveConsecutiveFailuresBreakerOptions,
} from './consecutive-failures-breaker.js';
export type { FailureRateBreakerOptions, ResolvedFailureRateBreakerOptions } from './failure-rate-breaker.js';
export {
  DEFAULT_BREAKER_BUCKETS,
  DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD,
  DEFAULT_BREAKER_MINIMUM_REQUESTS,
  failureRateBreaker,
  resolveFailureRateBreakerOptions,
} from './failure-rate-breaker.js';
export type {
  BreakerPolicyOptions,
  ResettableBreaker,
  ResolvedBreakerPolicyOptions,
} from './policy-breaker.js';
export {
  DEFAULT_BREAKER_HALF_OPEN_PROBES,
  DEFAULT_BREAKER_OPEN_MS,
  policyBreaker,
  resolveBreakerPolicyOptions,
} from './policy-breaker.js';
