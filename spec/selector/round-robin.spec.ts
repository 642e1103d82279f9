import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import { roundRobin } from '../../lib/selector/round-robin.js';
import { applyListCommand, call, frozen, instance, isMember, keysOf, listCommand } from './support.js';

const list = (...keys: string[]) => frozen(keys.map((key) => instance(key)));

describe('roundRobin', () => {
  it('roundRobin - returns undefined for an empty list', () => {
    expect(roundRobin().select([], call)).toBeUndefined();
  });

  it('roundRobin - cycles in key order whatever the order of the list', () => {
    const selector = roundRobin();
    const picks = [list('c', 'a', 'b'), list('b', 'c', 'a'), list('a', 'b', 'c')].flatMap((instances) => [
      selector.select(instances, call),
      selector.select(instances, call),
    ]);
    expect(keysOf(picks)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('roundRobin - goes on after the last key when instances join or leave', () => {
    const selector = roundRobin();
    const picks = [
      selector.select(list('a', 'b', 'c'), call), // a
      selector.select(list('a', 'b', 'c'), call), // b
      selector.select(list('a', 'b', 'ba', 'c'), call), // ba joined right after b
      selector.select(list('a', 'b', 'd'), call), // ba and c left: d
      selector.select(list('a', 'b'), call), // d left too: wraps to a
      selector.select(list('b', 'c'), call), // a left: b
    ];
    expect(keysOf(picks)).toEqual(['a', 'b', 'ba', 'd', 'a', 'b']);
  });

  it('roundRobin - model: every stable stretch visits each instance once per cycle, and a change continues after the last key', () => {
    const command = fc.oneof({ arbitrary: fc.constant({ kind: 'pick' as const }), weight: 3 }, listCommand());
    fc.assert(
      fc.property(fc.array(command, { maxLength: 80 }), (commands) => {
        const selector = roundRobin();
        let list: readonly ServiceInstance[] = frozen([]);
        let stretch: string[] = [];
        let last: string | undefined;
        for (const step of commands) {
          if (step.kind !== 'pick') {
            const before = list
              .map((item) => item.key)
              .sort()
              .join();
            list = applyListCommand(list, step);
            if (
              list
                .map((item) => item.key)
                .sort()
                .join() !== before
            )
              stretch = [];
            continue;
          }
          const picked = selector.select(list, call);
          if (list.length === 0) {
            expect(picked).toBeUndefined();
            continue;
          }
          expect(isMember(list, picked)).toBe(true);
          const sorted = list.map((item) => item.key).sort();
          const expected = sorted.find((key) => last !== undefined && key > last) ?? sorted[0];
          expect(picked?.key).toBe(expected);
          last = picked?.key;
          stretch.push(last ?? '');
          for (let start = 0; start + sorted.length <= stretch.length; start++) {
            expect(stretch.slice(start, start + sorted.length).sort()).toEqual(sorted);
          }
        }
      }),
    );
  });
});
