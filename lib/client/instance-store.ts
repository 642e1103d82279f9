import { Observable, ReplaySubject, type Subject, type Subscription, take, tap, throwError } from 'rxjs';
import type { CircuitBreaker } from '../breaker/breaker.js';
import type { BreakerFactory } from '../breaker/breaker-for.js';
import type { Discovery, DiscoveryState } from '../discovery/discovery.js';
import type { ServiceInstance } from '../discovery/service-instance.js';
import { usableInstances } from '../discovery/usable-instances.js';
import { describeThrown } from '../errors/describe-thrown.js';
import { ConnectionClosedError, NoInstanceError } from '../errors/index.js';
import { pickInstance } from '../operators/select-instance.js';
import type { CallInfo, Selector } from '../selector/selector.js';
import type { ConnectionPool } from './connection-pool.js';
import type { InstanceState, XClientEvent } from './xclient-event.js';

/**
 * What an XClient knows of each server of its service, in one place: discovery's list, each
 * server's breaker, the selector's state, and (through its pool) each connection and whether it
 * is healthy. Discovery's changes reach all of them together: a server that leaves is forgotten by
 * the selector, loses its breaker and its connection at once. Time comes from the client's
 * scheduler, through the breakers' clocks and the pool.
 *
 * @internal
 */
export class InstanceStore {
  /** Discovery's last usable list (replayed to calls that wait for a first one). */
  readonly instances$: Observable<readonly ServiceInstance[]>;
  /** Discovery's last usable list; undefined before it has spoken and after `close()`. */
  latest: readonly ServiceInstance[] | undefined;
  private readonly service: string;
  private readonly selector: Selector;
  private readonly breakerFactory: BreakerFactory | undefined;
  private readonly pool: ConnectionPool;
  private readonly discovery: Discovery;
  private readonly group: string | undefined;
  private readonly events: Subject<XClientEvent>;
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly breakerWatches = new Map<string, Subscription>();
  private readonly watch: Subscription;
  /** What discovery last failed with (its instances$ errored), for the no-server error. */
  private discoveryError: unknown;
  /** Servers in discovery's last list, before the inactive and other groups were dropped. */
  private listed = 0;
  /** Whether discovery ever listed a usable server. */
  private everFound = false;
  private closed = false;
  /** The picking preferences of a call that has tried no server yet: healthy connections first. */
  private readonly firstPreferences: readonly ((instance: ServiceInstance) => boolean)[];
  private readonly notOpen = (instance: ServiceInstance): boolean =>
    this.breakers.get(instance.key)?.state.state !== 'open';
  private readonly healthy = (instance: ServiceInstance): boolean => this.pool.isAvailable(instance.key);

  constructor(
    service: string,
    options: {
      readonly discovery: Discovery;
      readonly group: string | undefined;
      readonly selector: Selector;
      readonly breakerFactory: BreakerFactory | undefined;
      readonly pool: ConnectionPool;
      readonly events: Subject<XClientEvent>;
    },
  ) {
    this.service = service;
    this.discovery = options.discovery;
    this.group = options.group;
    this.selector = options.selector;
    this.breakerFactory = options.breakerFactory;
    this.pool = options.pool;
    this.events = options.events;
    this.firstPreferences = [this.healthy];
    const shared = new ReplaySubject<readonly ServiceInstance[]>(1);
    this.instances$ = shared;
    const group = this.group;
    this.watch = this.discovery.instances$
      .pipe(
        tap((list) => {
          this.listed = list.length;
        }),
        usableInstances(group === undefined ? {} : { group }),
        tap((list) => this.update(list)),
      )
      .subscribe({
        next: (list) => shared.next(list),
        error: (error: unknown) => {
          this.discoveryError = error;
          shared.error(error);
        },
        // Calls waiting for a first list learn that none will come (a later one replays the last).
        complete: () => shared.complete(),
      });
  }

