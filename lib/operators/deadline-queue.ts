import type { SchedulerLike, Subscription, Unsubscribable } from 'rxjs';

/** Below this many entries the queue is never compacted: copying would cost more than it frees. */
const COMPACT_ABOVE = 1_024;

/** One deadline of a {@link DeadlineQueue}; `unsubscribe()` cancels it. */
class Deadline implements Unsubscribable {
  done = false;

  constructor(
    private readonly queue: DeadlineQueue,
    readonly at: number,
    private expire: (() => void) | undefined,
  ) {}

  unsubscribe(): void {
    if (this.done) return;
    this.done = true;
    this.expire = undefined;
    this.queue.cancelled();
  }

  /** Due: runs its work, once. */
  run(): void {
    const expire = this.expire;
    this.done = true;
    this.expire = undefined;
    expire?.();
  }
}

/**
 * Deadlines that all last `timeoutMs`, on one timer at a time. Each falls due `timeoutMs` after it
 * was added, so they fall due in the order they were added: the queue keeps that order and its
 * timer waits for the oldest deadline still pending. Adding or cancelling a deadline schedules
 * nothing while another is pending, where a timer per deadline would cost a scheduled action (a
 * Node timer) per call. No timer is left once no deadline is pending.
 *
 * With `keepArmed`, the timer is also left running when the last pending deadline is cancelled:
 * when it fires with nothing pending it simply stops, and a deadline added before then needs no
 * new timer (when it fires early for that one, it waits again for the rest). One call at a time
 * then costs no timer at all, instead of setting and clearing one per call; for a scheduler whose
 * timers do not keep the process alive, or whose timers can be let go: on Node's timers
 * (`asyncScheduler`, `unrefScheduler`) a kept timer keeps the process alive while a deadline is
 * pending, as a timer per deadline would, and stops holding it (`unref()`) when none is.
 *
 * Time is read from `scheduler.now()` and waited with `scheduler.schedule`, so virtual time
 * drives it in tests; a deadline's work runs when the timer fires at or after its time.
 *
 * @example
 * ```ts
 * const deadlines = new DeadlineQueue(30_000, asyncScheduler);
 * const deadline = deadlines.add(() => subscriber.error(new DeadlineExceededError('too late')));
 * // when the reply comes first:
 * deadline.unsubscribe();
 * ```
 * @internal
 */
export class DeadlineQueue {
  /** Deadlines in the order added; those before `head` are done, and some after it may be. */
  private entries: Deadline[] = [];
  private head = 0;
  /** Deadlines neither run nor cancelled. */
  private live = 0;
  private timer: Subscription | undefined;
  private firing = false;

  /**
   * @param idle - called each time the last pending deadline is done (run or cancelled) and the
   *   queue holds no timer any more; not with `keepArmed`.
   */
  constructor(
    private readonly timeoutMs: number,
    private readonly scheduler: SchedulerLike,
    private keepArmed = false,
    private readonly idle?: () => void,
  ) {}

  /** Deadlines pending now. */
  get size(): number {
    return this.live;
  }

  /** Runs `expire` `timeoutMs` from now, unless the returned deadline is unsubscribed first. */
  add(expire: () => void): Unsubscribable {
    const deadline = new Deadline(this, this.scheduler.now() + this.timeoutMs, expire);
    this.entries.push(deadline);
    this.live += 1;
    if (this.timer === undefined) {
      if (!this.firing) this.arm(deadline.at);
    } else if (this.live === 1) this.hold(true);
    return deadline;
  }

  /**
   * Cancels every pending deadline and stops the timer (a timer kept armed too); deadlines added
   * later are honoured as before.
   */
  stop(): void {
    for (let index = this.head; index < this.entries.length; index++) {
      const deadline = this.entries[index] as Deadline;
      if (!deadline.done) {
        deadline.done = true;
        this.live -= 1;
      }
    }
    this.clear();
  }

  /**
   * Stops keeping the timer armed (for a queue made with `keepArmed`, whose owner closes): the
   * timer is cleared now if no deadline is pending, else once none is. Pending deadlines still run.
   */
  disarm(): void {
    this.keepArmed = false;
    if (this.live === 0 && !this.firing) this.clear();
  }

