import { describe, expect, it } from 'vitest';
import { ConnectionClosedError } from '../../lib/errors/index.js';
import { callTimeout, constantBackoff, failover } from '../../lib/operators/index.js';
import { attempts, errorLike, testScheduler } from './marbles.js';

const closed = new ConnectionClosedError('gone');

describe('callTimeout', () => {
  it('callTimeout - passes a value that arrives before the deadline', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('--a|');
      expectObservable(call.pipe(callTimeout({ timeoutMs: 5 }))).toBe('--a|');
      expectSubscriptions(call.subscriptions).toBe('^--!');
    });
  });

  it('callTimeout - errors with DeadlineExceededError at the deadline and unsubscribes the call', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('------a|');
      expectObservable(call.pipe(callTimeout({ timeoutMs: 3 }))).toBe(
        '---#',
        undefined,
        errorLike('DeadlineExceededError', { timeoutMs: 3 }),
      );
      expectSubscriptions(call.subscriptions).toBe('^--!');
    });
  });

  it('callTimeout - counts from subscription, not from creation', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const call = hot('------a|');
      const late = call.pipe(callTimeout({ timeoutMs: 4 }));
      expectObservable(late, '---^').toBe('------a|');
      expectSubscriptions(call.subscriptions).toBe('---^---!');
    });
  });

  it('callTimeout - no longer applies once a value has arrived', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-----b|').pipe(callTimeout({ timeoutMs: 3 }))).toBe('-a-----b|');
    });
  });

  it('callTimeout - passes an error of the call before the deadline unchanged', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-#', undefined, closed).pipe(callTimeout({ timeoutMs: 3 }))).toBe(
        '-#',
        undefined,
        closed,
      );
    });
  });

  it('callTimeout - timeoutMs 0 means no deadline', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-----------a|').pipe(callTimeout({ timeoutMs: 0 }))).toBe('-----------a|');
    });
  });

  it('callTimeout - outside failover bounds all attempts and the backoff between them', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('--#', undefined, closed);
      const reply = call.pipe(
        failover({ retries: 5, backoff: constantBackoff(2) }),
        callTimeout({ timeoutMs: 9 }),
      );
      expectObservable(reply).toBe(
        '---------#',
        undefined,
        errorLike('DeadlineExceededError', { timeoutMs: 9 }),
      );
      expectSubscriptions(call.subscriptions).toBe(['^-!', '----^-!', '--------^!']);
    });
  });

  it('callTimeout - inside failover bounds each attempt, and the deadline is retried', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold('-------a|');
      const fast = cold('-b|');
      const reply = attempts(slow, fast).pipe(callTimeout({ timeoutMs: 3 }), failover({ retries: 1 }));
      expectObservable(reply).toBe('----b|');
      expectSubscriptions(slow.subscriptions).toBe('^--!');
      expectSubscriptions(fast.subscriptions).toBe('---^-!');
    });
  });

  it.each([
    [undefined, /timeoutMs/],
    [-1, /timeoutMs/],
    [1.5, /timeoutMs/],
    ['10', /timeoutMs/],
  ])('callTimeout - rejects timeoutMs %s at creation', (timeoutMs, message) => {
    expect(() => callTimeout({ timeoutMs } as never)).toThrow(RangeError);
    expect(() => callTimeout({ timeoutMs } as never)).toThrow(message);
  });

  it('callTimeout - rejects a scheduler that is not one', () => {
    expect(() => callTimeout({ timeoutMs: 1, scheduler: {} as never })).toThrow(/scheduler/);
  });
});
