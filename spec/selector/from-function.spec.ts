import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import { fromFunction, type SelectFunction } from '../../lib/selector/from-function.js';
import type { CallInfo } from '../../lib/selector/selector.js';
import { applyListCommand, call, frozen, instance, listCommand } from './support.js';

describe('fromFunction', () => {
  it('fromFunction - passes the list and the call to the function and its answer back', () => {
    const seen: [readonly ServiceInstance[], CallInfo][] = [];
    const list = frozen([instance('a'), instance('b')]);
    const selector = fromFunction((instances, info) => {
      seen.push([instances, info]);
      return instances[1];
    });
    expect(selector.select(list, call)).toBe(list[1]);
    expect(seen).toEqual([[list, call]]);
  });

  it('fromFunction - passes through an answer that is not in the list (the XClient treats it as no instance)', () => {
    const stranger = instance('stranger');
    expect(fromFunction(() => stranger).select(frozen([instance('a')]), call)).toBe(stranger);
    expect(fromFunction(() => undefined).select(frozen([instance('a')]), call)).toBeUndefined();
  });

  it('fromFunction - returns undefined for an empty list without calling the function', () => {
    let calls = 0;
    const selector = fromFunction(() => {
      calls += 1;
      return instance('a');
    });
    expect(selector.select([], call)).toBeUndefined();
    expect(calls).toBe(0);
  });

  it('fromFunction - lets what the function throws propagate', () => {
    const selector = fromFunction(() => {
      throw new Error('no luck');
    });
    expect(() => selector.select(frozen([instance('a')]), call)).toThrow('no luck');
  });

  it('fromFunction - rejects something that is not a function, naming it', () => {
    expect(() => fromFunction('first' as unknown as SelectFunction)).toThrow(RangeError);
    expect(() => fromFunction(undefined as unknown as SelectFunction)).toThrow(/select must be a function/);
  });

  it('fromFunction - model: answers what the function answers for a non-empty list, through list changes', () => {
    const command = fc.oneof(fc.record({ kind: fc.constant('pick' as const), at: fc.nat() }), listCommand());
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        let at = 0;
        const selector = fromFunction((instances) => instances[at % instances.length]);
        let list: readonly ServiceInstance[] = frozen([]);
        for (const step of commands) {
          if (step.kind !== 'pick') {
            list = applyListCommand(list, step);
            continue;
          }
          at = step.at;
          expect(selector.select(list, call)).toBe(
            list.length === 0 ? undefined : list[step.at % list.length],
          );
        }
      }),
    );
  });
});
