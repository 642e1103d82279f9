import { type MonoTypeOperatorFunction, Observable, type SchedulerLike, Subscription, timer } from 'rxjs';
import { durationOption, functionOption, optionsObject, schedulerOption } from '../util/validate.js';
import { isRetryable, type RetryPredicate } from './retryable.js';

/**
 * Options of {@link failbackup}.
 *
 * @group Governance
 */
export interface FailbackupOptions {
  /** Send the backup when the first attempt has no value after this long (ms). Required. */
  readonly delayMs: number;
  /**
   * Which errors of an attempt leave the call to the other attempt. Default
   * {@link isRetryable}; any other error fails the call at once.
   */
  readonly shouldRetry?: RetryPredicate;
  /** Where the delay is scheduled. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Hedges a slow call: subscribes the source, and if it has no value within `delayMs`,
 * subscribes it again (a backup attempt, normally to another server, since each subscription
 * picks one). The first attempt to emit wins: its values and completion are the result, and the
 * other attempt is unsubscribed (cancelled). Go Phobos's `Failbackup` fail mode.
 *
 * Failure cases: when the first attempt fails with a retryable error before the delay, the
 * backup starts at once (no backup afterwards); the result errors only when both attempts have
 * errored, with the last error. An error that `shouldRetry` rejects (a `ServiceError`: the
 * service itself failed; a `CancelledError`: the caller gave up) fails the call at once: no
 * backup is sent, and one already in flight is cancelled. An attempt that completes without a value
 * wins like one that emits: the result completes. Unsubscribing cancels both attempts.
 *
 * @throws TypeError when `options` is not an object; RangeError naming the option when
 *   `delayMs` is missing or not an integer >= 0, `shouldRetry` is not a function or
 *   `scheduler` not a SchedulerLike.
 * @example
 * ```ts
 * const reply$ = defer(() => call(selector.select(instances, info))).pipe(
 *   callTimeout({ timeoutMs: 200 }),        // each attempt
 *   failbackup({ delayMs: 20 }),            // a second server after 20 ms without a reply
 * );
 * ```
 * @group Governance
 */
export function failbackup<T>(options: FailbackupOptions): MonoTypeOperatorFunction<T> {
  const o = optionsObject('failbackup options', options);
  if (o.delayMs === undefined) throw new RangeError('delayMs is required by failbackup');
  const delayMs = durationOption('delayMs', o.delayMs, 0, 0);
  const shouldRetry = functionOption('shouldRetry', o.shouldRetry) ?? isRetryable;
  const scheduler = schedulerOption('scheduler', o.scheduler);

  return (source) =>
    new Observable<T>((subscriber) => {
      const attempts: Subscription[] = [];
      let winner: Subscription | undefined;
      let failed = 0;
      let backupTimer: Subscription | undefined;

      const start = (): void => {
        const attempt = new Subscription();
        attempts.push(attempt);
        subscriber.add(attempt);
        const win = (): boolean => {
          if (winner === undefined) {
            winner = attempt;
            backupTimer?.unsubscribe();
            for (const other of attempts) if (other !== attempt) other.unsubscribe();
          }
          return winner === attempt;
        };
        attempt.add(
          source.subscribe({
            next: (value) => {
              if (win()) subscriber.next(value);
            },
            complete: () => {
              if (win()) subscriber.complete();
            },
            error: (error: unknown) => {
              if (winner === attempt || !shouldRetry(error)) {
                subscriber.error(error);
                return;
              }
              failed += 1;
              if (attempts.length < 2) startBackup();
              else if (failed === attempts.length) subscriber.error(error);
            },
          }),
        );
      };
      const startBackup = (): void => {
        backupTimer?.unsubscribe();
        start();
      };

      start();
      if (attempts.length < 2 && winner === undefined && !subscriber.closed) {
        backupTimer = timer(delayMs, scheduler).subscribe(startBackup);
        subscriber.add(backupTimer);
      }
    });
}
