import type { ServiceInstance } from './service-instance.js';

/**
 * Whether two instance lists are the same: equally long, and at each position the same key,
 * address and metadata (the same own entries). Order matters.
 *
 * @example
 * ```ts
 * instances$.pipe(distinctUntilChanged(sameInstances));
 * ```
 * @group Discovery
 */
export function sameInstances(a: readonly ServiceInstance[], b: readonly ServiceInstance[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  return a.every((instance, index) => {
    const other = b[index];
    return (
      other !== undefined &&
      (instance === other ||
        (instance.key === other.key &&
          instance.address === other.address &&
          sameMetadata(instance.metadata, other.metadata)))
    );
  });
}

function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}
