import { distinctUntilChanged, map, type OperatorFunction } from 'rxjs';
import { optionsObject } from '../util/validate.js';
import { checkGroup, inGroup, isActive } from './instance-filters.js';
import { sameInstances } from './same-instances.js';
import type { ServiceInstance } from './service-instance.js';

/**
 * Options of {@link usableInstances}.
 *
 * @example
 * ```ts
 * const options: UsableInstancesOptions = { group: 'blue' };
 * ```
 * @group Discovery
 */
export interface UsableInstancesOptions {
  /** Keep only the instances whose metadata `group` lists this name. Default: any group. */
  readonly group?: string;
}

/**
 * Turns a discovery's lists into the lists a selector may pick from: drops inactive instances
 * (and, given `group`, those outside it), and suppresses a list identical to the previous one
 * (same keys, addresses and metadata, in the same order). Emitted lists are frozen.
 *
 * @throws TypeError when `options` is not an object or `group` not a string; RangeError when
 *   `group` is empty or holds a comma. Both at creation.
 * @example
 * ```ts
 * discovery.instances$.pipe(usableInstances({ group: 'blue' })).subscribe((list) => ...);
 * ```
 * @group Discovery
 */
export function usableInstances(
  options?: UsableInstancesOptions,
): OperatorFunction<readonly ServiceInstance[], readonly ServiceInstance[]> {
  const { group } = optionsObject('usableInstances options', options);
  if (group !== undefined) checkGroup('usableInstances group', group);
  const usable = (instance: ServiceInstance): boolean =>
    isActive(instance) && (group === undefined || inGroup(instance, group));
  return (source) =>
    source.pipe(
      map((list) => {
        const kept = list.filter(usable);
        return kept.length === list.length && Object.isFrozen(list) ? list : Object.freeze(kept);
      }),
      distinctUntilChanged(sameInstances),
    );
}
