import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  ConnectionClosedError,
  ConnectionError,
  ServiceError,
} from '../../lib/errors/index.js';
import { constantBackoff, failtry } from '../../lib/operators/index.js';
import { attempts, countingBudget, testScheduler } from './marbles.js';

const closed = new ConnectionClosedError('gone');
const refused = new ConnectionError('refused');

describe('failtry', () => {
  it('failtry - calls the same server again after connection errors, and takes its reply', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      // the replies of the one server the call is pinned to, call after call
      const first = cold('--#', undefined, closed);
      const second = cold('-#', undefined, refused);
      const third = cold('--a|');
      const pinned = attempts(first, second, third);
      expectObservable(pinned.pipe(failtry())).toBe('-----a|');
      expectSubscriptions(first.subscriptions).toBe('^-!');
      expectSubscriptions(second.subscriptions).toBe('--^!');
      expectSubscriptions(third.subscriptions).toBe('---^--!');
    });
  });

  it('failtry - resubscribes its source at most `retries` times, then fails with the last error', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const pinned = cold('-#', undefined, closed);
      expectObservable(pinned.pipe(failtry({ retries: 2 }))).toBe('---#', undefined, closed);
      expectSubscriptions(pinned.subscriptions).toBe(['^!', '-^!', '--^!']);
    });
  });

  it.each([
    ['a ServiceError', new ServiceError('divide by zero')],
    ['a CancelledError', new CancelledError('aborted')],
  ])('failtry - does not retry %s: exactly one subscription', (_, error) => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const pinned = cold('---#', undefined, error);
      expectObservable(pinned.pipe(failtry())).toBe('---#', undefined, error);
      expectSubscriptions(pinned.subscriptions).toBe('^--!');
    });
  });

  it('failtry - waits backoff(n) between attempts', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const pinned = cold('-#', undefined, closed);
      expectObservable(pinned.pipe(failtry({ retries: 2, backoff: constantBackoff(3) }))).toBe(
        '---------#',
        undefined,
        closed,
      );
      expectSubscriptions(pinned.subscriptions).toBe(['^!', '----^!', '--------^!']);
    });
  });

  it('failtry - stops retrying when the budget refuses, and deposits once per call', () => {
    const budget = countingBudget(1);
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const pinned = cold('-#', undefined, closed);
      expectObservable(pinned.pipe(failtry({ retries: 3, budget }))).toBe('--#', undefined, closed);
      expectSubscriptions(pinned.subscriptions).toBe(['^!', '-^!']);
    });
    expect(budget).toMatchObject({ deposits: 1, withdrawals: 1 });
  });

  it('failtry - rejects bad options at creation, naming them', () => {
    expect(() => failtry({ retries: -1 })).toThrow(/retries/);
    expect(() => failtry('3' as never)).toThrow(TypeError);
    expect(() => failtry('3' as never)).toThrow(/failtry options/);
  });
});
