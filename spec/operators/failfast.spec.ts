import { describe, it } from 'vitest';
import { ConnectionClosedError } from '../../lib/errors/index.js';
import { failfast } from '../../lib/operators/index.js';
import { attempts, testScheduler } from './marbles.js';

const closed = new ConnectionClosedError('gone');

describe('failfast', () => {
  it('failfast - passes the reply of the one attempt', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const call = cold('--a|');
      expectObservable(call.pipe(failfast())).toBe('--a|');
      expectSubscriptions(call.subscriptions).toBe('^--!');
    });
  });

  it('failfast - never retries, even an error failover would retry', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-#', undefined, closed);
      const second = cold('-a|');
      expectObservable(attempts(first, second).pipe(failfast())).toBe('-#', undefined, closed);
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(second.subscriptions).toBe([]);
    });
  });
});
