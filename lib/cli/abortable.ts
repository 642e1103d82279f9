import { Observable } from 'rxjs';
import { CancelledError } from '../errors/errors.js';

/**
 * Mirrors `source$` until `signal` aborts, then errors with a {@link CancelledError} and
 * unsubscribes from it (which cancels a pending call, on the server too).
 *
 * @example
 * ```ts
 * const reply = await lastValueFrom(abortable(connection.call$('Slow', 'Run', {}), io.signal));
 * ```
 */
export function abortable<T>(source$: Observable<T>, signal: AbortSignal | undefined): Observable<T> {
  if (signal === undefined) return source$;
  return new Observable<T>((subscriber) => {
    const onAbort = (): void => subscriber.error(new CancelledError('interrupted before the answer came'));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    const subscription = source$.subscribe(subscriber);
    return () => {
      signal.removeEventListener('abort', onAbort);
      subscription.unsubscribe();
    };
  });
}

/**
 * An observable that emits once when `signal` aborts (never without a signal): the `notifier`
 * of `takeUntil` for commands that stop on Ctrl-C and then summarise.
 *
 * @example
 * ```ts
 * pings$.pipe(takeUntil(aborted$(io.signal)));
 * ```
 */
export function aborted$(signal: AbortSignal | undefined): Observable<void> {
  return new Observable<void>((subscriber) => {
    if (signal === undefined) return;
    const onAbort = (): void => subscriber.next();
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    return () => signal.removeEventListener('abort', onAbort);
  });
}
