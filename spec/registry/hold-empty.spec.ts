import { describe, it } from 'vitest';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import { holdEmptyAfterDataLoss, type ListUpdate } from '../../lib/registry/hold-empty.js';
import { testScheduler } from '../operators/marbles.js';

function instance(port: number): ServiceInstance {
  const address = `tcp@127.0.0.1:${port}`;
  return Object.freeze({ key: address, address, metadata: Object.freeze({}) });
}

const A: readonly ServiceInstance[] = Object.freeze([instance(1)]);
const B: readonly ServiceInstance[] = Object.freeze([instance(1), instance(2)]);
const NONE: readonly ServiceInstance[] = Object.freeze([]);

/** The updates of a marble: a, b, n (empty) as ordinary lists; x (empty) and y (A) right after a data loss. */
const UPDATES: Record<string, ListUpdate> = {
  a: { list: A, afterDataLoss: false },
  b: { list: B, afterDataLoss: false },
  n: { list: NONE, afterDataLoss: false },
  x: { list: NONE, afterDataLoss: true },
  y: { list: A, afterDataLoss: true },
};
const LISTS = { a: A, b: B, n: NONE };

describe('holdEmptyAfterDataLoss', () => {
  it('holdEmptyAfterDataLoss - passes every change and drops repeats when no data was lost', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const updates = cold('a-a-b-n-n-a|', UPDATES);
      expectObservable(updates.pipe(holdEmptyAfterDataLoss(5))).toBe('a---b-n---a|', LISTS);
    });
  });

  it('holdEmptyAfterDataLoss - an empty list right after a data loss waits for the grace, then is believed', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const updates = cold('a--x-----------|', UPDATES);
      expectObservable(updates.pipe(holdEmptyAfterDataLoss(5))).toBe('a-------n------|', LISTS);
    });
  });

  it('holdEmptyAfterDataLoss - servers that register again within the grace replace the held list: no empty list', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const updates = cold('a--x-b--------|', UPDATES);
      expectObservable(updates.pipe(holdEmptyAfterDataLoss(5))).toBe('a----b--------|', LISTS);
    });
  });

  it('holdEmptyAfterDataLoss - the same servers coming back within the grace emit nothing at all', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const updates = cold('a--x-a--------|', UPDATES);
      expectObservable(updates.pipe(holdEmptyAfterDataLoss(5))).toBe('a-------------|', LISTS);
    });
  });

  it('holdEmptyAfterDataLoss - the grace runs from the data loss, not from each later empty list', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const updates = cold('a--x-b-n-------|', UPDATES);
      expectObservable(updates.pipe(holdEmptyAfterDataLoss(5))).toBe('a----b--n------|', LISTS);
    });
  });

  it('holdEmptyAfterDataLoss - after the grace, empty lists pass at once again', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const updates = cold('a--y-------n---|', UPDATES);
      expectObservable(updates.pipe(holdEmptyAfterDataLoss(5))).toBe('a----------n---|', LISTS);
    });
  });

  it('holdEmptyAfterDataLoss - an empty first list is emitted at once: there is nothing to keep', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const updates = cold('x--a|', UPDATES);
      expectObservable(updates.pipe(holdEmptyAfterDataLoss(5))).toBe('n--a|', LISTS);
    });
  });

  it('holdEmptyAfterDataLoss - a grace of 0 holds nothing', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const updates = cold('a--x--|', UPDATES);
      expectObservable(updates.pipe(holdEmptyAfterDataLoss(0))).toBe('a--n--|', LISTS);
    });
  });

  it('holdEmptyAfterDataLoss - unsubscribing cancels a held list', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const updates = cold('a--x----------', UPDATES);
      expectObservable(updates.pipe(holdEmptyAfterDataLoss(5)), '^-----!').toBe('a-------', LISTS);
    });
  });
});
