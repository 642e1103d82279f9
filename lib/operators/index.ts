// Governance operators: one per file; see each for its rules.

export type { Backoff, ExponentialBackoffOptions, Jitter } from '../retry/backoff.js';
export {
  constantBackoff,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_BACKOFF_MULTIPLIER,
  exponentialBackoff,
} from '../retry/backoff.js';
export type { CallTimeoutOptions } from './call-timeout.js';
export { callTimeout } from './call-timeout.js';
export type { CircuitBreakOptions } from './circuit-break.js';
export { circuitBreak } from './circuit-break.js';
export type { FailbackupOptions } from './failbackup.js';
export { failbackup } from './failbackup.js';
export { failfast } from './failfast.js';
export type { FailoverOptions } from './failover.js';
export { failover } from './failover.js';
export type { FailtryOptions } from './failtry.js';
export { failtry } from './failtry.js';
export { firstSuccess } from './first-success.js';
export type { RetryOptions } from './retry-attempts.js';
export { DEFAULT_RETRIES } from './retry-attempts.js';
export type { RetryBudget, RetryBudgetOptions } from './retry-budget.js';
export {
  DEFAULT_RETRY_BUDGET_MIN_RETRIES_PER_SECOND,
  DEFAULT_RETRY_BUDGET_RATIO,
  DEFAULT_RETRY_BUDGET_TTL_MS,
  retryBudget,
} from './retry-budget.js';
export type { RetryPredicate } from './retryable.js';
export { isRetryable } from './retryable.js';
export type { SelectInstanceOptions } from './select-instance.js';
export { selectInstance } from './select-instance.js';
