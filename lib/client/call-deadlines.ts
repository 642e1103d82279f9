import { asyncScheduler, type MonoTypeOperatorFunction, type SchedulerLike } from 'rxjs';
import { deadlineOn } from '../operators/call-timeout.js';
import { DeadlineQueue } from '../operators/deadline-queue.js';

/** How many deadline lengths other than the default a client keeps an operator for. */
const KEPT_DEADLINE_LENGTHS = 16;

/**
 * The deadline operators of one client's calls, as `callTimeout` makes them: one per deadline
 * length, each sharing one timer among the calls of that length (see {@link DeadlineQueue}). The
 * default length and the first 16 others are kept; on Node's timers their timers stay armed
 * between calls (a call at a time then arms none) until `close()`. Other lengths get an operator
 * of their own per call.
 *
 * @internal
 */
export class CallDeadlines {
  private readonly scheduler: SchedulerLike;
  private readonly expired: (timeoutMs: number) => unknown;
  private readonly defaultTimeoutMs: number;
  private readonly byDefault: MonoTypeOperatorFunction<unknown> | undefined;
  private readonly kept = new Map<number, MonoTypeOperatorFunction<unknown>>();
  private readonly queues: DeadlineQueue[] = [];

  /**
   * @param expired - the error of a call at its deadline, by deadline length.
   */
  constructor(scheduler: SchedulerLike, defaultTimeoutMs: number, expired: (timeoutMs: number) => unknown) {
    this.scheduler = scheduler;
    this.expired = expired;
    this.defaultTimeoutMs = defaultTimeoutMs;
    this.byDefault = defaultTimeoutMs === 0 ? undefined : this.make(defaultTimeoutMs, true);
  }

  /** The deadline of a call of `timeoutMs` (> 0). */
  of<T>(timeoutMs: number): MonoTypeOperatorFunction<T> {
    if (timeoutMs === this.defaultTimeoutMs && this.byDefault)
      return this.byDefault as MonoTypeOperatorFunction<T>;
    let deadline = this.kept.get(timeoutMs);
    if (deadline === undefined) {
      const keep = this.kept.size < KEPT_DEADLINE_LENGTHS;
      deadline = this.make(timeoutMs, keep);
      if (keep) this.kept.set(timeoutMs, deadline);
    }
    return deadline as MonoTypeOperatorFunction<T>;
  }

  /** Disarms the timers kept between calls (calls in flight still end at their deadline). */
  close(): void {
    for (const queue of this.queues) queue.disarm();
  }

  private make(timeoutMs: number, keep: boolean): MonoTypeOperatorFunction<unknown> {
    const queue = new DeadlineQueue(timeoutMs, this.scheduler, keep && this.scheduler === asyncScheduler);
    if (keep) this.queues.push(queue);
    return deadlineOn(queue, () => this.expired(timeoutMs));
  }
}
