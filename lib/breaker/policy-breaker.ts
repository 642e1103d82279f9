import { type Observable, Subject } from 'rxjs';
import {
  describeValue,
  durationOption,
  functionOption,
  integerOption,
  optionsObject,
} from '../util/validate.js';
import type { BreakerState, BreakerTransition, CircuitBreaker, Clock } from './breaker.js';
import type { BreakerStrategy } from './breaker-strategy.js';

/**
 * Default of {@link BreakerPolicyOptions.openMs}: 30 000 (Go Phobos).
 *
 * @group Governance
 */
export const DEFAULT_BREAKER_OPEN_MS = 30_000;

/**
 * Default of {@link BreakerPolicyOptions.halfOpenProbes}: 5 (Go Phobos).
 *
 * @group Governance
 */
export const DEFAULT_BREAKER_HALF_OPEN_PROBES = 5;

/**
 * Options of the open and half-open states, the same for every strategy.
 *
 * @example
 * ```ts
 * const options: BreakerPolicyOptions = { openMs: 10_000, halfOpenProbes: 1, clock: () => scheduler.now() };
 * ```
 * @group Governance
 */
export interface BreakerPolicyOptions {
  /** How long an opened breaker refuses calls before it turns half-open. Default 30 000. */
  readonly openMs?: number;
  /** How many probe calls a half-open breaker lets through. Default 5. */
  readonly halfOpenProbes?: number;
  /**
   * How many successes in half-open close the breaker; at most `halfOpenProbes`.
   * Default `halfOpenProbes` (so 5).
   */
  readonly halfOpenSuccesses?: number;
  /**
   * Where time comes from, in ms. Default `Date.now`; pass `() => scheduler.now()` to follow
   * an RxJS scheduler (and a `TestScheduler` in tests). A clock that goes back is read as
   * standing still.
   */
  readonly clock?: Clock;
}

/**
 * {@link BreakerPolicyOptions} with every default filled in.
 *
 * @example
 * ```ts
 * const resolved: ResolvedBreakerPolicyOptions = resolveBreakerPolicyOptions({ openMs: 1_000 });
 * ```
 * @group Governance
 */
export type ResolvedBreakerPolicyOptions = Required<BreakerPolicyOptions>;

/**
 * A {@link CircuitBreaker} that can also be forced closed.
 *
 * @example
 * ```ts
 * const breaker: ResettableBreaker = consecutiveFailuresBreaker();
 * breaker.reset(); // the server was redeployed: give it a clean slate
 * ```
 * @group Governance
 */
export interface ResettableBreaker extends CircuitBreaker {
  /**
   * Forces the breaker closed and forgets all counts. Emits a transition unless it was already
   * closed. Never throws.
   */
  reset(): void;
  /** Gives a cancelled call's pass back (a half-open probe slot). Never throws. */
  release(): void;
}

/**
 * Validates the policy options and fills in their defaults.
 *
 * @throws RangeError naming the option: `openMs`, `halfOpenProbes` or `halfOpenSuccesses` not a
 *   positive integer, `halfOpenSuccesses` above `halfOpenProbes`, `clock` not a function.
 * @throws TypeError when `options` is not an object.
 * @example
 * ```ts
 * resolveBreakerPolicyOptions({ halfOpenProbes: 1 }); // { openMs: 30000, halfOpenProbes: 1, halfOpenSuccesses: 1, clock: Date.now }
 * ```
 * @group Governance
 */
export function resolveBreakerPolicyOptions(options?: BreakerPolicyOptions): ResolvedBreakerPolicyOptions {
  const o = optionsObject('breaker options', options);
  const openMs = durationOption('openMs', o.openMs, DEFAULT_BREAKER_OPEN_MS, 1);
  const halfOpenProbes = integerOption(
    'halfOpenProbes',
    o.halfOpenProbes,
    DEFAULT_BREAKER_HALF_OPEN_PROBES,
    1,
  );
  const halfOpenSuccesses = integerOption('halfOpenSuccesses', o.halfOpenSuccesses, halfOpenProbes, 1);
  if (halfOpenSuccesses > halfOpenProbes) {
    throw new RangeError(
      `halfOpenSuccesses must be <= halfOpenProbes (${halfOpenProbes}), got ${describeValue(halfOpenSuccesses)}`,
    );
  }
  const clock = functionOption('clock', o.clock) ?? Date.now;
  return { openMs, halfOpenProbes, halfOpenSuccesses, clock };
}

