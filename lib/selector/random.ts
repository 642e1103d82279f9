import { functionOption, optionsObject } from '../util/validate.js';
import type { Selector } from './selector.js';

/**
 * Options of {@link random}.
 *
 * @group Governance
 */
export interface RandomOptions {
  /**
   * Where randomness comes from: a function returning a number in [0, 1).
   * Default: `Math.random`.
   */
  readonly random?: () => number;
}

/**
 * Creates a selector that picks an instance uniformly at random (Go Phobos's `RandomSelect`).
 *
 * A random source that strays outside [0, 1) (or returns `NaN`) is clamped to the first or
 * last instance rather than picking nothing. `select` returns `undefined` only for an empty list.
 *
 * @throws RangeError naming `random` when it is not a function; TypeError when the options are
 *   not an object.
 * @example
 * ```ts
 * const selector = random();
 * const instance = selector.select(instances, { service: 'Arith', method: 'Mul', args: {} });
 * ```
 * @group Governance
 */
export function random(options?: RandomOptions): Selector {
  const resolved = optionsObject('random options', options);
  const next = functionOption('random', resolved.random) ?? Math.random;
  return {
    select(instances) {
      const count = instances.length;
      if (count === 0) return undefined;
      const index = Math.floor(next() * count);
      if (!(index > 0)) return instances[0];
      return instances[Math.min(index, count - 1)];
    },
  };
}
