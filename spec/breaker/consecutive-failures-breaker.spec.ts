import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BreakerTransition,
  type ConsecutiveFailuresBreakerOptions,
  consecutiveFailuresBreaker,
  DEFAULT_BREAKER_FAILURE_THRESHOLD,
  DEFAULT_BREAKER_HALF_OPEN_PROBES,
  DEFAULT_BREAKER_OPEN_MS,
  DEFAULT_BREAKER_WINDOW_MS,
  type ResettableBreaker,
  resolveConsecutiveFailuresBreakerOptions,
} from '../../lib/breaker/index.js';
import {
  commandsArb,
  ManualClock,
  PolicyModel,
  runAgainstModel,
  type StrategyModel,
} from './breaker-model.js';

const T0 = 1_700_000_000_000;

/** The reference strategy: the failures of the current streak, in a window that starts again. */
class ConsecutiveModel implements StrategyModel {
  private streak: number[] = [];
  private windowStart = 0;

  constructor(
    private readonly failureThreshold: number,
    private readonly windowMs: number,
  ) {}

  private roll(now: number): void {
    if (now >= this.windowStart + this.windowMs) {
      this.windowStart = now;
      this.streak = [];
    }
  }

  success(now: number): void {
    this.roll(now);
    this.streak = [];
  }

  failure(now: number): boolean {
    this.roll(now);
    this.streak.push(now);
    return this.streak.length > this.failureThreshold;
  }

  reset(now: number): void {
    this.windowStart = now;
    this.streak = [];
  }
}

function setup(options: ConsecutiveFailuresBreakerOptions = {}, start = T0) {
  const clock = new ManualClock(start);
  const breaker = consecutiveFailuresBreaker({ ...options, clock: clock.read });
  const transitions: BreakerTransition[] = [];
  breaker.transitions$.subscribe((t) => transitions.push(t));
  return { clock, breaker, transitions };
}

function fail(breaker: ResettableBreaker, times: number): void {
  for (let i = 0; i < times; i += 1) {
    expect(breaker.tryPass()).toBe(true);
    breaker.failure();
  }
}

/** Opens a default breaker at the clock's current time and returns that time. */
function openIt(breaker: ResettableBreaker, clock: ManualClock): number {
  fail(breaker, 6);
  expect(breaker.state.state).toBe('open');
  return clock.now;
}