  /** The breaker of a server (made at first use), or undefined when the client has none. */
  breakerOf(key: string): CircuitBreaker | undefined {
    if (!this.breakerFactory) return undefined;
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = this.breakerFactory(key);
      this.breakers.set(key, breaker);
      this.breakerWatches.set(
        key,
        breaker.transitions$.subscribe(({ from, to }) => {
          if (this.events.observed) this.events.next({ type: 'breaker', instance: key, from, to });
        }),
      );
    }
    return breaker;
  }

  /**
   * Picks a server of `list` for a call: one whose breaker is not open, preferring a healthy
   * connection, then one the call has not tried.
   *
   * @throws NoInstanceError when `list` is empty (naming the discovery) or the selector picks
   *   none; CircuitOpenError when every server's breaker is open.
   */
  pick(list: readonly ServiceInstance[], info: CallInfo, tried: ReadonlySet<string>): ServiceInstance {
    if (list.length === 0) throw this.noServer({});
    const preferences =
      tried.size === 0
        ? this.firstPreferences
        : [this.healthy, (instance: ServiceInstance): boolean => !tried.has(instance.key)];
    return pickInstance(
      this.selector,
      list,
      info,
      this.breakerFactory === undefined ? undefined : this.notOpen,
      preferences,
    );
  }

  /**
   * Discovery's current list, once it has one. Errors with a NoInstanceError naming the discovery
   * when discovery failed or ended before listing any server, and with a ConnectionClosedError
   * once the client is closed.
   */
  current$(): Observable<readonly ServiceInstance[]> {
    if (this.closed) {
      const closed = new ConnectionClosedError(`the XClient of ${this.service} is closed`, {
        details: { service: this.service },
      });
      return throwError(() => closed);
    }
    return new Observable<readonly ServiceInstance[]>((subscriber) =>
      this.instances$.pipe(take(1)).subscribe({
        next: (list) => {
          subscriber.next(list);
          subscriber.complete();
        },
        error: (error: unknown) => subscriber.error(this.noServer({ cause: error })),
        complete: () => subscriber.error(this.noServer({})),
      }),
    );
  }

  /** Each server of the list with its breaker state and connection. */
  states(): InstanceState[] {
    if (this.closed) return [];
    return (this.latest ?? []).map((instance) => {
      const breaker = this.breakers.get(instance.key)?.state.state ?? 'closed';
      const available = this.pool.isAvailable(instance.key);
      return {
        key: instance.key,
        address: instance.address,
        breaker,
        connected: this.pool.isConnected(instance.key),
        usable: breaker !== 'open' && available,
      };
    });
  }

  /**
   * No server to call: discovery listed none usable, failed or ended before listing one, or said
   * nothing within the call's deadline (`waitedMs`). The error names the discovery, what it last
   * failed with, and what to do.
   */
  noServer({ cause, waitedMs }: { cause?: unknown; waitedMs?: number }): NoInstanceError {
    const group = this.group === undefined ? '' : ` in group "${this.group}"`;
    const state = this.discoveryState();
    const failure = state.lastError ?? cause ?? this.discoveryError;
    const lastError = failure === undefined ? undefined : describeThrown(failure);
    const about = `(discovery: ${state.source}, last error: ${lastError ?? 'none'})`;
    const service = this.service;
    let message: string;
    if (this.latest === undefined) {
      const when =
        waitedMs !== undefined
          ? `; discovery listed none within the call's deadline of ${waitedMs} ms`
          : failure !== undefined
            ? '; discovery failed before listing any'
            : '; discovery ended without listing any';
      message = `no server known for service ${service}${group} yet ${about}${when}. Start a server of ${service}, check the discovery's settings${waitedMs !== undefined ? ', or raise timeoutMs if it is slow to answer' : ''}`;
    } else if (this.listed > 0) {
      message =
        this.group === undefined
          ? `no usable server for service ${service} ${about}: discovery lists ${this.listed}, each inactive (state=inactive). Activate one, or start another`
          : `no usable server for service ${service}${group} ${about}: discovery lists ${this.listed}, each inactive (state=inactive) or outside group "${this.group}". Activate one, start one in the group, or call another group`;
    } else {
      message = `no server known for service ${service}${group}${this.everFound ? ' any more' : ' yet'} ${about}. Start a server of ${service}, or check that it registers where this discovery looks`;
    }
    return new NoInstanceError(message, {
      ...(cause === undefined ? {} : { cause }),
      details: {
        service,
        discovery: state.source,
        ...(lastError === undefined ? {} : { lastError }),
        ...(this.group === undefined ? {} : { group: this.group }),
        ...(waitedMs === undefined ? {} : { timeoutMs: waitedMs }),
      },
    });
  }

  /** Stops following discovery and forgets every server: breakers, connections. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.latest = undefined;
    this.watch.unsubscribe();
    this.pool.close();
    for (const watch of this.breakerWatches.values()) watch.unsubscribe();
    this.breakerWatches.clear();
    this.breakers.clear();
  }

  private update(list: readonly ServiceInstance[]): void {
    const keys = new Set(list.map((instance) => instance.key));
    for (const old of this.latest ?? []) {
      if (!keys.has(old.key)) {
        this.selector.forget?.(old.key);
        this.breakers.delete(old.key);
        this.breakerWatches.get(old.key)?.unsubscribe();
        this.breakerWatches.delete(old.key);
      }
    }
    this.latest = list;
    if (list.length > 0) this.everFound = true;
    this.pool.sync(list);
  }

  /** What the discovery says of itself; never throws. */
  private discoveryState(): DiscoveryState {
    const fallback = { source: 'a discovery without describe()' };
    try {
      const state = this.discovery.describe?.();
      return typeof state?.source === 'string' ? state : fallback;
    } catch {
      return fallback;
    }
  }
}
