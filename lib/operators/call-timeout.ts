import {
  identity,
  type MonoTypeOperatorFunction,
  Observable,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';
import { DeadlineExceededError } from '../errors/errors.js';
import { durationOption, optionsObject, schedulerOption } from '../util/validate.js';

/** Options of {@link callTimeout}. */
export interface CallTimeoutOptions {
  /**
   * The deadline in ms, counted from subscription. Required; `0` means no deadline (as
   * `ConnectOptions.timeoutMs`), so the operator is then the identity.
   */
  readonly timeoutMs: number;
  /** Where time is read and the deadline scheduled. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * Fails a call that has not produced a value within `timeoutMs` of subscription.
 *
 * At the deadline the source is unsubscribed (which cancels the call in flight) and the result
 * errors with a {@link DeadlineExceededError} whose `details.timeoutMs` is the deadline. A value
 * before the deadline passes, and the deadline no longer applies. Errors and completion of the
 * source pass unchanged.
 *
 * Where it goes decides what it bounds: inside `failover`/`failtry` it bounds each attempt (and
 * its error is retried); outside them it bounds all attempts and the backoff between them
 * together.
 *
 * @throws TypeError when `options` is not an object; RangeError when `timeoutMs` is missing or
 *   not an integer >= 0, or `scheduler` is not a SchedulerLike.
 * @example
 * ```ts
 * const reply$ = defer(() => pickAndCall()).pipe(
 *   callTimeout({ timeoutMs: 200 }),               // each attempt
 *   failover({ retries: 2 }),
 *   callTimeout({ timeoutMs: 1_000 }),             // the whole call
 * );
 * ```
 */
export function callTimeout<T>(options: CallTimeoutOptions): MonoTypeOperatorFunction<T> {
  const o = optionsObject('callTimeout options', options);
  if (o.timeoutMs === undefined) throw new RangeError('timeoutMs is required by callTimeout');
  const timeoutMs = durationOption('timeoutMs', o.timeoutMs, 0, 0);
  const scheduler = schedulerOption('scheduler', o.scheduler);
  if (timeoutMs === 0) return identity;
  const expired = (): DeadlineExceededError =>
    new DeadlineExceededError(
      `the call did not finish within its deadline of ${timeoutMs} ms; raise timeoutMs or look at the server's latency`,
      { details: { timeoutMs } },
    );
  // One scheduled action and one inner subscription per call: this sits on every XClient call.
  return (source) =>
    new Observable<T>((subscriber) => {
      let timer: Subscription | undefined = scheduler.schedule(() => {
        timer = undefined;
        call.unsubscribe();
        subscriber.error(expired());
      }, timeoutMs);
      const stop = (): void => {
        timer?.unsubscribe();
        timer = undefined;
      };
      const call: Subscription = source.subscribe({
        next: (value) => {
          stop();
          subscriber.next(value);
        },
        error: (error: unknown) => {
          stop();
          subscriber.error(error);
        },
        complete: () => {
          stop();
          subscriber.complete();
        },
      });
      return () => {
        stop();
        call.unsubscribe();
      };
    });
}
