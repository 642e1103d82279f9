import type { ServiceInstance } from '../discovery/service-instance.js';
import type { Selector } from './selector.js';

/**
 * The weight of an instance whose metadata has no valid `weight`.
 *
 * @group Governance
 */
export const DEFAULT_WEIGHT = 1;

/**
 * The largest weight; larger ones count as this.
 *
 * @group Governance
 */
export const MAX_WEIGHT = 0x7fff_ffff;

/**
 * Reads an instance's weight from its metadata: `weight` as a decimal integer >= 0 (surrounding
 * spaces allowed), capped at {@link MAX_WEIGHT}.
 *
 * A missing or malformed weight (negative, fractional, not a number) counts as
 * {@link DEFAULT_WEIGHT}; it never throws.
 *
 * @example
 * ```ts
 * weightOf({ key: 'a', address: 'a', metadata: { weight: '5' } }); // 5
 * weightOf({ key: 'b', address: 'b', metadata: {} }); // 1
 * ```
 * @group Governance
 */
export function weightOf(instance: ServiceInstance): number {
  const text = instance.metadata.weight?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return DEFAULT_WEIGHT;
  return Math.min(Number(text), MAX_WEIGHT);
}

/**
 * Creates a selector doing nginx's smooth weighted round robin over the metadata `weight` of
 * each instance (see {@link weightOf}; Go Phobos's `WeightedRoundRobin`).
 *
 * Each pick adds every instance's weight to its current weight, picks the highest current
 * weight (ties go to the smaller key, so list order does not matter) and takes the total weight
 * off it. With a fixed list of total weight W, every W consecutive picks take each instance
 * exactly its weight times, spread out: weights 5, 1, 1 give `a a b a c a a`.
 *
 * The current weights live per key and survive a new list: a key that joins starts at 0, a key
 * that is missing from the list is dropped, and so is one whose weight is 0. After a change, the picks settle back into exact
 * windows of W within a few rounds. An instance of weight 0 is never picked; a list whose
 * weights are all 0 is treated as empty: `select` returns `undefined` for it (the XClient then
 * fails the call with `NoInstanceError`), and only for it and the empty list.
 *
 * @example
 * ```ts
 * const selector = weightedRoundRobin();
 * selector.select(
 *   [
 *     { key: 'a', address: 'tcp@10.0.0.1:8972', metadata: { weight: '5' } },
 *     { key: 'b', address: 'tcp@10.0.0.2:8972', metadata: { weight: '1' } },
 *   ],
 *   call,
 * );
 * ```
 * @group Governance
 */
export function weightedRoundRobin(): Selector {
  const current = new Map<string, number>();
  return {
    select(instances) {
      const present = new Set<string>();
      let total = 0;
      let best: ServiceInstance | undefined;
      let bestCurrent = 0;
      for (const instance of instances) {
        if (present.has(instance.key)) continue;
        present.add(instance.key);
        const weight = weightOf(instance);
        if (weight === 0) {
          current.delete(instance.key);
          continue;
        }
        const value = (current.get(instance.key) ?? 0) + weight;
        current.set(instance.key, value);
        total += weight;
        if (best === undefined || value > bestCurrent || (value === bestCurrent && instance.key < best.key)) {
          best = instance;
          bestCurrent = value;
        }
      }
      for (const key of current.keys()) if (!present.has(key)) current.delete(key);
      if (best === undefined) return undefined;
      current.set(best.key, bestCurrent - total);
      return best;
    },
    forget(key) {
      current.delete(key);
    },
  };
}
