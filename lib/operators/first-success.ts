import { isObservable, Observable, type Subscription, take } from 'rxjs';
import { describeValue } from '../util/validate.js';

/**
 * Subscribes to every source at once and mirrors the first value any of them emits, then
 * completes and unsubscribes the others (the calls still running are cancelled). A source that
 * fails is dropped; the result fails only when all failed, with the error of the last to fail.
 * What XClient's `fork` does over every server; hedged requests to several replicas, or the
 * fastest of several caches, are the same shape.
 *
 * Failure cases: when every source ended without a value, errors with the error of the last to
 * fail if any failed, and completes without a value otherwise (an empty `sources` included).
 * Throws a TypeError at once when `sources` is not an array of Observables.
 *
 * @example
 * ```ts
 * const fastest$ = firstSuccess(servers.map((server) => server.call$('Lookup', 'Get', { id: 7 })));
 * ```
 * @group Governance
 */
export function firstSuccess<T>(sources: readonly Observable<T>[]): Observable<T> {
  if (!Array.isArray(sources as unknown))
    throw new TypeError(`firstSuccess takes an array of Observables, got ${describeValue(sources)}`);
  const index = sources.findIndex((source) => !isObservable(source));
  if (index >= 0) {
    throw new TypeError(
      `firstSuccess takes an array of Observables; sources[${index}] is ${describeValue(sources[index])}`,
    );
  }
  return new Observable<T>((subscriber) => {
    let ended = 0;
    let lastError: unknown;
    let failed = false;
    const subscriptions: Subscription[] = [];
    const end = (): void => {
      ended += 1;
      if (ended < sources.length) return;
      if (failed) subscriber.error(lastError);
      else subscriber.complete();
    };
    if (sources.length === 0) subscriber.complete();
    for (const source of sources) {
      if (subscriber.closed) break;
      subscriptions.push(
        source.pipe(take(1)).subscribe({
          next: (value) => {
            subscriber.next(value);
            subscriber.complete();
          },
          error: (error: unknown) => {
            failed = true;
            lastError = error;
            end();
          },
          complete: () => {
            if (!subscriber.closed) end();
          },
        }),
      );
    }
    return () => {
      for (const subscription of subscriptions) subscription.unsubscribe();
    };
  });
}
