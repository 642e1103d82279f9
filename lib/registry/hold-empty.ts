import {
  asyncScheduler,
  Observable,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { sameInstances } from '../discovery/same-instances.js';
import type { ServiceInstance } from '../discovery/service-instance.js';

/** @internal One list of a watched service, and whether it is the first after etcd lost its data. */
export interface ListUpdate {
  readonly list: readonly ServiceInstance[];
  readonly afterDataLoss: boolean;
}

/**
 * Emits the lists of the updates, skipping a list identical to the previous one, except that
 * within `graceMs` of an update marked `afterDataLoss` an empty list does not replace a non-empty
 * one: it is emitted only if it is still the latest when the grace ends. A non-empty list ends
 * the hold at once.
 *
 * @internal
 */
export function holdEmptyAfterDataLoss(
  graceMs: number,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<ListUpdate, readonly ServiceInstance[]> {
  return (source) =>
    new Observable<readonly ServiceInstance[]>((subscriber) => {
      let last: readonly ServiceInstance[] | undefined;
      let latest: readonly ServiceInstance[] = [];
      let holdUntil = Number.NEGATIVE_INFINITY;
      let held: Subscription | undefined;
      const emit = (list: readonly ServiceInstance[]): void => {
        held?.unsubscribe();
        held = undefined;
        if (last !== undefined && sameInstances(list, last)) return;
        last = list;
        subscriber.next(list);
      };
      const subscription = source.subscribe({
        next: ({ list, afterDataLoss }) => {
          const now = scheduler.now();
          if (afterDataLoss) holdUntil = now + graceMs;
          latest = list;
          if (list.length === 0 && last !== undefined && last.length > 0 && now < holdUntil) {
            held ??= scheduler.schedule(() => {
              held = undefined;
              emit(latest);
            }, holdUntil - now);
            return;
          }
          emit(list);
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
      return () => {
        subscription.unsubscribe();
        held?.unsubscribe();
      };
    });
}
