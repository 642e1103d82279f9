import { describe, expect, it } from 'vitest';
import {
  type BreakerConfig,
  type BreakerFactory,
  breakerFor,
  consecutiveFailuresBreaker,
} from '../../lib/breaker/index.js';
import { ManualClock } from './breaker-model.js';

describe('breakerFor', () => {
  it('breakerFor - false and undefined mean no breaker', () => {
    expect(breakerFor(false)).toBeUndefined();
    expect(breakerFor(undefined)).toBeUndefined();
  });

  it('breakerFor - returns a factory function as it is', () => {
    const factory: BreakerFactory = () => consecutiveFailuresBreaker();
    expect(breakerFor(factory)).toBe(factory);
  });

  it('breakerFor - consecutive: one independent breaker per instance, with the given options', () => {
    const clock = new ManualClock(0);
    const factory = breakerFor({ kind: 'consecutive', failureThreshold: 1, clock: clock.read });
    const a = factory?.('tcp@127.0.0.1:1');
    const b = factory?.('tcp@127.0.0.1:2');
    expect(a).toBeDefined();
    expect(a).not.toBe(b);
    a?.failure();
    expect(a?.state.state).toBe('closed');
    a?.failure();
    expect(a?.state).toEqual({ state: 'open', since: 0, until: 30_000 });
    expect(b?.state.state).toBe('closed');
  });

  it('breakerFor - rate: makes failure-rate breakers', () => {
    const factory = breakerFor({ kind: 'rate', minimumRequests: 2, failureRateThreshold: 1, clock: () => 0 });
    const breaker = factory?.('tcp@127.0.0.1:1');
    breaker?.failure();
    expect(breaker?.state.state).toBe('closed');
    breaker?.failure();
    expect(breaker?.state.state).toBe('open');
  });

  it('breakerFor - validates options at once, before any breaker is made', () => {
    expect(() => breakerFor({ kind: 'consecutive', failureThreshold: 0 })).toThrow(/^failureThreshold /);
    expect(() => breakerFor({ kind: 'rate', failureRateThreshold: 1.5 })).toThrow(/^failureRateThreshold /);
    expect(() => breakerFor({ kind: 'rate', openMs: 0 })).toThrow(RangeError);
  });

  it('breakerFor - rejects an unknown kind with a RangeError naming breaker.kind', () => {
    expect(() => breakerFor({ kind: 'sliding' } as unknown as BreakerConfig)).toThrow(/^breaker\.kind /);
    expect(() => breakerFor({} as unknown as BreakerConfig)).toThrow(RangeError);
  });

  it('breakerFor - rejects what is neither options, a function nor false with a TypeError', () => {
    expect(() => breakerFor(true as unknown as BreakerConfig)).toThrow(TypeError);
    expect(() => breakerFor('consecutive' as unknown as BreakerConfig)).toThrow(TypeError);
  });
});
