import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import { MAX_WEIGHT, weightedRoundRobin, weightOf } from '../../lib/selector/weighted-round-robin.js';
import {
  applyListCommand,
  call,
  frozen,
  instance,
  isMember,
  KEYS,
  listCommand,
  permutationOf,
  shuffled,
} from './support.js';

const weighted = (weights: Record<string, number | string>): readonly ServiceInstance[] =>
  frozen(Object.entries(weights).map(([key, weight]) => instance(key, { weight: String(weight) })));

function picks(
  selector: ReturnType<typeof weightedRoundRobin>,
  list: readonly ServiceInstance[],
  count: number,
) {
  return Array.from({ length: count }, () => selector.select(list, call)?.key);
}

/** Whether every window of `total` consecutive picks from `from` on takes each key its weight times. */
function windowsExact(
  sequence: readonly (string | undefined)[],
  weights: ReadonlyMap<string, number>,
  from = 0,
) {
  const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
  for (let start = from; start + total <= sequence.length; start++) {
    const counts = new Map<string, number>();
    for (const key of sequence.slice(start, start + total))
      counts.set(key ?? '', (counts.get(key ?? '') ?? 0) + 1);
    for (const [key, weight] of weights) if ((counts.get(key) ?? 0) !== weight) return false;
  }
  return true;
}

const weightsOf = (list: readonly ServiceInstance[]) =>
  new Map(list.map((item) => [item.key, weightOf(item)]));

/** A non-empty list of distinct keys with weights 0..6, at least one positive. */
const weightedList = fc
  .uniqueArray(fc.constantFrom(...KEYS), { minLength: 1 })
  .chain((keys) =>
    fc.tuple(
      fc.constant(keys),
      fc.array(fc.integer({ min: 0, max: 6 }), { minLength: keys.length, maxLength: keys.length }),
    ),
  )
  .filter(([, weights]) => weights.some((weight) => weight > 0))
  .map(([keys, weights]) =>
    frozen(keys.map((key, index) => instance(key, { weight: String(weights[index]) }))),
  );

describe('weightedRoundRobin', () => {
  it("weightedRoundRobin - weights 5, 1, 1 give nginx's smooth sequence a a b a c a a", () => {
    const selector = weightedRoundRobin();
    const list = weighted({ a: 5, b: 1, c: 1 });
    expect(picks(selector, list, 14).join(' ')).toBe('a a b a c a a a a b a c a a');
  });

  it('weightedRoundRobin - reads weights: missing or malformed count as 1, large ones are capped', () => {
    const of = (weight?: string) => weightOf(instance('x', weight === undefined ? {} : { weight }));
    expect([
      of('5'),
      of(' 7 '),
      of('0'),
      of(undefined),
      of('-1'),
      of('1.5'),
      of('abc'),
      of(''),
      of('1e3'),
    ]).toEqual([5, 7, 0, 1, 1, 1, 1, 1, 1]);
    expect(of('99999999999999999999')).toBe(MAX_WEIGHT);
  });

  it('weightedRoundRobin - returns undefined for an empty list or one whose weights are all 0', () => {
    const selector = weightedRoundRobin();
    expect(selector.select([], call)).toBeUndefined();
    expect(selector.select(weighted({ a: 0, b: 0 }), call)).toBeUndefined();
    expect(picks(selector, weighted({ a: 0, b: 2, c: 0 }), 3)).toEqual(['b', 'b', 'b']);
  });

  it('weightedRoundRobin - keeps the current weights of staying keys; a joining key starts at 0', () => {
    const selector = weightedRoundRobin();
    const first = selector.select(weighted({ a: 1, b: 1 }), call)?.key;
    // Had every weight restarted from 0, the next pick would be a again.
    expect([first, ...picks(selector, weighted({ a: 1, b: 1, c: 1 }), 3)]).toEqual(['a', 'b', 'c', 'a']);
  });

  it('weightedRoundRobin - drops the state of a key missing from the list, and on forget', () => {
    const selector = weightedRoundRobin();
    selector.select(weighted({ a: 2, b: 1 }), call); // a: -1, b: 1
    selector.select(weighted({ b: 1 }), call); // a dropped; b: 1
    // a comes back at 0: a 2, b 2, the tie goes to a (a kept at -1 would lose to b).
    expect(selector.select(weighted({ a: 2, b: 1 }), call)?.key).toBe('a');

    const other = weightedRoundRobin();
    const list = weighted({ a: 5, b: 1, c: 1 });
    picks(other, list, 3);
    for (const key of ['a', 'b', 'c']) other.forget?.(key);
    expect(picks(other, list, 7).join(' ')).toBe('a a b a c a a');
  });

  it('weightedRoundRobin - with a fixed list, every W consecutive picks take each instance its weight times, whatever the order it is listed in', () => {
    fc.assert(
      fc.property(
        weightedList,
        fc.array(fc.array(fc.nat(), { minLength: 8, maxLength: 8 })),
        (list, orders) => {
          const selector = weightedRoundRobin();
          const weights = weightsOf(list);
          const total = [...weights.values()].reduce((sum, weight) => sum + weight, 0);
          const sequence: (string | undefined)[] = [];
          for (let index = 0; index < 3 * total; index++) {
            // Each pick sees a re-emitted list: new objects, another order, the same content.
            const order = orders[index % Math.max(orders.length, 1)] ?? [];
            const emitted = frozen(
              shuffled(list, order).map((item) => instance(item.key, { ...item.metadata })),
            );
            const picked = selector.select(emitted, call);
            expect(isMember(emitted, picked)).toBe(true);
            sequence.push(picked?.key);
          }
          expect(windowsExact(sequence, weights)).toBe(true);
        },
      ),
    );
  });

  it('weightedRoundRobin - gives the same sequence for the same instances listed in any order', () => {
    fc.assert(
      fc.property(
        weightedList.chain((list) => fc.tuple(fc.constant(list), permutationOf(list))),
        ([list, permuted]) => {
          expect(picks(weightedRoundRobin(), frozen(permuted), 20)).toEqual(
            picks(weightedRoundRobin(), list, 20),
          );
        },
      ),
    );
  });

  it('weightedRoundRobin - model: picks a member of positive weight through list and weight changes, then settles into exact windows', () => {
    const weight = fc.oneof(
      fc.integer({ min: 0, max: 6 }).map((value) => ({ weight: String(value) })),
      fc.constant({}),
      fc.constant({ weight: 'heavy' }),
    );
    const command = fc.oneof(
      { arbitrary: fc.constant({ kind: 'pick' as const }), weight: 3 },
      listCommand(weight),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 80 }), (commands) => {
        const selector = weightedRoundRobin();
        let list: readonly ServiceInstance[] = frozen([]);
        for (const step of commands) {
          if (step.kind !== 'pick') {
            list = applyListCommand(list, step);
            continue;
          }
          const picked = selector.select(list, call);
          if (list.every((item) => weightOf(item) === 0)) expect(picked).toBeUndefined();
          else {
            expect(isMember(list, picked)).toBe(true);
            expect(picked && weightOf(picked)).toBeGreaterThan(0);
          }
        }
        const weights = new Map([...weightsOf(list)].filter(([, value]) => value > 0));
        const total = [...weights.values()].reduce((sum, value) => sum + value, 0);
        if (total === 0) return;
        // Current weights carried over from earlier lists take a few rounds to settle (in
        // millions of random histories like these, never more than 11 rounds or 44 picks).
        const settle = 16 * total + 64;
        const sequence = picks(selector, list, settle + 3 * total);
        expect(windowsExact(sequence, weights, settle)).toBe(true);
      }),
    );
  });
});
