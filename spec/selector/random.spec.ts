import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import { random } from '../../lib/selector/random.js';
import { applyListCommand, call, frozen, instance, isMember, keysOf, listCommand } from './support.js';

const abcd = frozen(['a', 'b', 'c', 'd'].map((key) => instance(key)));

describe('random', () => {
  it('random - returns undefined for an empty list, without drawing a number', () => {
    let draws = 0;
    const selector = random({ random: () => ++draws && 0.5 });
    expect(selector.select([], call)).toBeUndefined();
    expect(draws).toBe(0);
  });

  it('random - picks the instance at floor(random() * n) in list order', () => {
    const values = [0, 0.25, 0.5, 0.75, 0.999_999];
    const queue = [...values];
    const selector = random({ random: () => queue.shift() ?? 0 });
    const picks = values.map(() => selector.select(abcd, call));
    expect(keysOf(picks)).toEqual(['a', 'b', 'c', 'd', 'd']);
  });

  it('random - clamps a random source that strays outside [0, 1)', () => {
    for (const [value, key] of [
      [1, 'd'],
      [7, 'd'],
      [-0.5, 'a'],
      [Number.NaN, 'a'],
      [Number.POSITIVE_INFINITY, 'd'],
    ] as const) {
      expect(random({ random: () => value }).select(abcd, call)?.key).toBe(key);
    }
  });

  it('random - uses Math.random by default and always picks a member', () => {
    const selector = random();
    for (let i = 0; i < 100; i++) expect(isMember(abcd, selector.select(abcd, call))).toBe(true);
  });

  it('random - rejects a random source that is not a function, naming it', () => {
    expect(() => random({ random: 0.5 as unknown as () => number })).toThrow(RangeError);
    expect(() => random({ random: 'x' as unknown as () => number })).toThrow(/random must be a function/);
    expect(() => random(42 as unknown as undefined)).toThrow(TypeError);
  });

  it('random - model: picks a member, the one the random number points at, through list changes', () => {
    const command = fc.oneof(
      fc.record({
        kind: fc.constant('pick' as const),
        value: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      }),
      listCommand(),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        let next = 0;
        const selector = random({ random: () => next });
        let list: readonly ServiceInstance[] = frozen([]);
        for (const step of commands) {
          if (step.kind !== 'pick') {
            list = applyListCommand(list, step);
            continue;
          }
          next = step.value;
          const picked = selector.select(list, call);
          if (list.length === 0) expect(picked).toBeUndefined();
          else {
            expect(isMember(list, picked)).toBe(true);
            expect(picked).toBe(list[Math.floor(step.value * list.length)]);
          }
        }
      }),
    );
  });
});