describe('consecutiveFailuresBreaker - Go Phobos defaults', () => {
  it('consecutiveFailuresBreaker - has the Go defaults: threshold 5, window 10 s, open 30 s, 5 probes', () => {
    expect(DEFAULT_BREAKER_FAILURE_THRESHOLD).toBe(5);
    expect(DEFAULT_BREAKER_WINDOW_MS).toBe(10_000);
    expect(DEFAULT_BREAKER_OPEN_MS).toBe(30_000);
    expect(DEFAULT_BREAKER_HALF_OPEN_PROBES).toBe(5);
    const resolved = resolveConsecutiveFailuresBreakerOptions();
    expect(resolved).toMatchObject({
      failureThreshold: 5,
      windowMs: 10_000,
      openMs: 30_000,
      halfOpenProbes: 5,
      halfOpenSuccesses: 5,
    });
    expect(resolved.clock).toBe(Date.now);
  });

  it('consecutiveFailuresBreaker - stays closed after 5 consecutive failures, opens on the 6th', () => {
    const { clock, breaker, transitions } = setup();
    fail(breaker, 5);
    expect(breaker.state).toEqual({ state: 'closed' });
    expect(transitions).toEqual([]);
    clock.advance(100);
    fail(breaker, 1);
    expect(breaker.state).toEqual({ state: 'open', since: T0 + 100, until: T0 + 100 + 30_000 });
    expect(transitions).toEqual([{ from: 'closed', to: 'open', at: T0 + 100 }]);
    expect(breaker.tryPass()).toBe(false);
  });

  it('consecutiveFailuresBreaker - a success while closed resets the consecutive count', () => {
    const { breaker } = setup();
    fail(breaker, 5);
    breaker.success();
    fail(breaker, 5);
    expect(breaker.state.state).toBe('closed');
    fail(breaker, 1);
    expect(breaker.state.state).toBe('open');
  });

  it('consecutiveFailuresBreaker - 6 failures spread over more than 10 s do not open it', () => {
    const { clock, breaker } = setup();
    for (let i = 0; i < 6; i += 1) {
      if (i > 0) clock.advance(2_001);
      fail(breaker, 1);
    }
    expect(clock.now - T0).toBeGreaterThan(10_000);
    expect(breaker.state).toEqual({ state: 'closed' });
  });

  it('consecutiveFailuresBreaker - 6 failures within 10 s open it', () => {
    const { clock, breaker } = setup();
    for (let i = 0; i < 6; i += 1) {
      if (i > 0) clock.advance(1_999);
      fail(breaker, 1);
    }
    expect(clock.now - T0).toBeLessThan(10_000);
    expect(breaker.state.state).toBe('open');
  });

  it('consecutiveFailuresBreaker - the window starts again: failures before its start do not count', () => {
    const { clock, breaker } = setup();
    fail(breaker, 5);
    clock.advance(10_000);
    fail(breaker, 5);
    expect(breaker.state.state).toBe('closed');
    fail(breaker, 1);
    expect(breaker.state.state).toBe('open');
  });

  it('consecutiveFailuresBreaker - refuses calls for 30 s, then reads as half-open and emits then', () => {
    const { clock, breaker, transitions } = setup();
    const openedAt = openIt(breaker, clock);
    clock.advance(29_999);
    expect(breaker.tryPass()).toBe(false);
    expect(breaker.state.state).toBe('open');
    clock.advance(5_001);
    expect(transitions).toHaveLength(1);
    expect(breaker.state).toEqual({ state: 'half-open', probes: 0, successes: 0 });
    expect(transitions).toEqual([
      { from: 'closed', to: 'open', at: openedAt },
      { from: 'open', to: 'half-open', at: openedAt + 30_000 },
    ]);
  });

  it('consecutiveFailuresBreaker - lets 5 probes through in half-open and refuses the 6th', () => {
    const { clock, breaker } = setup();
    openIt(breaker, clock);
    clock.advance(30_000);
    for (let i = 1; i <= 5; i += 1) {
      expect(breaker.tryPass()).toBe(true);
      expect(breaker.state).toEqual({ state: 'half-open', probes: i, successes: 0 });
    }
    expect(breaker.tryPass()).toBe(false);
    clock.advance(1_000_000);
    expect(breaker.tryPass()).toBe(false);
  });

  it('consecutiveFailuresBreaker - 5 successes in half-open close it', () => {
    const { clock, breaker, transitions } = setup();
    openIt(breaker, clock);
    clock.advance(30_000);
    for (let i = 0; i < 5; i += 1) expect(breaker.tryPass()).toBe(true);
    for (let i = 0; i < 4; i += 1) breaker.success();
    expect(breaker.state).toEqual({ state: 'half-open', probes: 5, successes: 4 });
    clock.advance(7);
    breaker.success();
    expect(breaker.state).toEqual({ state: 'closed' });
    expect(transitions.at(-1)).toEqual({ from: 'half-open', to: 'closed', at: clock.now });
    // Closed again with fresh counts: 5 failures stay closed.
    fail(breaker, 5);
    expect(breaker.state.state).toBe('closed');
  });

  it('consecutiveFailuresBreaker - a failure in half-open re-opens it for another 30 s', () => {
    const { clock, breaker, transitions } = setup();
    openIt(breaker, clock);
    clock.advance(30_000);
    expect(breaker.tryPass()).toBe(true);
    expect(breaker.tryPass()).toBe(true);
    breaker.success();
    clock.advance(50);
    breaker.failure();
    expect(breaker.state).toEqual({ state: 'open', since: clock.now, until: clock.now + 30_000 });
    expect(transitions.map((t) => `${t.from}>${t.to}`)).toEqual([
      'closed>open',
      'open>half-open',
      'half-open>open',
    ]);
    clock.advance(29_999);
    expect(breaker.tryPass()).toBe(false);
    clock.advance(1);
    expect(breaker.tryPass()).toBe(true);
  });

  it('consecutiveFailuresBreaker - ignores results reported while open (late results of earlier calls)', () => {
    const { clock, breaker, transitions } = setup();
    const openedAt = openIt(breaker, clock);
    for (let i = 0; i < 10; i += 1) {
      breaker.success();
      breaker.failure();
    }
    expect(breaker.state).toEqual({ state: 'open', since: openedAt, until: openedAt + 30_000 });
    expect(transitions).toHaveLength(1);
  });
});