  /** @internal A deadline was cancelled. */
  cancelled(): void {
    this.live -= 1;
    if (this.firing) return;
    if (this.live > 0) this.trim();
    else if (this.keepArmed) {
      this.forget();
      this.hold(false);
    } else this.clear();
  }

  private arm(at: number): void {
    this.timer = this.scheduler.schedule(this.fire, Math.max(0, at - this.scheduler.now()));
    this.hold(true);
  }

  /**
   * Kept armed on Node's timers, the timer keeps the process alive only while a deadline is
   * pending. An action of `asyncScheduler` or `unrefScheduler` holds its Node timer in `id`; other
   * schedulers' actions (virtual time) have none to hold.
   */
  private hold(held: boolean): void {
    if (!this.keepArmed) return;
    const id = (this.timer as { id?: { ref?: unknown; unref?: unknown } } | undefined)?.id;
    if (typeof id?.ref !== 'function' || typeof id.unref !== 'function') return;
    if (held) id.ref();
    else id.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.firing = true;
    const now = this.scheduler.now();
    try {
      // Deadlines added while these run come after them: they are not due yet.
      while (this.head < this.entries.length) {
        const deadline = this.entries[this.head] as Deadline;
        if (deadline.done) {
          this.head += 1;
          continue;
        }
        if (deadline.at > now) break;
        this.head += 1;
        this.live -= 1;
        deadline.run();
      }
    } finally {
      this.firing = false;
      if (this.live === 0) this.clear();
      else {
        this.trim();
        if (this.timer === undefined) this.arm((this.entries[this.head] as Deadline).at);
      }
    }
  };

  /** Drops the done deadlines at the head, and compacts when done ones outnumber pending ones. */
  private trim(): void {
    const entries = this.entries;
    while (this.head < entries.length && (entries[this.head] as Deadline).done) this.head += 1;
    const held = entries.length - this.head;
    if (this.head > COMPACT_ABOVE && this.head > held) {
      this.entries = entries.slice(this.head);
      this.head = 0;
    } else if (held > COMPACT_ABOVE && held > 2 * this.live) {
      this.entries = entries.slice(this.head).filter((deadline) => !deadline.done);
      this.head = 0;
    }
  }

  private clear(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.forget();
    this.idle?.();
  }

  /** Drops the (all done) deadlines held. */
  private forget(): void {
    this.entries = [];
    this.head = 0;
  }
}

/**
 * Deadlines of any length: those of one length share a {@link DeadlineQueue} (one timer), kept
 * while it has deadlines pending. A server told each call's deadline by its caller sees a few
 * lengths at a time (the callers' timeouts), so its calls share a few timers instead of setting
 * one each. Past `maxLengths` lengths pending at once, a deadline gets a timer of its own.
 *
 * @example
 * ```ts
 * const deadlines = new DeadlineQueues(asyncScheduler);
 * const deadline = deadlines.add(500, () => call.abort());
 * deadline.unsubscribe(); // the call ended first
 * ```
 * @internal
 */
export class DeadlineQueues {
  private readonly queues = new Map<number, DeadlineQueue>();

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly maxLengths = 64,
  ) {}

  /** Lengths with deadlines pending now. */
  get lengths(): number {
    return this.queues.size;
  }

  /** Runs `expire` `timeoutMs` from now, unless the returned deadline is unsubscribed first. */
  add(timeoutMs: number, expire: () => void): Unsubscribable {
    let queue = this.queues.get(timeoutMs);
    if (queue === undefined) {
      if (this.queues.size >= this.maxLengths) return this.scheduler.schedule(expire, timeoutMs);
      const made = new DeadlineQueue(timeoutMs, this.scheduler, false, () => {
        if (this.queues.get(timeoutMs) === made) this.queues.delete(timeoutMs);
      });
      queue = made;
      this.queues.set(timeoutMs, queue);
    }
    return queue.add(expire);
  }
}
