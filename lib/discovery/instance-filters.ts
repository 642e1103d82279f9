import { describeValue } from '../util/validate.js';
import type { ServiceInstance } from './service-instance.js';

/**
 * Whether an instance may take calls: its metadata `state` is not `inactive` (a server marks
 * itself inactive to drain without leaving the registry).
 *
 * @example
 * ```ts
 * instances.filter(isActive);
 * ```
 * @group Discovery
 */
export function isActive(instance: ServiceInstance): boolean {
  return metadataValue(instance, 'state') !== 'inactive';
}

/**
 * Whether an instance belongs to a group: its metadata `group` is a comma-separated list
 * (`group=a,b`; blanks around names ignored) that names `group`. An instance without `group`
 * metadata belongs to no group.
 *
 * @throws TypeError when `group` is not a string; RangeError when it is empty or holds a comma.
 * @example
 * ```ts
 * inGroup({ key: 'k', address: 'tcp@127.0.0.1:8972', metadata: { group: 'blue,green' } }, 'green'); // true
 * ```
 * @group Discovery
 */
export function inGroup(instance: ServiceInstance, group: string): boolean {
  checkGroup('group', group);
  const groups = metadataValue(instance, 'group');
  if (groups === undefined) return false;
  return groups.split(',').some((name) => name.trim() === group);
}

/**
 * Checks a group name given as an option.
 *
 * @throws TypeError when it is not a string; RangeError when it is empty or holds a comma.
 * @internal
 */
export function checkGroup(name: string, group: unknown): string {
  if (typeof group !== 'string') throw new TypeError(`${name} must be a string, got ${describeValue(group)}`);
  if (group.trim() === '' || group.includes(',')) {
    throw new RangeError(
      `${name} must be one non-empty group name without commas, got ${describeValue(group)}; omit it for no group`,
    );
  }
  return group;
}

function metadataValue(instance: ServiceInstance, key: string): string | undefined {
  return Object.hasOwn(instance.metadata, key) ? instance.metadata[key] : undefined;
}