describe('consecutiveFailuresBreaker - options', () => {
  it.each([
    ['failureThreshold', { failureThreshold: 0 }],
    ['failureThreshold', { failureThreshold: -1 }],
    ['failureThreshold', { failureThreshold: 1.5 }],
    ['windowMs', { windowMs: 0 }],
    ['openMs', { openMs: 0 }],
    ['openMs', { openMs: Number.NaN }],
    ['halfOpenProbes', { halfOpenProbes: 0 }],
    ['halfOpenSuccesses', { halfOpenSuccesses: 0 }],
    ['halfOpenSuccesses', { halfOpenSuccesses: 6 }],
    ['halfOpenSuccesses', { halfOpenProbes: 1, halfOpenSuccesses: 2 }],
    ['clock', { clock: 5 as unknown as () => number }],
  ])(
    'consecutiveFailuresBreaker - rejects a bad %s at creation with a RangeError naming it',
    (name, options) => {
      expect(() => consecutiveFailuresBreaker(options)).toThrow(RangeError);
      expect(() => consecutiveFailuresBreaker(options)).toThrow(new RegExp(`^${name} `));
    },
  );

  it('consecutiveFailuresBreaker - rejects options that are not an object with a TypeError', () => {
    expect(() => consecutiveFailuresBreaker(7 as unknown as ConsecutiveFailuresBreakerOptions)).toThrow(
      TypeError,
    );
  });

  it('consecutiveFailuresBreaker - halfOpenSuccesses defaults to halfOpenProbes', () => {
    expect(resolveConsecutiveFailuresBreakerOptions({ halfOpenProbes: 2 }).halfOpenSuccesses).toBe(2);
    expect(
      resolveConsecutiveFailuresBreakerOptions({ halfOpenProbes: 3, halfOpenSuccesses: 1 }),
    ).toMatchObject({
      halfOpenProbes: 3,
      halfOpenSuccesses: 1,
    });
  });
});

describe('consecutiveFailuresBreaker - model-based', () => {
  const configArb = fc
    .record({
      failureThreshold: fc.integer({ min: 1, max: 6 }),
      windowMs: fc.integer({ min: 1, max: 200 }),
      openMs: fc.integer({ min: 1, max: 200 }),
      halfOpenProbes: fc.integer({ min: 1, max: 6 }),
    })
    .chain((c) =>
      fc.integer({ min: 1, max: c.halfOpenProbes }).map((halfOpenSuccesses) => ({ ...c, halfOpenSuccesses })),
    );
  const withCommands = <C extends { windowMs: number; openMs: number }>(config: C) =>
    commandsArb(20, 500, [config.windowMs - 1, config.windowMs, config.openMs - 1, config.openMs]).map(
      (commands) => [config, commands] as const,
    );
  const startArb = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000_000_000_000 }));

  it('consecutiveFailuresBreaker - follows the reference model under random commands (small configs)', () => {
    fc.assert(
      fc.property(configArb.chain(withCommands), startArb, ([config, commands], start) => {
        const clock = new ManualClock(start);
        const breaker = consecutiveFailuresBreaker({ ...config, clock: clock.read });
        const model = new PolicyModel(
          config,
          new ConsecutiveModel(config.failureThreshold, config.windowMs),
          start,
        );
        runAgainstModel(breaker, model, clock, config, commands);
      }),
      { numRuns: 300 },
    );
  });

  it('consecutiveFailuresBreaker - follows the reference model under random commands (Go defaults)', () => {
    const config = { openMs: 30_000, halfOpenProbes: 5, halfOpenSuccesses: 5 };
    fc.assert(
      fc.property(
        startArb,
        commandsArb(3_000, 40_000, [9_999, 10_000, 29_999, 30_000]),
        (start, commands) => {
          const clock = new ManualClock(start);
          const breaker = consecutiveFailuresBreaker({ clock: clock.read });
          const model = new PolicyModel(config, new ConsecutiveModel(5, 10_000), start);
          runAgainstModel(breaker, model, clock, config, commands);
        },
      ),
      { numRuns: 200 },
    );
  });
});
