import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BreakerTransition,
  DEFAULT_BREAKER_BUCKETS,
  DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD,
  DEFAULT_BREAKER_MINIMUM_REQUESTS,
  type FailureRateBreakerOptions,
  failureRateBreaker,
  type ResettableBreaker,
  resolveFailureRateBreakerOptions,
} from '../../lib/breaker/index.js';
import {
  commandsArb,
  ManualClock,
  PolicyModel,
  runAgainstModel,
  type StrategyModel,
} from './breaker-model.js';

const T0 = 1_700_000_000_000;

/**
 * The reference strategy: every outcome since the breaker last closed, with its time. The window
 * is the outcomes whose bucket is one of the last `buckets` buckets, the current one included.
 */
class FailureRateModel implements StrategyModel {
  private outcomes: { readonly at: number; readonly failed: boolean }[] = [];

  constructor(private readonly options: Required<Omit<FailureRateBreakerOptions, 'clock'>>) {}

  private bucket(at: number): number {
    return Math.floor((at * this.options.buckets) / this.options.windowMs);
  }

  success(now: number): void {
    this.outcomes.push({ at: now, failed: false });
  }

  failure(now: number): boolean {
    this.outcomes.push({ at: now, failed: true });
    const current = this.bucket(now);
    const inWindow = this.outcomes.filter((o) => this.bucket(o.at) > current - this.options.buckets);
    const failed = inWindow.filter((o) => o.failed).length;
    return (
      inWindow.length >= this.options.minimumRequests &&
      failed / inWindow.length >= this.options.failureRateThreshold
    );
  }

  reset(): void {
    this.outcomes = [];
  }
}

function setup(options: FailureRateBreakerOptions = {}) {
  const clock = new ManualClock(T0);
  const breaker = failureRateBreaker({ ...options, clock: clock.read });
  const transitions: BreakerTransition[] = [];
  breaker.transitions$.subscribe((t) => transitions.push(t));
  return { clock, breaker, transitions };
}

function report(breaker: ResettableBreaker, failures: number, successes = 0): void {
  for (let i = 0; i < successes; i += 1) {
    expect(breaker.tryPass()).toBe(true);
    breaker.success();
  }
  for (let i = 0; i < failures; i += 1) {
    expect(breaker.tryPass()).toBe(true);
    breaker.failure();
  }
}

