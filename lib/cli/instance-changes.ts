import { concatMap, type OperatorFunction, scan } from 'rxjs';
import { isActive } from '../discovery/instance-filters.js';
import type { ServiceInstance } from '../discovery/service-instance.js';

/**
 * One change in a service's list of servers.
 *
 * @example
 * ```ts
 * const change: InstanceChange = { type: 'added', address: 'tcp@127.0.0.1:8972', key: 'tcp@127.0.0.1:8972', metadata: {}, state: 'active' };
 * ```
 */
export interface InstanceChange {
  /** `added` (new in the list), `removed` (gone from it), `changed` (its metadata changed). */
  readonly type: 'added' | 'removed' | 'changed';
  /** The server's address. */
  readonly address: string;
  /** Its key in the list. */
  readonly key: string;
  /** Its metadata now (before it left, for `removed`). */
  readonly metadata: Readonly<Record<string, string>>;
  /** `inactive` when its metadata says `state=inactive`, else `active`. */
  readonly state: 'active' | 'inactive';
}

interface Diffing {
  readonly previous: ReadonlyMap<string, ServiceInstance>;
  readonly changes: readonly InstanceChange[];
}

/**
 * Turns a discovery's lists (each the whole current list) into the changes between them: the
 * servers of the first list are `added`, then each list reports what left (`removed`, first),
 * what came (`added`) and whose metadata changed (`changed`), in list order. A list equal to the
 * last one reports nothing.
 *
 * @example
 * ```ts
 * discovery.instances$.pipe(instanceChanges()).subscribe((change) => console.log(change.type, change.address));
 * ```
 */
export function instanceChanges(): OperatorFunction<readonly ServiceInstance[], InstanceChange> {
  return (source) =>
    source.pipe(
      scan(
        ({ previous }: Diffing, list: readonly ServiceInstance[]): Diffing => {
          const current = new Map(list.map((instance) => [instance.key, instance]));
          const changes: InstanceChange[] = [];
          for (const [key, instance] of previous) {
            if (!current.has(key)) changes.push(changeOf('removed', instance));
          }
          for (const [key, instance] of current) {
            const before = previous.get(key);
            if (before === undefined) changes.push(changeOf('added', instance));
            else if (!sameServer(before, instance)) changes.push(changeOf('changed', instance));
          }
          return { previous: current, changes };
        },
        { previous: new Map(), changes: [] },
      ),
      concatMap(({ changes }) => changes),
    );
}

function changeOf(type: InstanceChange['type'], instance: ServiceInstance): InstanceChange {
  return {
    type,
    address: instance.address,
    key: instance.key,
    metadata: instance.metadata,
    state: isActive(instance) ? 'active' : 'inactive',
  };
}

function sameServer(a: ServiceInstance, b: ServiceInstance): boolean {
  if (a.address !== b.address) return false;
  const aKeys = Object.keys(a.metadata);
  const bKeys = Object.keys(b.metadata);
  return (
    aKeys.length === bKeys.length &&
    aKeys.every((key) => Object.hasOwn(b.metadata, key) && a.metadata[key] === b.metadata[key])
  );
}
