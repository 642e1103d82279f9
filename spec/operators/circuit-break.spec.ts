import { NEVER } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { BreakerState, CircuitBreaker } from '../../lib/breaker/breaker.js';
import { consecutiveFailuresBreaker } from '../../lib/breaker/index.js';
import { ConnectionClosedError, DeadlineExceededError, ServiceError } from '../../lib/errors/index.js';
import { circuitBreak, failover } from '../../lib/operators/index.js';
import { attempts, errorLike, testScheduler } from './marbles.js';

const closed = new ConnectionClosedError('gone');

/** A breaker that lets `passes` calls through and records what it is told in `log`. */
function fakeBreaker(name: string, log: string[], passes = Number.POSITIVE_INFINITY): CircuitBreaker {
  let passed = 0;
  const open: BreakerState = { state: 'open', since: 0, until: 30_000 };
  return {
    get state(): BreakerState {
      return passed < passes ? { state: 'closed' } : open;
    },
    tryPass() {
      log.push(`${name}.tryPass`);
      if (passed >= passes) return false;
      passed += 1;
      return true;
    },
    success: () => log.push(`${name}.success`),
    failure: () => log.push(`${name}.failure`),
    release: () => log.push(`${name}.release`),
    transitions$: NEVER,
  };
}

describe('circuitBreak', () => {
  it('circuitBreak - an open breaker fails at once with CircuitOpenError and sends no call', () => {
    const log: string[] = [];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('-a|');
      expectObservable(call.pipe(circuitBreak(fakeBreaker('A', log, 0)))).toBe(
        '#',
        undefined,
        errorLike('CircuitOpenError', { state: { state: 'open', since: 0, until: 30_000 } }),
      );
      expectSubscriptions(call.subscriptions).toBe([]);
    });
    expect(log).toEqual(['A.tryPass']);
  });

  it('circuitBreak - reports a reply as a success', () => {
    const log: string[] = [];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('--a|');
      expectObservable(call.pipe(circuitBreak(fakeBreaker('A', log)))).toBe('--a|');
      expectSubscriptions(call.subscriptions).toBe('^--!');
    });
    expect(log).toEqual(['A.tryPass', 'A.success']);
  });

  it.each([
    ['a closed connection', closed],
    ['a deadline', new DeadlineExceededError('slow')],
  ])('circuitBreak - reports %s as a failure', (_, error) => {
    const log: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-#', undefined, error).pipe(circuitBreak(fakeBreaker('A', log)))).toBe(
        '-#',
        undefined,
        error,
      );
    });
    expect(log).toEqual(['A.tryPass', 'A.failure']);
  });

  it('circuitBreak - reports a ServiceError as a success: the server is up and answered', () => {
    const log: string[] = [];
    const error = new ServiceError('divide by zero');
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-#', undefined, error).pipe(circuitBreak(fakeBreaker('A', log)))).toBe(
        '-#',
        undefined,
        error,
      );
    });
    expect(log).toEqual(['A.tryPass', 'A.success']);
  });

  it('circuitBreak - follows isFailure instead of the default rule', () => {
    const log: string[] = [];
    const error = new ServiceError('overloaded');
    const isFailure = (e: unknown) => e instanceof ServiceError;
    testScheduler().run(({ cold, expectObservable }) => {
      const breaker = fakeBreaker('A', log);
      expectObservable(cold('-#', undefined, error).pipe(circuitBreak(breaker, { isFailure }))).toBe(
        '-#',
        undefined,
        error,
      );
    });
    expect(log).toEqual(['A.tryPass', 'A.failure']);
  });

  it('circuitBreak - reports no outcome when unsubscribed before any result, and releases the pass', () => {
    const log: string[] = [];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('-----a|');
      expectObservable(call.pipe(circuitBreak(fakeBreaker('A', log))), '^--!').toBe('---');
      expectSubscriptions(call.subscriptions).toBe('^--!');
    });
    expect(log).toEqual(['A.tryPass', 'A.release']);
  });

  it('circuitBreak - with cancelIsFailure, a call cut past a deadline kept outside counts as a failure', () => {
    const log: string[] = [];
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // The deadline at 3 (outside the breaker) cuts the call: that is the server's failure.
      const call = cold('-----a|');
      const deadline = 3;
      const guarded = call.pipe(
        circuitBreak(fakeBreaker('A', log), { cancelIsFailure: () => scheduler.now() >= deadline }),
      );
      expectObservable(guarded, '^--!').toBe('---');
    });
    expect(log).toEqual(['A.tryPass', 'A.failure']);
  });

  it('circuitBreak - with cancelIsFailure false (the caller gave up), the pass is released as without it', () => {
    const log: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const guarded = cold('-----a|').pipe(
        circuitBreak(fakeBreaker('A', log), { cancelIsFailure: () => false }),
      );
      expectObservable(guarded, '^--!').toBe('---');
    });
    expect(log).toEqual(['A.tryPass', 'A.release']);
  });

  it('circuitBreak - releases nothing after an outcome was reported', () => {
    const log: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a|').pipe(circuitBreak(fakeBreaker('A', log)))).toBe('-a|');
    });
    expect(log).toEqual(['A.tryPass', 'A.success']);
  });

  it('circuitBreak - a cancelled half-open probe gives its slot back to a real breaker', () => {
    let now = 0;
    const breaker = consecutiveFailuresBreaker({
      failureThreshold: 1,
      openMs: 100,
      halfOpenProbes: 1,
      clock: () => now,
    });
    breaker.failure();
    breaker.failure();
    now = 100;
    testScheduler().run(({ cold, expectObservable }) => {
      // The only probe is cancelled: without the release the breaker would refuse every call.
      expectObservable(cold('-----a|').pipe(circuitBreak(breaker)), '^-!').toBe('--');
    });
    expect(breaker.state).toEqual({ state: 'half-open', probes: 0, successes: 0 });
    expect(breaker.tryPass()).toBe(true);
  });

  it('circuitBreak - reports once for a reply that is followed by more', () => {
    const log: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-#', undefined, closed).pipe(circuitBreak(fakeBreaker('A', log)))).toBe(
        '-a-b-#',
        undefined,
        closed,
      );
    });
    expect(log).toEqual(['A.tryPass', 'A.success']);
  });

  it("circuitBreak - under failover, a function gives each attempt its server's breaker, told before the retry", () => {
    const log: string[] = [];
    const breakers = [fakeBreaker('A', log), fakeBreaker('B', log)];
    let picks = 0;
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const onA = cold('--#', undefined, closed);
      const onB = cold('-b|');
      const pickBreaker = () => breakers[picks++] as CircuitBreaker;
      const reply = attempts(onA, onB).pipe(circuitBreak(pickBreaker), failover({ retries: 1 }));
      expectObservable(reply).toBe('---b|');
      expectSubscriptions(onA.subscriptions).toBe('^-!');
      expectSubscriptions(onB.subscriptions).toBe('--^-!');
    });
    expect(log).toEqual(['A.tryPass', 'A.failure', 'B.tryPass', 'B.success']);
  });

  it('circuitBreak - an open circuit is not retried by failover', () => {
    const log: string[] = [];
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('-a|');
      expectObservable(call.pipe(circuitBreak(fakeBreaker('A', log, 0)), failover())).toBe(
        '#',
        undefined,
        errorLike('CircuitOpenError', {}),
      );
      expectSubscriptions(call.subscriptions).toBe([]);
    });
    expect(log).toEqual(['A.tryPass']);
  });

  it('circuitBreak - with a real breaker: opens after failures, refuses, then lets a probe through', () => {
    const scheduler = testScheduler();
    const breaker = consecutiveFailuresBreaker({
      failureThreshold: 1,
      openMs: 5,
      halfOpenProbes: 1,
      clock: () => scheduler.now(),
    });
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const failing = cold('-#', undefined, closed);
      expectObservable(failing.pipe(circuitBreak(breaker), failover({ retries: 3 }))).toBe(
        '--#',
        undefined,
        errorLike('CircuitOpenError', { state: { state: 'open', since: 2, until: 7 } }),
      );
      expectSubscriptions(failing.subscriptions).toBe(['^!', '-^!']);
      const probe = cold('-a|');
      expectObservable(probe.pipe(circuitBreak(breaker)), '-------^').toBe('--------a|');
      expectSubscriptions(probe.subscriptions).toBe('-------^-!');
    });
    expect(breaker.state).toEqual({ state: 'closed' });
  });

  it('circuitBreak - rejects what is not a breaker, and a bad isFailure, at creation', () => {
    expect(() => circuitBreak({} as never)).toThrow(/breaker/);
    expect(() => circuitBreak(undefined as never)).toThrow(RangeError);
    expect(() => circuitBreak(fakeBreaker('A', []), { isFailure: 1 as never })).toThrow(/isFailure/);
    expect(() => circuitBreak(fakeBreaker('A', []), { cancelIsFailure: true as never })).toThrow(
      /cancelIsFailure/,
    );
  });
});