describe('failureRateBreaker', () => {
  it('failureRateBreaker - has defaults: ratio 0.5, 20 requests, 10 s window in 10 buckets, Go open/half-open', () => {
    expect(DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD).toBe(0.5);
    expect(DEFAULT_BREAKER_MINIMUM_REQUESTS).toBe(20);
    expect(DEFAULT_BREAKER_BUCKETS).toBe(10);
    expect(resolveFailureRateBreakerOptions()).toMatchObject({
      failureRateThreshold: 0.5,
      minimumRequests: 20,
      windowMs: 10_000,
      buckets: 10,
      openMs: 30_000,
      halfOpenProbes: 5,
      halfOpenSuccesses: 5,
    });
  });

  it('failureRateBreaker - never opens below minimumRequests, even when every call fails', () => {
    const { breaker, transitions } = setup();
    report(breaker, 19);
    expect(breaker.state).toEqual({ state: 'closed' });
    expect(transitions).toEqual([]);
    report(breaker, 1);
    expect(breaker.state).toEqual({ state: 'open', since: T0, until: T0 + 30_000 });
  });

  it('failureRateBreaker - opens when the ratio reaches the threshold, not below it', () => {
    const atHalf = setup();
    report(atHalf.breaker, 9, 10);
    expect(atHalf.breaker.state.state).toBe('closed');
    report(atHalf.breaker, 1);
    expect(atHalf.breaker.state.state).toBe('open');

    const belowHalf = setup();
    report(belowHalf.breaker, 10, 11);
    expect(belowHalf.breaker.state.state).toBe('closed');
  });

  it('failureRateBreaker - judges the ratio when a failure is recorded, not on a success', () => {
    const { breaker } = setup();
    report(breaker, 19);
    report(breaker, 0, 1);
    expect(breaker.state.state).toBe('closed');
    report(breaker, 1);
    expect(breaker.state.state).toBe('open');
  });

  it('failureRateBreaker - the window slides: failures older than the window expire', () => {
    const inside = setup();
    report(inside.breaker, 19);
    inside.clock.advance(9_999);
    report(inside.breaker, 1);
    expect(inside.breaker.state.state).toBe('open');

    const outside = setup();
    report(outside.breaker, 19);
    outside.clock.advance(10_000);
    report(outside.breaker, 1);
    expect(outside.breaker.state.state).toBe('closed');
  });

  it('failureRateBreaker - the window slides bucket by bucket', () => {
    const { clock, breaker } = setup();
    report(breaker, 10);
    clock.advance(5_000);
    report(breaker, 9);
    clock.advance(5_000);
    // The first 10 left the window; 9 + 1 remain.
    report(breaker, 1);
    expect(breaker.state.state).toBe('closed');
    report(breaker, 9);
    expect(breaker.state.state).toBe('closed');
    report(breaker, 1);
    expect(breaker.state.state).toBe('open');
  });

  it('failureRateBreaker - half-open: 5 probes, 5 successes close it with an empty window', () => {
    const { clock, breaker, transitions } = setup();
    report(breaker, 20);
    clock.advance(30_000);
    for (let i = 0; i < 5; i += 1) expect(breaker.tryPass()).toBe(true);
    expect(breaker.tryPass()).toBe(false);
    for (let i = 0; i < 5; i += 1) breaker.success();
    expect(breaker.state).toEqual({ state: 'closed' });
    expect(transitions.map((t) => t.to)).toEqual(['open', 'half-open', 'closed']);
    report(breaker, 19);
    expect(breaker.state.state).toBe('closed');
  });

  it('failureRateBreaker - a failure in half-open re-opens it', () => {
    const { clock, breaker } = setup();
    report(breaker, 20);
    clock.advance(30_000);
    expect(breaker.tryPass()).toBe(true);
    breaker.failure();
    expect(breaker.state).toEqual({ state: 'open', since: T0 + 30_000, until: T0 + 60_000 });
  });

  it.each([
    ['failureRateThreshold', { failureRateThreshold: 1.5 }],
    ['failureRateThreshold', { failureRateThreshold: -0.1 }],
    ['failureRateThreshold', { failureRateThreshold: Number.NaN }],
    ['failureRateThreshold', { failureRateThreshold: '0.5' as unknown as number }],
    ['minimumRequests', { minimumRequests: 0 }],
    ['minimumRequests', { minimumRequests: 2.5 }],
    ['windowMs', { windowMs: 0 }],
    ['buckets', { buckets: 0 }],
    ['buckets', { windowMs: 5, buckets: 6 }],
    ['openMs', { openMs: 0 }],
    ['halfOpenSuccesses', { halfOpenProbes: 2, halfOpenSuccesses: 3 }],
  ])('failureRateBreaker - rejects a bad %s at creation with a RangeError naming it', (name, options) => {
    expect(() => failureRateBreaker(options)).toThrow(RangeError);
    expect(() => failureRateBreaker(options)).toThrow(new RegExp(`^${name} `));
  });

  it('failureRateBreaker - accepts the bounds of failureRateThreshold, 0 and 1', () => {
    expect(() => failureRateBreaker({ failureRateThreshold: 0 })).not.toThrow();
    expect(() => failureRateBreaker({ failureRateThreshold: 1 })).not.toThrow();
  });
});

describe('failureRateBreaker - model-based', () => {
  const configArb = fc
    .record({
      failureRateThreshold: fc.oneof(
        fc.constantFrom(0, 0.25, 0.5, 1),
        fc.double({ min: 0, max: 1, noNaN: true }),
      ),
      minimumRequests: fc.integer({ min: 1, max: 12 }),
      windowMs: fc.integer({ min: 1, max: 200 }),
      openMs: fc.integer({ min: 1, max: 200 }),
      halfOpenProbes: fc.integer({ min: 1, max: 6 }),
    })
    .chain((c) =>
      fc
        .record({
          buckets: fc.integer({ min: 1, max: Math.min(10, c.windowMs) }),
          halfOpenSuccesses: fc.integer({ min: 1, max: c.halfOpenProbes }),
        })
        .map((more) => ({ ...c, ...more })),
    )
    .chain((config) =>
      commandsArb(20, 500, [
        config.windowMs - 1,
        config.windowMs,
        Math.ceil(config.windowMs / config.buckets),
        config.openMs,
      ]).map((commands) => [config, commands] as const),
    );
  const startArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000_000_000_000 }));

  it('failureRateBreaker - follows the reference model under random commands (small configs)', () => {
    fc.assert(
      fc.property(configArb, startArb, ([config, commands], start) => {
        const clock = new ManualClock(start);
        const breaker = failureRateBreaker({ ...config, clock: clock.read });
        const model = new PolicyModel(config, new FailureRateModel(config), start);
        runAgainstModel(breaker, model, clock, config, commands);
      }),
      { numRuns: 300 },
    );
  });

  it('failureRateBreaker - follows the reference model under random commands (defaults)', () => {
    const options = resolveFailureRateBreakerOptions();
    fc.assert(
      fc.property(
        startArb,
        commandsArb(1_500, 40_000, [999, 1_000, 9_999, 10_000, 30_000]),
        (start, commands) => {
          const clock = new ManualClock(start);
          const breaker = failureRateBreaker({ clock: clock.read });
          const model = new PolicyModel(options, new FailureRateModel(options), start);
          runAgainstModel(breaker, model, clock, options, commands);
        },
      ),
      { numRuns: 200 },
    );
  });
});
