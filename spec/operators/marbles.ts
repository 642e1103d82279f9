import { defer, type Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { expect } from 'vitest';
import type { RetryBudget } from '../../lib/operators/index.js';

/** A TestScheduler that asserts with vitest's deep equality. */
export function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/**
 * A source whose n-th subscription subscribes the n-th attempt, as `defer(() => call(pick()))`
 * does with one server per pick. A subscription past the last attempt errors.
 */
export function attempts<T>(...sources: Observable<T>[]): Observable<T> {
  let next = 0;
  return defer(() => {
    const source = sources[next];
    next += 1;
    if (source === undefined) throw new Error(`attempt ${next} was not expected`);
    return source;
  });
}

/** Matches an error by class name and details, for errors the operators build themselves. */
export function errorLike(name: string, details: Record<string, unknown>): unknown {
  return expect.objectContaining({ name, details: expect.objectContaining(details) });
}

/** A budget that allows `allowed` retries and counts what it is asked. */
export function countingBudget(allowed: number): RetryBudget & { deposits: number; withdrawals: number } {
  return {
    deposits: 0,
    withdrawals: 0,
    deposit() {
      this.deposits += 1;
    },
    tryWithdraw() {
      if (this.withdrawals >= allowed) return false;
      this.withdrawals += 1;
      return true;
    },
    get balance() {
      return allowed - this.withdrawals;
    },
  };
}
