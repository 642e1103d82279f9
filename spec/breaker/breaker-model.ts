import fc from 'fast-check';
import { expect } from 'vitest';
import type { BreakerState, BreakerTransition, Clock, ResettableBreaker } from '../../lib/breaker/index.js';

/** One step of a random run against a breaker and its reference model. */
export type Command =
  | { readonly op: 'tryPass' }
  | { readonly op: 'success' }
  | { readonly op: 'failure' }
  | { readonly op: 'reset' }
  | { readonly op: 'read' }
  | { readonly op: 'advance'; readonly ms: number };

/** The counting half of a reference model: what happens while closed. */
export interface StrategyModel {
  success(now: number): void;
  failure(now: number): boolean;
  reset(now: number): void;
}

export interface PolicyConfig {
  readonly openMs: number;
  readonly halfOpenProbes: number;
  readonly halfOpenSuccesses: number;
}

/**
 * The reference model of the closed / open / half-open policy, written as plainly as possible:
 * it keeps the state and the list of transitions it expects the breaker to have emitted.
 */
export class PolicyModel {
  state: BreakerState = { state: 'closed' };
  readonly log: BreakerTransition[] = [];

  constructor(
    private readonly config: PolicyConfig,
    private readonly strategy: StrategyModel,
    now: number,
  ) {
    strategy.reset(now);
  }

  private go(next: BreakerState, at: number): void {
    this.log.push({ from: this.state.state, to: next.state, at });
    this.state = next;
  }

  /** What any use of the breaker does first: an open state past its time is half-open. */
  refresh(now: number): void {
    if (this.state.state === 'open' && now >= this.state.until) {
      this.go({ state: 'half-open', probes: 0, successes: 0 }, this.state.until);
    }
  }

  private open(now: number): void {
    this.strategy.reset(now);
    this.go({ state: 'open', since: now, until: now + this.config.openMs }, now);
  }

  private close(now: number): void {
    this.strategy.reset(now);
    this.go({ state: 'closed' }, now);
  }

  tryPass(now: number): boolean {
    this.refresh(now);
    const s = this.state;
    if (s.state === 'closed') return true;
    if (s.state === 'open') return false;
    if (s.probes === this.config.halfOpenProbes) return false;
    this.state = { ...s, probes: s.probes + 1 };
    return true;
  }

  success(now: number): void {
    this.refresh(now);
    const s = this.state;
    if (s.state === 'closed') this.strategy.success(now);
    if (s.state !== 'half-open') return;
    if (s.successes + 1 === this.config.halfOpenSuccesses) this.close(now);
    else this.state = { ...s, successes: s.successes + 1 };
  }

  failure(now: number): void {
    this.refresh(now);
    const s = this.state;
    if (s.state === 'closed' && this.strategy.failure(now)) this.open(now);
    if (s.state === 'half-open') this.open(now);
  }

  reset(now: number): void {
    this.refresh(now);
    if (this.state.state === 'closed') this.strategy.reset(now);
    else this.close(now);
  }
}

/**
 * Random command sequences: outcomes, reads, resets, and clock steps both small and large, and
 * some of exactly the given sizes (a window, an open time, one less) to land on boundaries.
 */
export function commandsArb(
  smallStepMs: number,
  largeStepMs: number,
  exactStepsMs: readonly number[] = [],
): fc.Arbitrary<Command[]> {
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 4, arbitrary: fc.constant<Command>({ op: 'tryPass' }) },
    { weight: 3, arbitrary: fc.constant<Command>({ op: 'success' }) },
    { weight: 4, arbitrary: fc.constant<Command>({ op: 'failure' }) },
    { weight: 2, arbitrary: fc.constant<Command>({ op: 'read' }) },
    { weight: 1, arbitrary: fc.constant<Command>({ op: 'reset' }) },
    {
      weight: 3,
      arbitrary: fc.integer({ min: 0, max: smallStepMs }).map((ms): Command => ({ op: 'advance', ms })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0, max: largeStepMs }).map((ms): Command => ({ op: 'advance', ms })),
    },
    {
      weight: exactStepsMs.length > 0 ? 2 : 0,
      arbitrary: fc.constantFrom(0, ...exactStepsMs).map((ms): Command => ({ op: 'advance', ms })),
    },
  );
  return fc.array(command, { maxLength: 200, size: 'max' });
}

/** A clock that tests move by hand. */
export class ManualClock {
  constructor(public now: number) {}
  readonly read: Clock = () => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}

/**
 * Runs the commands against a breaker and its model side by side and checks, after every step:
 * the same `tryPass` answers (false while open), the same transitions emitted (so opening happens
 * exactly when the model says), each transition's `from` equal to the previous `to`, no more
 * than `halfOpenProbes` probes let through in one half-open period, and, on every read and at
 * the end, the same state.
 */
export function runAgainstModel(
  breaker: ResettableBreaker,
  model: PolicyModel,
  clock: ManualClock,
  config: PolicyConfig,
  commands: readonly Command[],
): void {
  const emitted: BreakerTransition[] = [];
  const subscription = breaker.transitions$.subscribe((t) => emitted.push(t));
  let probesThisPeriod = 0;
  let seen = 0;
  const drain = (): void => {
    for (; seen < emitted.length; seen += 1) {
      const t = emitted[seen] as BreakerTransition;
      const previous = emitted[seen - 1];
      expect(t.from).toBe(previous === undefined ? 'closed' : previous.to);
      expect(t.to).not.toBe(t.from);
      if (previous !== undefined) expect(t.at).toBeGreaterThanOrEqual(previous.at);
      if (t.to === 'half-open') probesThisPeriod = 0;
    }
  };
  try {
    for (const command of commands) {
      const now = clock.now;
      switch (command.op) {
        case 'tryPass': {
          model.refresh(now);
          const wasOpen = model.state.state === 'open';
          const passed = breaker.tryPass();
          expect(passed).toBe(model.tryPass(now));
          if (wasOpen) expect(passed).toBe(false);
          drain();
          if (passed && model.state.state === 'half-open') probesThisPeriod += 1;
          break;
        }
        case 'success':
          breaker.success();
          model.success(now);
          break;
        case 'failure':
          breaker.failure();
          model.failure(now);
          break;
        case 'reset':
          breaker.reset();
          model.reset(now);
          break;
        case 'read':
          model.refresh(now);
          expect(breaker.state).toEqual(model.state);
          break;
        case 'advance':
          clock.advance(command.ms);
          break;
      }
      expect(emitted).toEqual(model.log);
      drain();
      expect(probesThisPeriod).toBeLessThanOrEqual(config.halfOpenProbes);
    }
    model.refresh(clock.now);
    expect(breaker.state).toEqual(model.state);
    expect(emitted).toEqual(model.log);
  } finally {
    subscription.unsubscribe();
  }
}
