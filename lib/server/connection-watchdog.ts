import type { SchedulerLike, Subscription } from 'rxjs';

/** Why a {@link ConnectionWatchdog} gave up on a connection. */
export type WatchdogExpiry =
  /** No frame came or went (a push counts) for `idleTimeoutMs` while no call was in flight. */
  | 'idle'
  /** A frame started arriving and did not finish within `frameTimeoutMs`. */
  | 'frame'
  /** Bytes waited to be written for `frameTimeoutMs` without the peer reading any. */
  | 'write'
  /** No token `authorize` accepted within `authTimeoutMs`. */
  | 'auth';

/** The timeouts a {@link ConnectionWatchdog} enforces, in ms; 0 turns one off. */
export interface WatchdogTimeouts {
  /** Close a connection with no call in flight after this long without a frame in or a push out. */
  readonly idleTimeoutMs: number;
  /** A frame must arrive, and queued output must start leaving, within this. */
  readonly frameTimeoutMs: number;
  /** A connection must present a valid token within this (0 when no `authorize` is set). */
  readonly authTimeoutMs: number;
}

/**
 * The clocks of one server connection, on one timer: idle (no frame in and no push out while
 * no call is in flight), frame (a frame started must finish), write (queued output must start leaving) and
 * auth (a valid token must come). Events only note the time; the single timer, read from the
 * scheduler, is moved only when an event brings the earliest deadline closer, so the hot path
 * (a chunk of frames, a call starting or ending) costs an assignment, not a timer.
 *
 * When a clock runs out, `onExpire` is called once with the reason and the watchdog stops.
 *
 * @example
 * ```ts
 * const watchdog = new ConnectionWatchdog(
 *   { idleTimeoutMs: 600_000, frameTimeoutMs: 30_000, authTimeoutMs: 0 },
 *   asyncScheduler,
 *   (why) => socket.destroy(),
 * );
 * socket.on('data', () => watchdog.chunk(1, false));
 * ```
 * @internal
 */
export class ConnectionWatchdog {
  private readonly timeouts: WatchdogTimeouts;
  private readonly scheduler: SchedulerLike;
  private readonly onExpire: (expiry: WatchdogExpiry) => void;
  private readonly openedAt: number;
  private lastActive: number;
  private busyNow = false;
  private partialSince: number | undefined = undefined;
  private stalledSince: number | undefined = undefined;
  private authenticatedNow: boolean;
  private timer: Subscription | undefined = undefined;
  private due = Number.POSITIVE_INFINITY;
  private stopped = false;

  constructor(
    timeouts: WatchdogTimeouts,
    scheduler: SchedulerLike,
    onExpire: (expiry: WatchdogExpiry) => void,
  ) {
    this.timeouts = timeouts;
    this.scheduler = scheduler;
    this.onExpire = onExpire;
    this.openedAt = scheduler.now();
    this.lastActive = this.openedAt;
    this.authenticatedNow = timeouts.authTimeoutMs === 0;
    this.arm();
  }

  /**
   * A chunk of input was read: `completed` frames finished in it, and `partial` says whether a
   * frame is left unfinished. A finished frame restarts the idle clock; an unfinished one
   * starts the frame clock unless the same frame was already unfinished.
   */
  chunk(completed: number, partial: boolean): void {
    if (this.stopped) return;
    const now = completed > 0 || (partial && this.partialSince === undefined) ? this.scheduler.now() : 0;
    if (completed > 0) this.lastActive = now;
    if (!partial) this.partialSince = undefined;
    else if (this.partialSince === undefined || completed > 0) {
      this.partialSince = now;
      this.arm();
    }
  }

  /** A frame went out that is not a reply (a server push): the idle clock starts again. */
  sent(): void {
    if (!this.stopped) this.lastActive = this.scheduler.now();
  }

  /** Whether calls are in flight or waiting: the idle clock runs only while there are none. */
  busy(busy: boolean): void {
    if (this.stopped || busy === this.busyNow) return;
    this.busyNow = busy;
    if (!busy) {
      this.lastActive = this.scheduler.now();
      this.arm();
    }
  }

  /** Whether output waits to be written with the socket full: the write clock runs while it does. */
  writeStalled(stalled: boolean): void {
    if (this.stopped || stalled === (this.stalledSince !== undefined)) return;
    this.stalledSince = stalled ? this.scheduler.now() : undefined;
    if (stalled) this.arm();
  }

  /** A valid token was presented: the auth clock stops for good. */
  authenticated(): void {
    this.authenticatedNow = true;
  }

  /** Stops every clock (the connection closed). */
  stop(): void {
    this.stopped = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  /** The earliest running clock's deadline and its kind, or undefined when none runs. */
  private earliest(): { at: number; expiry: WatchdogExpiry } | undefined {
    const { idleTimeoutMs, frameTimeoutMs, authTimeoutMs } = this.timeouts;
    let next: { at: number; expiry: WatchdogExpiry } | undefined;
    const consider = (at: number, expiry: WatchdogExpiry): void => {
      if (next === undefined || at < next.at) next = { at, expiry };
    };
    if (!this.authenticatedNow) consider(this.openedAt + authTimeoutMs, 'auth');
    if (frameTimeoutMs > 0 && this.partialSince !== undefined)
      consider(this.partialSince + frameTimeoutMs, 'frame');
    if (frameTimeoutMs > 0 && this.stalledSince !== undefined)
      consider(this.stalledSince + frameTimeoutMs, 'write');
    if (idleTimeoutMs > 0 && !this.busyNow) consider(this.lastActive + idleTimeoutMs, 'idle');
    return next;
  }

  /** Moves the timer to the earliest deadline when that is sooner than where it is set. */
  private arm(): void {
    const next = this.earliest();
    if (next === undefined || next.at >= this.due) return;
    this.timer?.unsubscribe();
    this.due = next.at;
    this.timer = this.scheduler.schedule(() => this.fire(), Math.max(0, next.at - this.scheduler.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.due = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const next = this.earliest();
    if (next === undefined) return;
    if (next.at <= this.scheduler.now()) {
      this.stop();
      this.onExpire(next.expiry);
      return;
    }
    this.arm();
  }
}
