import { describe, expect, it } from 'vitest';
import {
  type BreakerState,
  type BreakerStrategy,
  type BreakerTransition,
  policyBreaker,
  resolveBreakerPolicyOptions,
} from '../../lib/breaker/index.js';
import { ManualClock } from './breaker-model.js';

/** A strategy that opens at the first failure and records what the policy told it. */
function recordingStrategy() {
  const calls: string[] = [];
  const strategy: BreakerStrategy = {
    success: (now) => void calls.push(`success@${now}`),
    failure: (now) => {
      calls.push(`failure@${now}`);
      return true;
    },
    reset: (now) => void calls.push(`reset@${now}`),
  };
  return { strategy, calls };
}

function setup(options: { openMs?: number; halfOpenProbes?: number; halfOpenSuccesses?: number } = {}) {
  const clock = new ManualClock(1_000);
  const { strategy, calls } = recordingStrategy();
  const breaker = policyBreaker(strategy, { openMs: 100, halfOpenProbes: 2, ...options, clock: clock.read });
  const transitions: BreakerTransition[] = [];
  breaker.transitions$.subscribe((t) => transitions.push(t));
  return { clock, breaker, transitions, calls };
}

describe('policyBreaker', () => {
  it('policyBreaker - resets the strategy at creation, on open and on close; passes outcomes only while closed', () => {
    const { clock, breaker, calls } = setup({ halfOpenSuccesses: 1 });
    breaker.success();
    clock.advance(5);
    breaker.failure();
    breaker.failure();
    breaker.success();
    clock.advance(100);
    expect(breaker.tryPass()).toBe(true);
    breaker.success();
    expect(calls).toEqual(['reset@1000', 'success@1000', 'failure@1005', 'reset@1005', 'reset@1105']);
  });

  it('policyBreaker - reset() forces an open breaker closed and emits the transition', () => {
    const { clock, breaker, transitions } = setup();
    breaker.failure();
    clock.advance(10);
    breaker.reset();
    expect(breaker.state).toEqual({ state: 'closed' });
    expect(transitions).toEqual([
      { from: 'closed', to: 'open', at: 1_000 },
      { from: 'open', to: 'closed', at: 1_010 },
    ]);
  });

  it('policyBreaker - reset() forces a half-open breaker closed', () => {
    const { clock, breaker, transitions } = setup();
    breaker.failure();
    clock.advance(150);
    breaker.reset();
    expect(breaker.state).toEqual({ state: 'closed' });
    expect(transitions.map((t) => [t.from, t.to, t.at])).toEqual([
      ['closed', 'open', 1_000],
      ['open', 'half-open', 1_100],
      ['half-open', 'closed', 1_150],
    ]);
  });

  it('policyBreaker - release() gives a half-open probe slot back, and does nothing in other states', () => {
    const { clock, breaker, transitions } = setup({ halfOpenProbes: 1 });
    breaker.release();
    expect(breaker.state).toEqual({ state: 'closed' });
    breaker.failure();
    breaker.release();
    expect(breaker.state.state).toBe('open');
    clock.advance(100);
    expect(breaker.tryPass()).toBe(true);
    expect(breaker.tryPass()).toBe(false);
    breaker.release();
    expect(breaker.state).toEqual({ state: 'half-open', probes: 0, successes: 0 });
    expect(breaker.tryPass()).toBe(true);
    breaker.release();
    breaker.release();
    expect(breaker.state).toEqual({ state: 'half-open', probes: 0, successes: 0 });
    expect(transitions.map((t) => t.to)).toEqual(['open', 'half-open']);
  });

  it('policyBreaker - reset() on a closed breaker clears the counts and emits nothing', () => {
    const { clock, breaker, transitions, calls } = setup();
    clock.advance(3);
    breaker.reset();
    expect(transitions).toEqual([]);
    expect(calls).toEqual(['reset@1000', 'reset@1003']);
  });

  it('policyBreaker - the open-to-half-open transition is emitted on the first use after openMs, at openMs', () => {
    const { clock, breaker, transitions } = setup();
    breaker.failure();
    clock.advance(1_000);
    expect(transitions).toHaveLength(1);
    expect(breaker.tryPass()).toBe(true);
    expect(transitions.at(-1)).toEqual({ from: 'open', to: 'half-open', at: 1_100 });
  });

  it('policyBreaker - a subscriber sees the new state when a transition is emitted', () => {
    const { breaker } = setup();
    const seen: BreakerState[] = [];
    breaker.transitions$.subscribe(() => seen.push(breaker.state));
    breaker.failure();
    expect(seen).toEqual([{ state: 'open', since: 1_000, until: 1_100 }]);
  });

  it('policyBreaker - a clock that goes back reads as standing still', () => {
    const { clock, breaker, transitions } = setup();
    clock.advance(50);
    breaker.failure();
    clock.advance(-40);
    expect(breaker.state).toEqual({ state: 'open', since: 1_050, until: 1_150 });
    clock.advance(140);
    expect(breaker.state.state).toBe('half-open');
    clock.advance(-1_000);
    breaker.failure();
    expect(breaker.state).toEqual({ state: 'open', since: 1_150, until: 1_250 });
    expect(transitions.map((t) => t.at)).toEqual([1_050, 1_150, 1_150]);
  });

  it('policyBreaker - successes in half-open count even from calls that were not probes', () => {
    const { clock, breaker } = setup();
    breaker.failure();
    clock.advance(100);
    breaker.success();
    expect(breaker.state).toEqual({ state: 'half-open', probes: 0, successes: 1 });
    breaker.success();
    expect(breaker.state).toEqual({ state: 'closed' });
  });

  it('policyBreaker - rejects a strategy that is not an object', () => {
    expect(() => policyBreaker(null as unknown as BreakerStrategy)).toThrow(TypeError);
  });

  it('policyBreaker - defaults the clock to Date.now', () => {
    expect(resolveBreakerPolicyOptions({}).clock).toBe(Date.now);
  });
});
