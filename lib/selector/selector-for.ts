import { describeValue } from '../util/validate.js';
import { type ClosestOptions, closest } from './closest.js';
import { type ConsistentHashOptions, consistentHash } from './consistent-hash.js';
import { type GeoOptions, geo } from './geo.js';
import { type RandomOptions, random } from './random.js';
import { roundRobin } from './round-robin.js';
import type { Selector } from './selector.js';
import { weightedRoundRobin } from './weighted-round-robin.js';

/**
 * The built-in selection strategies, by name (the XClient's `selectMode`).
 *
 * @group Governance
 */
export const SELECT_MODES = [
  'random',
  'roundRobin',
  'weightedRoundRobin',
  'consistentHash',
  'closest',
  'geo',
] as const;

/**
 * The name of a built-in selection strategy.
 *
 * @group Governance
 */
export type SelectMode = (typeof SELECT_MODES)[number];

/**
 * The options each {@link SelectMode} takes.
 *
 * @group Governance
 */
export interface SelectModeOptions {
  /** {@link random}'s options. */
  readonly random: RandomOptions;
  /** {@link roundRobin} takes none. */
  readonly roundRobin: Readonly<Record<string, never>>;
  /** {@link weightedRoundRobin} takes none. */
  readonly weightedRoundRobin: Readonly<Record<string, never>>;
  /** {@link consistentHash}'s options. */
  readonly consistentHash: ConsistentHashOptions;
  /** {@link closest}'s options. */
  readonly closest: ClosestOptions;
  /** {@link geo}'s options (required). */
  readonly geo: GeoOptions;
}

/**
 * Creates the built-in selector named by `mode`, with its options: what the XClient does with
 * its `selectMode` option.
 *
 * @throws RangeError naming `selectMode` and the allowed modes when `mode` is not one of
 *   {@link SELECT_MODES}; whatever the selector's factory throws for its options (a `geo`
 *   without `latitude`, for one).
 * @example
 * ```ts
 * const selector = selectorFor('geo', { latitude: 52.52, longitude: 13.405 });
 * const other = selectorFor('roundRobin');
 * ```
 * @group Governance
 */
export function selectorFor<M extends SelectMode>(mode: M, options?: SelectModeOptions[M]): Selector {
  const given: unknown = options;
  switch (mode as SelectMode) {
    case 'random':
      return random(given as RandomOptions | undefined);
    case 'roundRobin':
      return roundRobin();
    case 'weightedRoundRobin':
      return weightedRoundRobin();
    case 'consistentHash':
      return consistentHash(given as ConsistentHashOptions | undefined);
    case 'closest':
      return closest(given as ClosestOptions | undefined);
    case 'geo':
      return geo(given as GeoOptions);
    default:
      throw new RangeError(
        `selectMode must be one of ${SELECT_MODES.map((name) => `'${name}'`).join(', ')}, got ${describeValue(mode)}`,
      );
  }
}
