import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  ServiceError,
} from '../../lib/errors/index.js';
import { exponentialBackoff, failover, retryBudget } from '../../lib/operators/index.js';
import { attempts, countingBudget, testScheduler } from './marbles.js';

const closed = new ConnectionClosedError('gone');
const refused = new ConnectionError('refused');
const slow = new DeadlineExceededError('slow');

describe('failover', () => {
  it('failover - picks another server after connection errors, and takes its reply', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('--#', undefined, closed);
      const second = cold('---#', undefined, refused);
      const third = cold('--a|');
      expectObservable(attempts(first, second, third).pipe(failover({ retries: 3 }))).toBe('-------a|');
      expectSubscriptions(first.subscriptions).toBe('^-!');
      expectSubscriptions(second.subscriptions).toBe('--^--!');
      expectSubscriptions(third.subscriptions).toBe('-----^--!');
    });
  });

  it('failover - fails with the last error once the retries are used up', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-#', undefined, closed);
      const second = cold('-#', undefined, refused);
      const third = cold('-#', undefined, slow);
      expectObservable(attempts(first, second, third).pipe(failover({ retries: 2 }))).toBe(
        '---#',
        undefined,
        slow,
      );
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(second.subscriptions).toBe('-^!');
      expectSubscriptions(third.subscriptions).toBe('--^!');
    });
  });

  it('failover - retries 3 times by default', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('-#', undefined, closed);
      expectObservable(call.pipe(failover())).toBe('----#', undefined, closed);
      expectSubscriptions(call.subscriptions).toBe(['^!', '-^!', '--^!', '---^!']);
    });
  });

  it.each([
    ['a ServiceError (the service itself failed)', new ServiceError('divide by zero')],
    ['a CancelledError (the caller gave up)', new CancelledError('aborted')],
  ])('failover - does not retry %s: exactly one subscription', (_, error) => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('--#', undefined, error);
      const second = cold('-a|');
      expectObservable(attempts(first, second).pipe(failover({ retries: 3 }))).toBe('--#', undefined, error);
      expectSubscriptions(first.subscriptions).toBe('^-!');
      expectSubscriptions(second.subscriptions).toBe([]);
    });
  });

  it('failover - retries 0 never resubscribes', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('-#', undefined, closed);
      expectObservable(call.pipe(failover({ retries: 0 }))).toBe('-#', undefined, closed);
      expectSubscriptions(call.subscriptions).toBe('^!');
    });
  });

  it('failover - follows shouldRetry instead of the default rule', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const service = new ServiceError('flaky');
      const first = cold('-#', undefined, service);
      const second = cold('-#', undefined, closed);
      const shouldRetry = (error: unknown) => error instanceof ServiceError;
      expectObservable(attempts(first, second).pipe(failover({ shouldRetry }))).toBe(
        '--#',
        undefined,
        closed,
      );
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(second.subscriptions).toBe('-^!');
    });
  });

  it('failover - waits backoff(n) between attempts', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-#', undefined, closed);
      const second = cold('-#', undefined, closed);
      const third = cold('-a|');
      const backoff = exponentialBackoff({ initialMs: 2, jitter: 'none' });
      expectObservable(attempts(first, second, third).pipe(failover({ backoff }))).toBe('---------a|');
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(second.subscriptions).toBe('---^!');
      expectSubscriptions(third.subscriptions).toBe('--------^-!');
    });
  });

  it('failover - unsubscribing during a backoff cancels the retry', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-#', undefined, closed);
      const second = cold('-a|');
      const reply = attempts(first, second).pipe(failover({ backoff: () => 5 }));
      expectObservable(reply, '^--!').toBe('----');
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(second.subscriptions).toBe([]);
    });
  });

  it('failover - stops retrying when the budget is spent, with the last error', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      // no ratio, and a reserve of 1 retry per second over 1 second: one retry in all
      const budget = retryBudget({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 1_000 });
      const first = cold('-#', undefined, closed);
      const second = cold('-#', undefined, refused);
      const third = cold('-a|');
      expectObservable(attempts(first, second, third).pipe(failover({ retries: 3, budget }))).toBe(
        '--#',
        undefined,
        refused,
      );
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(second.subscriptions).toBe('-^!');
      expectSubscriptions(third.subscriptions).toBe([]);
    });
  });

  it('failover - deposits once per call and withdraws once per retry', () => {
    const budget = countingBudget(10);
    testScheduler().run(({ cold, expectObservable }) => {
      const first = cold('-#', undefined, closed);
      const second = cold('-#', undefined, closed);
      const third = cold('-a|');
      expectObservable(attempts(first, second, third).pipe(failover({ budget }))).toBe('---a|');
    });
    expect(budget.deposits).toBe(1);
    expect(budget.withdrawals).toBe(2);
  });

  it('failover - withdraws nothing for an error it does not retry', () => {
    const budget = countingBudget(10);
    testScheduler().run(({ cold, expectObservable }) => {
      const error = new ServiceError('no');
      expectObservable(cold('-#', undefined, error).pipe(failover({ budget }))).toBe('-#', undefined, error);
    });
    expect(budget).toMatchObject({ deposits: 1, withdrawals: 0 });
  });

  it.each([
    [{ retries: -1 }, /retries/],
    [{ retries: 1.5 }, /retries/],
    [{ backoff: 5 }, /backoff/],
    [{ shouldRetry: true }, /shouldRetry/],
    [{ budget: {} }, /budget/],
    [{ scheduler: 'async' }, /scheduler/],
  ])('failover - rejects %o at creation', (options, message) => {
    expect(() => failover(options as never)).toThrow(RangeError);
    expect(() => failover(options as never)).toThrow(message);
  });
});
