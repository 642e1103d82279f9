import type { Observable } from 'rxjs';

/**
 * The state of a circuit breaker, as a discriminated union.
 *
 * @group Governance
 */
export type BreakerState =
  | {
      /** Calls pass; failures are being counted. */
      readonly state: 'closed';
    }
  | {
      /** Calls fail fast until `until` (epoch ms on the breaker's clock). */
      readonly state: 'open';
      /** When it opened. */
      readonly since: number;
      /** When it turns half-open. */
      readonly until: number;
    }
  | {
      /** A limited number of probe calls pass; their results decide. */
      readonly state: 'half-open';
      /** Probes let through so far. */
      readonly probes: number;
      /** Probes that succeeded so far. */
      readonly successes: number;
    };

/**
 * A state change of a breaker.
 *
 * @group Governance
 */
export interface BreakerTransition {
  /** The state left. */
  readonly from: BreakerState['state'];
  /** The state entered. */
  readonly to: BreakerState['state'];
  /** When, on the breaker's clock. */
  readonly at: number;
}

/**
 * A circuit breaker for one server: a pure state machine with an injected clock (no timers).
 * Ask `tryPass()` before a call; report the call's outcome with `success()` or `failure()`.
 *
 * @example
 * ```ts
 * if (!breaker.tryPass()) throw new CircuitOpenError('open');
 * try { await call(); breaker.success(); } catch (e) { breaker.failure(); throw e; }
 * ```
 * @group Governance
 */
export interface CircuitBreaker {
  /** The current state (an open breaker whose time is up reads as half-open). */
  readonly state: BreakerState;
  /**
   * Whether a call may go now. In half-open it counts the call as a probe (so only the allowed
   * number pass); in open it returns false. Never throws.
   */
  tryPass(): boolean;
  /** Reports that a call that passed succeeded. */
  success(): void;
  /** Reports that a call that passed failed. */
  failure(): void;
  /**
   * Reports that a call that passed ended without an outcome (it was cancelled): a half-open
   * breaker gets its probe slot back, so cancelled probes cannot keep it half-open forever.
   */
  release?(): void;
  /** Every state change, as it happens. Completes never. */
  readonly transitions$: Observable<BreakerTransition>;
}

/**
 * A clock in epoch milliseconds (`scheduler.now`, `Date.now`, or a test's own).
 *
 * @group Governance
 */
export type Clock = () => number;
