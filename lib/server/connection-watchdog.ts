import type { SchedulerLike, Subscription } from 'rxjs';

/**
 * Why a {@link ConnectionWatchdog} gave up on a connection.
 *
 * @group Server
 */
export type WatchdogExpiry =
  /** No frame came or went (a push counts) for `idleTimeoutMs` while no call was in flight. */
  | 'idle'
  /** A frame started arriving and did not finish within `frameTimeoutMs`. */
  | 'frame'
  /** Bytes waited to be written for `frameTimeoutMs` without the peer reading any. */
  | 'write'
  /** No token `authorize` accepted within `authTimeoutMs`. */
  | 'auth';

/**
 * The timeouts a {@link ConnectionWatchdog} enforces, in ms; 0 turns one off.
 *
 * @group Server
 */
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
    if (!this.authenticatedNow) this.arm(this.openedAt + timeouts.authTimeoutMs);
    if (timeouts.idleTimeoutMs > 0) this.arm(this.openedAt + timeouts.idleTimeoutMs);
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
      if (this.timeouts.frameTimeoutMs > 0) this.arm(now + this.timeouts.frameTimeoutMs);
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
      if (this.timeouts.idleTimeoutMs > 0) this.arm(this.lastActive + this.timeouts.idleTimeoutMs);
    }
  }

  /** Whether output waits to be written with the socket full: the write clock runs while it does. */
  writeStalled(stalled: boolean): void {
    if (this.stopped || stalled === (this.stalledSince !== undefined)) return;
    this.stalledSince = stalled ? this.scheduler.now() : undefined;
    if (this.stalledSince !== undefined && this.timeouts.frameTimeoutMs > 0) {
      this.arm(this.stalledSince + this.timeouts.frameTimeoutMs);
    }
  }

  /** Whether a valid token was presented (or none is needed: no auth clock). */
  get isAuthenticated(): boolean {
    return this.authenticatedNow;
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

  /**
   * Makes sure the timer goes off by `at`, a clock's new deadline: only a clock that starts can
   * bring the earliest deadline closer, so the timer moves only when `at` is sooner than where
   * it is set (deadlines that move later are found when it fires).
   */
  private arm(at: number): void {
    if (at >= this.due) return;
    this.timer?.unsubscribe();
    this.due = at;
    this.timer = this.scheduler.schedule(() => this.fire(), Math.max(0, at - this.scheduler.now()));
  }

  /** The timer went off: give up on the connection if a clock ran out, else wait for the next. */
  private fire(): void {
    this.timer = undefined;
    this.due = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const { idleTimeoutMs, frameTimeoutMs, authTimeoutMs } = this.timeouts;
    let at = Number.POSITIVE_INFINITY;
    let expiry: WatchdogExpiry = 'idle';
    if (!this.authenticatedNow && this.openedAt + authTimeoutMs < at) {
      at = this.openedAt + authTimeoutMs;
      expiry = 'auth';
    }
    if (frameTimeoutMs > 0 && this.partialSince !== undefined && this.partialSince + frameTimeoutMs < at) {
      at = this.partialSince + frameTimeoutMs;
      expiry = 'frame';
    }
    if (frameTimeoutMs > 0 && this.stalledSince !== undefined && this.stalledSince + frameTimeoutMs < at) {
      at = this.stalledSince + frameTimeoutMs;
      expiry = 'write';
    }
    if (idleTimeoutMs > 0 && !this.busyNow && this.lastActive + idleTimeoutMs < at) {
      at = this.lastActive + idleTimeoutMs;
      expiry = 'idle';
    }
    if (at === Number.POSITIVE_INFINITY) return;
    if (at <= this.scheduler.now()) {
      this.stop();
      this.onExpire(expiry);
      return;
    }
    this.arm(at);
  }
}
