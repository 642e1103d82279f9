import { type SchedulerAction, type SchedulerLike, Subscription } from 'rxjs';

/** One scheduled piece of work on an unref'd Node timer; `schedule` again moves it. */
class UnrefAction<T> extends Subscription implements SchedulerAction<T> {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly work: (this: SchedulerAction<T>, state?: T) => void) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(this.fire, Math.max(0, delay), state);
    this.timer.unref();
    return this;
  }

  /** The Node timer, while one is set (as `asyncScheduler`'s actions have). */
  get id(): ReturnType<typeof setTimeout> | undefined {
    return this.timer;
  }

  override unsubscribe(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    super.unsubscribe();
  }

  private readonly fire = (state?: T): void => {
    this.timer = undefined;
    if (!this.closed) this.work.call(this, state);
  };
}

/**
 * An RxJS scheduler on Node's timers, like `asyncScheduler`, except that its timers do not keep
 * the process alive (each is `unref()`'d): what it schedules runs only while something else (a
 * call in flight, a server, the program's own work) keeps the event loop going. For background
 * work that must not hold a process open: the heartbeats, idle timers and redial delays of an
 * XClient's connections use it when no scheduler was given.
 *
 * Its clock is `Date.now()`. Work that throws is reported as an uncaught exception, as with
 * `asyncScheduler`.
 *
 * @example
 * ```ts
 * // pings every second for as long as the process runs for another reason
 * timer(0, 1_000, unrefScheduler).subscribe(() => connection.ping$().subscribe());
 * ```
 * @group Client
 */
export const unrefScheduler: SchedulerLike = Object.freeze({
  now: (): number => Date.now(),
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new UnrefAction(work).schedule(state, delay);
  },
});
