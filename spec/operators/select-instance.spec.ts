import { describe, expect, it } from 'vitest';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import { selectInstance } from '../../lib/operators/index.js';
import type { CallInfo, Selector } from '../../lib/selector/selector.js';
import { errorLike, testScheduler } from './marbles.js';

const call: CallInfo = { service: 'Arith', method: 'Mul', args: { A: 2, B: 3 } };
const instance = (port: number, metadata: Record<string, string> = {}): ServiceInstance => ({
  key: `tcp@127.0.0.1:${port}`,
  address: `tcp@127.0.0.1:${port}`,
  metadata,
});
const one = instance(8971);
const two = instance(8972);
const three = instance(8973, { state: 'down' });

/** A selector that picks the last instance and records the lists and calls it was given. */
function lastSelector(seen: Array<{ keys: string[]; call: CallInfo }>): Selector {
  return {
    select(instances, info) {
      seen.push({ keys: instances.map((i) => i.key), call: info });
      return instances[instances.length - 1];
    },
  };
}

describe('selectInstance', () => {
  it("selectInstance - emits the selector's pick for each list discovery reports", () => {
    const seen: Array<{ keys: string[]; call: CallInfo }> = [];
    testScheduler().run(({ hot, expectObservable }) => {
      const instances$ = hot('-a--b-|', { a: [one, two], b: [one] });
      expectObservable(instances$.pipe(selectInstance(lastSelector(seen), call))).toBe('-x--y-|', {
        x: two,
        y: one,
      });
    });
    expect(seen).toEqual([
      { keys: [one.key, two.key], call },
      { keys: [one.key], call },
    ]);
  });

  it('selectInstance - gives the selector only the available instances', () => {
    const seen: Array<{ keys: string[]; call: CallInfo }> = [];
    const isAvailable = (i: ServiceInstance) => i.metadata.state !== 'down';
    testScheduler().run(({ cold, expectObservable }) => {
      const instances$ = cold('-a|', { a: [one, three] });
      expectObservable(instances$.pipe(selectInstance(lastSelector(seen), call, { isAvailable }))).toBe(
        '-x|',
        {
          x: one,
        },
      );
    });
    expect(seen).toEqual([{ keys: [one.key], call }]);
  });

  it('selectInstance - errors with NoInstanceError for an empty list', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const instances$ = cold('-a-b|', { a: [], b: [one] });
      expectObservable(instances$.pipe(selectInstance(lastSelector([]), call))).toBe(
        '-#',
        undefined,
        errorLike('NoInstanceError', { service: 'Arith' }),
      );
    });
  });

  it('selectInstance - errors with CircuitOpenError when no instance is available', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const instances$ = cold('--a|', { a: [one, two] });
      const isAvailable = () => false;
      expectObservable(instances$.pipe(selectInstance(lastSelector([]), call, { isAvailable }))).toBe(
        '--#',
        undefined,
        errorLike('CircuitOpenError', { service: 'Arith', instances: [one.key, two.key] }),
      );
    });
  });

  it('selectInstance - errors with NoInstanceError when the selector picks nothing', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const nothing: Selector = { select: () => undefined };
      expectObservable(cold('-a|', { a: [one] }).pipe(selectInstance(nothing, call))).toBe(
        '-#',
        undefined,
        errorLike('NoInstanceError', { service: 'Arith' }),
      );
    });
  });

  it('selectInstance - rejects a selector without select, and a bad isAvailable, at creation', () => {
    expect(() => selectInstance({} as never, call)).toThrow(/selector/);
    expect(() => selectInstance(lastSelector([]), call, { isAvailable: 'yes' as never })).toThrow(
      /isAvailable/,
    );
  });
});
