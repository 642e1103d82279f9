import {
  AsyncSubject,
  defer,
  ignoreElements,
  merge,
  type Observable,
  of,
  ReplaySubject,
  race,
  type SchedulerLike,
  type Subscription,
  share,
  switchMap,
  take,
  takeUntil,
  tap,
  throwError,
  timer,
} from 'rxjs';
import type { ServiceInstance } from '../discovery/service-instance.js';
import { ConnectionClosedError } from '../errors/index.js';
import { connect } from './connect.js';
import type { ConnectOptions } from './connect-options.js';
import type { Connection } from './connection.js';
import type { HeartbeatOptions } from './heartbeat.js';

/**
 * Options of a {@link ConnectionPool}.
 *
 * @group Client
 */
export interface ConnectionPoolOptions {
  /** How connections are made. */
  readonly connect: ConnectOptions;
  /** Close a connection that no call used for this long (ms, >= 1). */
  readonly idleTimeoutMs: number;
  /** Heartbeats on every connection, or none. */
  readonly heartbeat: HeartbeatOptions | undefined;
  /** Delay before the n-th redial (n = 1, 2...) of a failed instance. */
  readonly redialDelayMs: (failures: number) => number;
  /** Clock and timers. */
  readonly scheduler: SchedulerLike;
  /** Told every heartbeat round trip, per instance key. */
  readonly onLatency?: (key: string, latencyMs: number) => void;
  /** Told of every connection made (to follow its pushes). */
  readonly onConnection?: (connection: Connection) => void;
}

/**
 * One instance's shared connection: dialled on first use, shared by every call, closed after
 * `idleTimeoutMs` without calls, at once when the instance leaves (after the calls on it end),
 * and redialled in the background with backoff after a failure. The instance counts as
 * unavailable from a failure until a redial succeeds.
 */
class PoolEntry {
  readonly connection$: Observable<Connection>;
  private healthy = true;
  private failures = 0;
  private redial: Subscription | undefined;
  private readonly leave$ = new AsyncSubject<void>();
  private readonly kill$ = new AsyncSubject<void>();
  /** The connection connection$ last made (see {@link PoolEntry.open}). */
  private current: Connection | undefined;
  /** Calls made straight on `current` (see {@link PoolEntry.hold}), and what keeps it open for them. */
  private held = 0;
  private holding: Subscription | undefined;
  /** When `held` last fell to zero (scheduler time), and the timer that looks at it then. */
  private idleSince = 0;
  private idleCheck: Subscription | undefined;
  /** Set while the hold is let go: the connection closes at once if nothing else holds it. */
  private idleExpired = false;
  /** The instance left discovery. */
  private left = false;

  constructor(
    readonly instance: ServiceInstance,
    private readonly options: ConnectionPoolOptions,
  ) {
    const { heartbeat, scheduler, idleTimeoutMs } = options;
    this.connection$ = defer(() => connect(instance.address, options.connect)).pipe(
      switchMap((connection) => {
        this.current = connection;
        options.onConnection?.(connection);
        if (!heartbeat) {
          this.up();
          return of(connection);
        }
        // With heartbeats, a connection counts as healthy from its first echo (a server that
        // accepts connections but does not answer stays skipped). A failed heartbeat closes the
        // connection, which errors every call on it.
        const beats = connection.heartbeat$({ ...heartbeat, scheduler }).pipe(
          tap((rtt) => {
            this.up();
            options.onLatency?.(instance.key, rtt);
          }),
          ignoreElements(),
        );
        return merge(of(connection), beats);
      }),
      tap({ error: () => this.down() }),
      takeUntil(this.kill$),
      share({
        connector: () => new ReplaySubject<Connection>(1),
        resetOnError: true,
        resetOnComplete: true,
        resetOnRefCountZero: () =>
          this.idleExpired ? of(true) : race(timer(idleTimeoutMs, scheduler), this.leave$),
      }),
    );
  }

  /** Not known to be down: a new call may go there. */
  get available(): boolean {
    return this.healthy;
  }

  /** The open connection, when there is one: a call may use it without subscribing connection$. */
  get open(): Connection | undefined {
    return this.current?.isOpen ? this.current : undefined;
  }

  /**
   * Counts a call made straight on the open connection, so that the connection stays open (it
   * closes after idleTimeoutMs without any call); returns what ends the count. The hold outlives
   * the count falling to zero: one timer, armed then if none is, looks again idleTimeoutMs later
   * and lets go only if no call came since. Calls one at a time thus cost no subscription and no
   * timer each, as calls under load do.
   */
  hold(): () => void {
    this.held += 1;
    if (this.holding === undefined || this.holding.closed) {
      this.holding = this.connection$.subscribe({ error: () => {} });
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held -= 1;
      if (this.held > 0) return;
      if (this.left) this.letGo();
      else {
        this.idleSince = this.options.scheduler.now();
        this.idleCheck ??= this.options.scheduler.schedule(this.checkIdle, this.options.idleTimeoutMs);
      }
    };
  }

