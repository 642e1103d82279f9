import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import { closest } from '../../lib/selector/closest.js';
import { applyListCommand, call, frozen, instance, isMember, KEYS, keysOf, listCommand } from './support.js';

const list = (...keys: string[]) => frozen(keys.map((key) => instance(key)));
const picks = (selector: ReturnType<typeof closest>, instances: readonly ServiceInstance[], count: number) =>
  keysOf(Array.from({ length: count }, () => selector.select(instances, call)));

describe('closest', () => {
  it('closest - returns undefined for an empty list', () => {
    expect(closest().select([], call)).toBeUndefined();
  });

  it('closest - picks each untried instance once, in key order, then goes round robin while none is measured', () => {
    expect(picks(closest(), list('c', 'a', 'b'), 5)).toEqual(['a', 'b', 'c', 'a', 'b']);
  });

  it('closest - picks the lowest moving average of latency, a tie going to the smaller key', () => {
    const selector = closest({ alpha: 0.5 });
    const abc = list('a', 'b', 'c');
    selector.observeLatency?.('c', 5);
    selector.observeLatency?.('b', 5);
    selector.observeLatency?.('a', 10);
    expect(picks(selector, abc, 2)).toEqual(['b', 'b']);
    selector.observeLatency?.('b', 25); // b: 15
    selector.observeLatency?.('a', 20); // a: 15
    selector.observeLatency?.('c', 40); // c: 22.5
    expect(picks(selector, abc, 1)).toEqual(['a']);
  });

  it('closest - averages with alpha 0.3 by default', () => {
    const selector = closest();
    selector.observeLatency?.('a', 10);
    selector.observeLatency?.('a', 20); // 0.3 * 20 + 0.7 * 10 = 13
    selector.observeLatency?.('b', 12.9);
    expect(selector.select(list('a', 'b'), call)?.key).toBe('b');
    selector.observeLatency?.('b', 13.4); // 0.3 * 13.4 + 0.7 * 12.9 = 13.05
    expect(selector.select(list('a', 'b'), call)?.key).toBe('a');
  });

  it('closest - picks a joining instance at once, and probes the least recently measured every probeEvery picks', () => {
    const selector = closest({ probeEvery: 3 });
    selector.observeLatency?.('c', 30);
    selector.observeLatency?.('b', 20);
    selector.observeLatency?.('a', 10);
    expect(picks(selector, list('a', 'b', 'c'), 6)).toEqual(['a', 'a', 'c', 'a', 'a', 'c']);
    expect(picks(selector, list('a', 'b', 'c', 'd'), 3)).toEqual(['d', 'a', 'd']);
    selector.observeLatency?.('d', 40);
    expect(picks(selector, list('a', 'b', 'c', 'd'), 3)).toEqual(['a', 'a', 'c']);
  });

  it('closest - never probes with probeEvery 0', () => {
    const selector = closest({ probeEvery: 0 });
    selector.observeLatency?.('b', 2);
    selector.observeLatency?.('a', 1);
    expect(new Set(picks(selector, list('a', 'b'), 300))).toEqual(new Set(['a']));
  });

  it('closest - forget makes an instance untried again', () => {
    const selector = closest();
    selector.observeLatency?.('a', 1);
    selector.observeLatency?.('b', 2);
    expect(picks(selector, list('a', 'b'), 2)).toEqual(['a', 'a']);
    selector.forget?.('b');
    expect(picks(selector, list('a', 'b'), 2)).toEqual(['b', 'a']);
  });

  it('closest - ignores a latency that is negative or not finite', () => {
    const selector = closest();
    selector.observeLatency?.('a', 5);
    selector.observeLatency?.('b', 6);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) selector.observeLatency?.('a', bad);
    selector.observeLatency?.('c', Number.NaN);
    expect(picks(selector, list('a', 'b', 'c'), 3)).toEqual(['c', 'a', 'a']);
  });

  it('closest - rejects alpha outside (0, 1] and probeEvery that is not an integer >= 0, naming them', () => {
    for (const alpha of [0, -0.1, 1.5, Number.NaN, '0.3'] as unknown[]) {
      expect(() => closest({ alpha: alpha as number })).toThrow(/alpha must be a number in \(0, 1\]/);
    }
    for (const probeEvery of [-1, 1.5, Number.NaN, '10'] as unknown[]) {
      expect(() => closest({ probeEvery: probeEvery as number })).toThrow(RangeError);
      expect(() => closest({ probeEvery: probeEvery as number })).toThrow(/probeEvery/);
    }
    expect(() => closest({ alpha: 1, probeEvery: 0 })).not.toThrow();
  });

  it('closest - model: untried first, fastest otherwise, least recently measured on a probe', () => {
    const command = fc.oneof(
      { arbitrary: fc.constant({ kind: 'pick' as const }), weight: 4 },
      {
        arbitrary: fc.record({
          kind: fc.constant('observe' as const),
          key: fc.constantFrom(...KEYS),
          ms: fc.integer({ min: 0, max: 50 }),
        }),
        weight: 2,
      },
      fc.record({ kind: fc.constant('forget' as const), key: fc.constantFrom(...KEYS) }),
      listCommand(),
    );
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 7 }),
        fc.array(command, { maxLength: 100 }),
        (alpha, probeEvery, commands) => {
          const selector = closest({ alpha, probeEvery });
          const average = new Map<string, number>();
          const measuredAt = new Map<string, number>();
          const tried = new Set<string>();
          let samples = 0;
          let pickCount = 0;
          let instances: readonly ServiceInstance[] = frozen([]);
          for (const step of commands) {
            switch (step.kind) {
              case 'observe': {
                const previous = average.get(step.key);
                average.set(
                  step.key,
                  previous === undefined ? step.ms : alpha * step.ms + (1 - alpha) * previous,
                );
                measuredAt.set(step.key, ++samples);
                selector.observeLatency?.(step.key, step.ms);
                break;
              }
              case 'forget':
                average.delete(step.key);
                measuredAt.delete(step.key);
                tried.delete(step.key);
                selector.forget?.(step.key);
                break;
              case 'pick': {
                const picked = selector.select(instances, call);
                if (instances.length === 0) {
                  expect(picked).toBeUndefined();
                  break;
                }
                pickCount += 1;
                expect(isMember(instances, picked)).toBe(true);
                const key = picked?.key ?? '';
                const keys = instances.map((item) => item.key);
                const untried = keys.filter((k) => !average.has(k) && !tried.has(k)).sort();
                const measured = keys.filter((k) => average.has(k));
                if (untried.length > 0) {
                  // Every untried instance is picked before any instance is picked again.
                  expect(key).toBe(untried[0]);
                } else if (measured.length > 0 && probeEvery > 0 && pickCount % probeEvery === 0) {
                  const stalest = Math.min(...keys.map((k) => measuredAt.get(k) ?? 0));
                  expect(measuredAt.get(key) ?? 0).toBe(stalest);
                } else if (measured.length > 0) {
                  // Never an instance whose average is strictly higher than another's.
                  const mine = average.get(key);
                  expect(mine).toBeDefined();
                  for (const other of measured) expect(mine).toBeLessThanOrEqual(average.get(other) ?? 0);
                }
                tried.add(key);
                break;
              }
              default:
                instances = applyListCommand(instances, step);
            }
          }
        },
      ),
    );
  });
});
