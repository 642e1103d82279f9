import type { ServiceInstance } from '../discovery/service-instance.js';
import type { Selector } from './selector.js';

/**
 * Creates a selector that takes instances in turn, in the order of their `key`
 * (Go Phobos's `RoundRobin`).
 *
 * It remembers the key it picked last and goes on with the next key after it, so the same
 * instances listed in another order, a re-emitted list, or instances joining and leaving do
 * not restart or reshuffle the cycle: on a stable list, every n consecutive picks visit each
 * of the n instances once. `select` returns `undefined` only for an empty list.
 *
 * @example
 * ```ts
 * const selector = roundRobin();
 * selector.select(instances, call); // the instance with the smallest key, then the next...
 * ```
 * @group Governance
 */
export function roundRobin(): Selector {
  let lastKey: string | undefined;
  return {
    select(instances) {
      const picked = nextByKey(instances, lastKey);
      if (picked !== undefined) lastKey = picked.key;
      return picked;
    },
  };
}

/**
 * The instance whose key comes next after `lastKey` in key order, wrapping round to the
 * smallest key; the smallest one when `lastKey` is undefined; `undefined` for an empty list.
 * Among instances sharing a key, the first listed. Keys compare by UTF-16 code units, as
 * `Array.prototype.sort` does, so the order does not depend on the locale.
 *
 * @example
 * ```ts
 * nextByKey(instances, 'tcp@10.0.0.1:8972'); // the instance with the next key
 * ```
 * @internal
 */
export function nextByKey(
  instances: readonly ServiceInstance[],
  lastKey: string | undefined,
): ServiceInstance | undefined {
  let smallest: ServiceInstance | undefined;
  let next: ServiceInstance | undefined;
  for (const instance of instances) {
    if (smallest === undefined || instance.key < smallest.key) smallest = instance;
    if (lastKey !== undefined && instance.key > lastKey && (next === undefined || instance.key < next.key)) {
      next = instance;
    }
  }
  return next ?? smallest;
}
