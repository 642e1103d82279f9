import {
  identity,
  type MonoTypeOperatorFunction,
  Observable,
  type SchedulerLike,
  type Subscription,
  type Unsubscribable,
} from 'rxjs';
import { DeadlineExceededError } from '../errors/errors.js';
import { durationOption, functionOption, optionsObject, schedulerOption } from '../util/validate.js';
import { DeadlineQueue } from './deadline-queue.js';

/**
 * Options of {@link callTimeout}.
 *
 * @group Governance
 */
export interface CallTimeoutOptions {
  /**
   * The deadline in ms, counted from subscription. Required; `0` or `Infinity` means no deadline
   * (as `ConnectOptions.timeoutMs`), so the operator is then the identity.
   */
  readonly timeoutMs: number;
  /** Where time is read and the deadline scheduled. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * Makes the error the call fails with at the deadline, given `timeoutMs`; called then, once.
   * Use it to say why nothing came in time when you know better (an XClient says that discovery
   * has found no server yet). Default a {@link DeadlineExceededError} saying to raise
   * `timeoutMs` or look at the server's latency.
   */
  readonly expiredError?: (timeoutMs: number) => unknown;
}

/**
 * Fails a call that has not produced a value within `timeoutMs` of subscription.
 *
 * At the deadline the source is unsubscribed (which cancels the call in flight) and the result
 * errors with a {@link DeadlineExceededError} whose `details.timeoutMs` is the deadline. A value
 * before the deadline passes, and the deadline no longer applies. Errors and completion of the
 * source pass unchanged.
 *
 * The deadlines of every call through one `callTimeout(...)` share one scheduled action at a
 * time: build the operator once and use it for many calls rather than once per call.
 *
 * Where it goes decides what it bounds: inside `failover`/`failtry` it bounds each attempt (and
 * its error is retried); outside them it bounds all attempts and the backoff between them
 * together.
 *
 * @throws TypeError when `options` is not an object; RangeError when `timeoutMs` is missing or
 *   not an integer >= 0 (or `Infinity`), `scheduler` is not a SchedulerLike, or `expiredError`
 *   not a function.
 * @example
 * ```ts
 * const reply$ = defer(() => pickAndCall()).pipe(
 *   callTimeout({ timeoutMs: 200 }),               // each attempt
 *   failover({ retries: 2 }),
 *   callTimeout({ timeoutMs: 1_000 }),             // the whole call
 * );
 * ```
 * @group Governance
 */
export function callTimeout<T>(options: CallTimeoutOptions): MonoTypeOperatorFunction<T> {
  const o = optionsObject('callTimeout options', options);
  if (o.timeoutMs === undefined) throw new RangeError('timeoutMs is required by callTimeout');
  const timeoutMs =
    o.timeoutMs === Number.POSITIVE_INFINITY ? 0 : durationOption('timeoutMs', o.timeoutMs, 0, 0);
  const scheduler = schedulerOption('scheduler', o.scheduler);
  const expiredError = functionOption('expiredError', o.expiredError);
  if (timeoutMs === 0) return identity;
  const expired = (): unknown =>
    expiredError === undefined
      ? new DeadlineExceededError(
          `the call did not finish within its deadline of ${timeoutMs} ms; raise timeoutMs or look at the server's latency`,
          { details: { timeoutMs } },
        )
      : expiredError(timeoutMs);
  // Every subscription waits the same time, so the deadlines of all the calls this operator
  // bounds share one timer (see DeadlineQueue): this sits on every XClient call.
  return deadlineOn(new DeadlineQueue(timeoutMs, scheduler), expired);
}

/**
 * What `callTimeout` does with its queue: each subscription gets a deadline from `deadlines`, and
 * errors with `expired()` when it passes before the first value. An owner that reuses the
 * operator for many calls may keep the queue armed between them (XClient does, see DeadlineQueue).
 *
 * @internal
 */
export function deadlineOn<T>(deadlines: DeadlineQueue, expired: () => unknown): MonoTypeOperatorFunction<T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      let timer: Unsubscribable | undefined = deadlines.add(() => {
        timer = undefined;
        call.unsubscribe();
        subscriber.error(expired());
      });
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
