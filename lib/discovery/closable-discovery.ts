import { distinctUntilChanged, map, type Observable, ReplaySubject, takeUntil } from 'rxjs';
import type { Discovery, DiscoveryState } from './discovery.js';
import { inGroup } from './instance-filters.js';
import { sameInstances } from './same-instances.js';
import type { ServiceInstance } from './service-instance.js';

/**
 * A discovery handle over a list source shared with other handles: `close()` completes this
 * handle's `instances$` only; given `group` (already checked), it reports only that group's
 * instances and skips a filtered list identical to the previous one. `describe` tells where it
 * looks (see {@link Discovery.describe}); the group is added to its source.
 *
 * @internal
 */
export function closableDiscovery(
  source$: Observable<readonly ServiceInstance[]>,
  group: string | undefined,
  describe: () => DiscoveryState,
): Discovery & { close(): void; describe(): DiscoveryState } {
  const stop$ = new ReplaySubject<void>(1);
  let instances$ = source$.pipe(takeUntil(stop$));
  if (group !== undefined) {
    instances$ = instances$.pipe(
      map((list) => Object.freeze(list.filter((instance) => inGroup(instance, group)))),
      distinctUntilChanged(sameInstances),
    );
  }
  return Object.freeze({
    instances$,
    close(): void {
      stop$.next();
      stop$.complete();
    },
    describe(): DiscoveryState {
      const state = describe();
      return group === undefined ? state : { ...state, source: `${state.source}, group "${group}"` };
    },
  });
}