/**
 * Makes a circuit breaker from a strategy: the closed / open / half-open state machine shared by
 * every strategy. Pure: no timers, time only from `clock`, read when the breaker is used.
 *
 * - closed: every call passes; outcomes go to the strategy; when it says so, the breaker opens.
 * - open: `tryPass()` is false for `openMs`. An open breaker whose time is up turns half-open
 *   when next read (`state`, `tryPass()`, `success()`, `failure()`), and the transition is
 *   emitted then, with `at` the moment the time was up.
 * - half-open: up to `halfOpenProbes` calls pass; `halfOpenSuccesses` successes close it; any
 *   failure opens it again for another `openMs`.
 *
 * Failure cases: `success()` and `failure()` while open are ignored — they are late results of
 * calls that passed before it opened. Results while half-open count whether or not they came
 * from a probe. Every call that passed should be reported, or released when it was cancelled:
 * a probe never reported nor released keeps its slot until the breaker opens again or is reset.
 *
 * @throws RangeError or TypeError at creation for a bad option (see {@link resolveBreakerPolicyOptions}).
 * @example
 * ```ts
 * const breaker = policyBreaker(myStrategy, { openMs: 5_000, clock: () => scheduler.now() });
 * breaker.transitions$.subscribe(({ from, to, at }) => log(`${from} -> ${to} at ${at}`));
 * ```
 * @group Governance
 */
export function policyBreaker(strategy: BreakerStrategy, options?: BreakerPolicyOptions): ResettableBreaker {
  if (typeof strategy !== 'object' || strategy === null) {
    throw new TypeError(`strategy must be an object, got ${describeValue(strategy)}`);
  }
  return new PolicyBreaker(strategy, resolveBreakerPolicyOptions(options));
}

const CLOSED: BreakerState = Object.freeze({ state: 'closed' });

class PolicyBreaker implements ResettableBreaker {
  readonly #strategy: BreakerStrategy;
  readonly #options: ResolvedBreakerPolicyOptions;
  readonly #transitions = new Subject<BreakerTransition>();
  #state: BreakerState = CLOSED;
  #lastNow = Number.NEGATIVE_INFINITY;

  readonly transitions$: Observable<BreakerTransition> = this.#transitions.asObservable();

  constructor(strategy: BreakerStrategy, options: ResolvedBreakerPolicyOptions) {
    this.#strategy = strategy;
    this.#options = options;
    strategy.reset(this.#now());
  }

  get state(): BreakerState {
    this.#tick();
    return this.#state;
  }

  tryPass(): boolean {
    this.#tick();
    const s = this.#state;
    switch (s.state) {
      case 'closed':
        return true;
      case 'open':
        return false;
      case 'half-open':
        if (s.probes >= this.#options.halfOpenProbes) return false;
        this.#state = { state: 'half-open', probes: s.probes + 1, successes: s.successes };
        return true;
    }
  }

  success(): void {
    const now = this.#tick();
    const s = this.#state;
    if (s.state === 'closed') {
      this.#strategy.success(now);
    } else if (s.state === 'half-open') {
      const successes = s.successes + 1;
      if (successes >= this.#options.halfOpenSuccesses) this.#close(now);
      else this.#state = { state: 'half-open', probes: s.probes, successes };
    }
  }

  failure(): void {
    const now = this.#tick();
    const s = this.#state;
    if (s.state === 'closed') {
      if (this.#strategy.failure(now)) this.#open(now);
    } else if (s.state === 'half-open') {
      this.#open(now);
    }
  }

  release(): void {
    this.#tick();
    const s = this.#state;
    if (s.state === 'half-open' && s.probes > 0) {
      this.#state = { state: 'half-open', probes: s.probes - 1, successes: s.successes };
    }
  }

  reset(): void {
    const now = this.#tick();
    if (this.#state.state === 'closed') this.#strategy.reset(now);
    else this.#close(now);
  }

  /** Reads the clock (never backwards) and turns an expired open state half-open. */
  #tick(): number {
    const now = this.#now();
    const s = this.#state;
    if (s.state === 'open' && now >= s.until) {
      this.#move({ state: 'half-open', probes: 0, successes: 0 }, s.until);
    }
    return now;
  }

  #now(): number {
    const now = this.#options.clock();
    if (now > this.#lastNow) this.#lastNow = now;
    return this.#lastNow;
  }

  #open(now: number): void {
    this.#strategy.reset(now);
    this.#move({ state: 'open', since: now, until: now + this.#options.openMs }, now);
  }

  #close(now: number): void {
    this.#strategy.reset(now);
    this.#move(CLOSED, now);
  }

  #move(next: BreakerState, at: number): void {
    const from = this.#state.state;
    this.#state = next;
    // State first, then emit: a subscriber reading `state` sees where the breaker went.
    this.#transitions.next({ from, to: next.state, at });
  }
}
