/**
 * Default window (ms) over which a strategy counts outcomes while closed: 10 000 (Go Phobos).
 *
 * @group Governance
 */
export const DEFAULT_BREAKER_WINDOW_MS = 10_000;

/**
 * What a breaker counts while it is closed, and when it should open: a pure object with no
 * timers, told the time of each outcome by the breaker's (monotonic) clock.
 *
 * The policy around it ({@link policyBreaker}) owns the open and half-open states; a strategy
 * only ever sees outcomes of calls made while closed. It calls `reset(now)` once at creation
 * and again whenever the breaker opens, closes or is reset, so each closed period starts from
 * nothing. Times passed in never decrease.
 *
 * A strategy must not throw; a strategy that throws makes `success()` or `failure()` throw.
 *
 * @example
 * ```ts
 * // Opens at the first failure.
 * const firstFailure: BreakerStrategy = {
 *   success: () => {},
 *   failure: () => true,
 *   reset: () => {},
 * };
 * const breaker = policyBreaker(firstFailure, { openMs: 5_000 });
 * ```
 * @group Governance
 */
export interface BreakerStrategy {
  /** Records a successful call at `now`. */
  success(now: number): void;
  /** Records a failed call at `now`; returns true when the breaker should open. */
  failure(now: number): boolean;
  /** Forgets everything counted so far; a new closed period may begin at `now`. */
  reset(now: number): void;
}