  /** The instance left discovery: close once the calls on it are done, and stop redialling. */
  leave(): void {
    this.left = true;
    this.stopRedial();
    if (this.held === 0) this.letGo();
    this.leave$.next();
    this.leave$.complete();
  }

  private readonly checkIdle = (): void => {
    this.idleCheck = undefined;
    if (this.held > 0 || this.holding === undefined) return;
    const { scheduler, idleTimeoutMs } = this.options;
    const left = this.idleSince + idleTimeoutMs - scheduler.now();
    if (left > 0) this.idleCheck = scheduler.schedule(this.checkIdle, left);
    else this.letGo();
  };

  /** Ends the hold of calls that are all done: the connection closes unless a dial holds it. */
  private letGo(): void {
    this.idleCheck?.unsubscribe();
    this.idleCheck = undefined;
    const holding = this.holding;
    if (holding === undefined) return;
    this.holding = undefined;
    // Idle for idleTimeoutMs already, or the instance left: no further wait. A dial that still
    // holds the connection leaves it to the usual idleTimeoutMs after it.
    this.idleExpired = true;
    holding.unsubscribe();
    this.idleExpired = false;
  }

  /** Close now: calls on the connection fail with ConnectionClosedError. */
  kill(): void {
    this.leave();
    this.kill$.next();
    this.kill$.complete();
  }

  private up(): void {
    this.healthy = true;
    this.failures = 0;
  }

  private down(): void {
    this.healthy = false;
    this.failures += 1;
    if (!this.redial && !this.leave$.closed) this.scheduleRedial();
  }

  private scheduleRedial(): void {
    // The dial this makes ends its own subscription at once: the connection then stays open for
    // idleTimeoutMs, ready for the next call.
    this.redial = timer(this.options.redialDelayMs(this.failures), this.options.scheduler)
      .pipe(switchMap(() => this.connection$.pipe(take(1))))
      .subscribe({
        next: () => this.stopRedial(),
        error: () => {
          this.redial = undefined;
          if (!this.leave$.closed) this.scheduleRedial();
        },
      });
  }

  private stopRedial(): void {
    this.redial?.unsubscribe();
    this.redial = undefined;
  }
}

/**
 * The connections of one XClient, one per instance.
 *
 * @internal
 */
export class ConnectionPool {
  private readonly entries = new Map<string, PoolEntry>();
  private closed = false;

  constructor(private readonly options: ConnectionPoolOptions) {}

  /** The shared connection of an instance (dialled on subscription if none is open). */
  connection$(instance: ServiceInstance): Observable<Connection> {
    if (this.closed) {
      return throwError(
        () => new ConnectionClosedError('the client is closed', { details: { address: instance.address } }),
      );
    }
    return this.entry(instance).connection$;
  }

  /**
   * The instance's open connection and what holds it open for one call, or undefined when it has
   * none open (then use {@link ConnectionPool.connection$}).
   */
  open(
    instance: ServiceInstance,
  ): { readonly connection: Connection; readonly release: () => void } | undefined {
    if (this.closed) return undefined;
    const entry = this.entries.get(instance.key);
    if (entry === undefined || entry.instance.address !== instance.address) return undefined;
    const connection = entry.open;
    if (connection === undefined) return undefined;
    return { connection, release: entry.hold() };
  }

  /** Whether a new call may go to the instance (its last connection did not fail). */
  isAvailable(key: string): boolean {
    return this.entries.get(key)?.available ?? true;
  }

  /** Whether the instance has an open connection now. */
  isConnected(key: string): boolean {
    return this.entries.get(key)?.open !== undefined;
  }

  /** The instances now known: connections of those that left close once idle. */
  sync(instances: readonly ServiceInstance[]): void {
    const current = new Map(instances.map((instance) => [instance.key, instance]));
    for (const [key, entry] of this.entries) {
      const now = current.get(key);
      if (!now || now.address !== entry.instance.address) {
        this.entries.delete(key);
        entry.leave();
      }
    }
  }

  /** Closes every connection now and forgets every instance. */
  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) entry.kill();
    this.entries.clear();
  }

  private entry(instance: ServiceInstance): PoolEntry {
    let entry = this.entries.get(instance.key);
    if (!entry || entry.instance.address !== instance.address) {
      entry?.leave();
      entry = new PoolEntry(instance, this.options);
      this.entries.set(instance.key, entry);
    }
    return entry;
  }
}
