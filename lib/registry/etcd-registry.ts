import {
  BehaviorSubject,
  catchError,
  concatMap,
  defer,
  distinctUntilChanged,
  EMPTY,
  exhaustMap,
  filter,
  finalize,
  groupBy,
  ignoreElements,
  lastValueFrom,
  map,
  mergeMap,
  type Observable,
  pairwise,
  retry,
  Subject,
  type Subscription,
  scan,
  startWith,
  tap,
  timer,
  withLatestFrom,
} from 'rxjs';
import { checkAddress } from '../discovery/create-instance.js';
import { formatMetadata, parseMetadata } from '../discovery/metadata-query.js';
import type { ServiceRegistry } from '../discovery/service-registry.js';
import { ConnectionError } from '../errors/index.js';
import type { Backoff } from '../retry/backoff.js';
import { describeValue, integerOption, optionsObject } from '../util/validate.js';
import {
  type EtcdConnectionOptions,
  type ResolvedEtcdOptions,
  resolveEtcdOptions,
  retryBackoff,
} from './etcd-options.js';
import { checkServiceName, instanceKey, serviceKey } from './keys.js';
import { RegistrationLease } from './registration-lease.js';
import { IDLE_PHASE, nextPhase, type RegistryEvent, type RegistryPhase } from './registry-phase.js';

/**
 * Default time to live of the registration lease: 10 seconds.
 *
 * @group Registry
 */
export const DEFAULT_ETCD_TTL_SECONDS = 10;

/**
 * Options of {@link etcdRegistry}.
 *
 * @example
 * ```ts
 * const options: EtcdRegistryOptions = { hosts: 'http://127.0.0.1:2379', ttlSeconds: 10 };
 * ```
 * @group Registry
 */
export interface EtcdRegistryOptions extends EtcdConnectionOptions {
  /**
   * Time to live of the lease the keys are put under: a server that dies without withdrawing
   * disappears from etcd this long after its last keepalive. Default 10 s, at least 1.
   * Keepalives go every third of it; when none was answered for 5/12 of it (one keepalive missed,
   * plus a twelfth as margin: a member that went silent without closing its sockets), the keys
   * move to a new lease through another member, in two requests that may each spend one
   * attempt's deadline (`requestTimeoutMs` / number of hosts) on the silent member: keep the
   * remaining 7/12 of the TTL well above twice that share, as the defaults do (5.8 s against 2 s
   * with three hosts).
   */
  readonly ttlSeconds?: number;
}

/**
 * Where an {@link EtcdRegistry} stands: `idle` with nothing registered, `registered` when etcd
 * holds every registration, `unreachable` while it retries after a failure (lost lease, etcd down),
 * `closed` after `close()`.
 * @group Registry
 */
export type EtcdRegistryState = 'idle' | 'registered' | 'unreachable' | 'closed';

/**
 * A {@link ServiceRegistry} on etcd: give it to a `Server` (`registries: [registry]`) and the
 * server's services appear under `{basePath}/{service}/{address}` while it runs.
 *
 * Every key is put under one lease, kept alive while anything is registered. When the lease is
 * lost (etcd restarted empty, a partition longer than the TTL), the registry grants a new one and
 * puts every key again, retrying with backoff (timed on its `scheduler`) until etcd answers;
 * nothing is asked of the application. Writes of one key reach etcd in the order they were asked
 * for; writes of different keys go in parallel. When the last registration is withdrawn, the
 * lease is revoked and the connection to etcd released (closed once no other registry of its
 * {@link EtcdPool} uses it), so a process that shut its server down can exit.
 * @group Registry
 */
export interface EtcdRegistry extends ServiceRegistry {
  /**
   * Puts `{basePath}/{service}/{address}` = `metadata` (URL query form, `weight=10&group=a`) under
   * the lease, and `{basePath}/{service}` = the service name. Registering the same service and
   * address again replaces the metadata (that is how to change it at run time).
   *
   * @returns a promise that resolves once etcd holds the key.
   * @throws (as a rejection) TypeError or RangeError for a bad service name (empty, with `/`),
   *   address or metadata, nothing kept; ConnectionError when etcd cannot be reached: the
   *   registration is kept and put as soon as etcd answers again.
   */
  register(service: string, address: string, metadata?: string): Promise<void>;
  /**
   * Deletes the instance key (the service key stays: other servers may share it).
   *
   * @throws (as a rejection) TypeError or RangeError for a bad argument; ConnectionError when
   *   etcd cannot be reached (the key then expires with the lease, which is no longer kept alive
   *   for it once nothing else is registered).
   */
  unregister(service: string, address: string): Promise<void>;
  /**
   * Sets `state=active` or `state=inactive` in the metadata of every registration (or those of
   * one service): clients stop selecting an inactive server, so a server can be drained before
   * it stops.
   *
   * @throws (as a rejection) RangeError for a state other than `active`/`inactive`;
   *   ConnectionError as `register`.
   */
  setState(state: 'active' | 'inactive', service?: string): Promise<void>;
  /** The registry's {@link EtcdRegistryState}; replays the current one. */
  readonly state$: Observable<EtcdRegistryState>;
  /**
   * Withdraws every registration (revokes the lease, which deletes its keys), stops retrying and
   * releases the connection. Later registrations are refused. Idempotent: another call returns
   * the same promise.
   */
  close(): Promise<void>;
}

interface Registration {
  readonly service: string;
  readonly address: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Creates an {@link EtcdRegistry}. Nothing is sent to etcd until the first registration.
 *
 * @throws TypeError or RangeError at once for bad options: no hosts, a host that is not an
 *   `http(s)://host:port` URL, a base path without a leading `/` or with a trailing one, a TTL
 *   below 1 s, a bad timeout or logger, a pool that is not an {@link EtcdPool}.
 * @example
 * ```ts
 * import { etcdRegistry } from 'phobos/etcd';
 *
 * const registry = etcdRegistry({ hosts: 'http://127.0.0.1:2379' });
 * const server = new Server({ registries: [registry] });
 * server.register('HelloWorld', new HelloWorld());
 * await server.listen('tcp@0.0.0.0:8972', { advertiseAddress: 'tcp@10.0.0.7:8972' });
 * process.on('SIGTERM', () => void server.shutdown()); // deletes the key first
 * ```
 * @group Registry
 */
export function etcdRegistry(options: EtcdRegistryOptions): EtcdRegistry {
  const resolved = resolveEtcdOptions('etcdRegistry', options);
  const ttlSeconds = integerOption(
    'ttlSeconds',
    optionsObject('etcdRegistry options', options).ttlSeconds,
    DEFAULT_ETCD_TTL_SECONDS,
    1,
  );
  return new EtcdLeaseRegistry(resolved, ttlSeconds);
}

/** A write asked for: the key's registration as it stands when its turn comes. */
interface Write {
  readonly key: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

class EtcdLeaseRegistry implements EtcdRegistry {
  readonly state$: Observable<EtcdRegistryState>;
  /** What etcd should hold, by instance key. */
  private readonly registrations = new Map<string, Registration>();
  /** How many writes of each key are asked for and not yet settled. */
  private readonly pending = new Map<string, number>();
  /** Writes to run, each after the earlier writes of its key. */
  private readonly writes = new Subject<Write>();
  /** Keys whose last pending write settled: their queues end. */
  private readonly settled = new Subject<string>();
  /** What happened: the one input of `phase`, and what starts a repair. */
  private readonly events = new Subject<RegistryEvent>();
  private readonly phase = new BehaviorSubject<RegistryPhase>(IDLE_PHASE);
  /** Settles once the write queues have run out after `close()`. */
  private readonly drained: Promise<unknown>;
  private readonly repairs: Subscription;
  private readonly backoff: Backoff;
  /** The connection and the lease, from the first write until nothing is left to keep. */
  private registrationLease: RegistrationLease | undefined;
  /** The leases let go so far (revoked, their connection released); `close()` waits for them. */
  private released: Promise<unknown> = Promise.resolve();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: ResolvedEtcdOptions,
    private readonly ttlSeconds: number,
  ) {
    this.backoff = retryBackoff(options);
    this.events.pipe(scan(nextPhase, IDLE_PHASE)).subscribe(this.phase);
    this.phase.pipe(pairwise()).subscribe(([from, to]) => this.logChange(from, to));
    this.state$ = this.phase.pipe(
      map((phase) => phase.state),
      distinctUntilChanged(),
    );
    this.repairs = this.events
      .pipe(
        filter(isFailure),
        exhaustMap(() => this.repair()),
      )
      .subscribe((event) => {
        this.report(event);
        this.releaseWhenIdle();
      });
    this.drained = lastValueFrom(
      this.writes.pipe(
        groupBy((write) => write.key, {
          // A key's queue ends once its writes have all settled: withdrawn keys leave none behind.
          duration: (queue) => this.settled.pipe(filter((key) => key === queue.key)),
        }),
        mergeMap((queue) => queue.pipe(concatMap((write) => this.run(write)))),
      ),
      { defaultValue: undefined },
    );
  }

  async register(service: string, address: string, metadata = ''): Promise<void> {
    checkServiceName('register service', service);
    checkAddress('register address', address);
    if (typeof metadata !== 'string') {
      throw new TypeError(
        `register metadata must be a string in query format, got ${describeValue(metadata)}`,
      );
    }
    let record: Record<string, string>;
    try {
      record = parseMetadata(metadata);
    } catch (error) {
      throw new RangeError(`register metadata: ${(error as Error).message}`, { cause: error });
    }
    this.refuseWhenClosed();
    const key = instanceKey(this.options.basePath, service, address);
    this.registrations.set(key, { service, address, metadata: record });
    await this.sync(key, `register ${service} at ${address}`);
  }

  async unregister(service: string, address: string): Promise<void> {
    checkServiceName('unregister service', service);
    checkAddress('unregister address', address);
    if (this.closing !== undefined) return;
    const key = instanceKey(this.options.basePath, service, address);
    if (!this.registrations.delete(key) && !this.pending.has(key)) return;
    await this.sync(key, `unregister ${service} at ${address}`);
  }

  async setState(state: 'active' | 'inactive', service?: string): Promise<void> {
    if (state !== 'active' && state !== 'inactive') {
      throw new RangeError(`state must be 'active' or 'inactive', got ${describeValue(state)}`);
    }
    if (service !== undefined) checkServiceName('setState service', service);
    this.refuseWhenClosed();
    const changed: Promise<void>[] = [];
    for (const [key, registration] of this.registrations) {
      if (service !== undefined && registration.service !== service) continue;
      this.registrations.set(key, { ...registration, metadata: { ...registration.metadata, state } });
      changed.push(this.sync(key, `set ${registration.service} at ${registration.address} ${state}`));
    }
    await Promise.all(changed);
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.registrations.clear();
    this.repairs.unsubscribe();
    // Writes already asked for settle (those not started yet write nothing), then the queues end.
    this.writes.complete();
    await this.drained;
    await this.released;
    await this.registrationLease?.release();
    this.registrationLease = undefined;
    this.report({ type: 'closed' });
    this.events.complete();
  }

  private refuseWhenClosed(): void {
    if (this.closing !== undefined)
      throw new ConnectionError('the etcd registry is closed; create a new one');
  }

  /** Writes the key's current registration (or its absence) after the key's earlier writes. */
  private async sync(key: string, what: string): Promise<void> {
    try {
      await this.enqueue(key);
    } catch (error) {
      this.report({ type: 'failed', error });
      throw new ConnectionError(
        `cannot ${what} in etcd (${this.options.hosts.join(', ')}): ${(error as Error).message}; ` +
          'the registry retries until etcd answers',
        { cause: error, details: { hosts: this.options.hosts } },
      );
    }
    this.report({ type: 'written' });
  }

  /** Asks for a write of `key`; settles once it is done. After `close()`, writes nothing. */
  private enqueue(key: string): Promise<void> {
    if (this.closing !== undefined) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
      this.writes.next({ key, resolve, reject });
    });
  }

  /** One write in its key's queue: settles its caller's promise and never fails the queue. */
  private run({ key, resolve, reject }: Write): Observable<never> {
    return defer(() => this.write(key)).pipe(
      ignoreElements(),
      tap({ complete: resolve, error: reject }),
      catchError(() => EMPTY),
      finalize(() => this.settle(key)),
    );
  }

  private settle(key: string): void {
    const left = (this.pending.get(key) ?? 1) - 1;
    if (left > 0) {
      this.pending.set(key, left);
      return;
    }
    this.pending.delete(key);
    this.settled.next(key);
    this.releaseWhenIdle();
  }

  /** Writes the key's registration as it stands now, or deletes the key if there is none. */
  private async write(key: string): Promise<void> {
    if (this.closing !== undefined) return;
    const held = this.openLease();
    if (this.registrations.has(key)) {
      const lease = await held.current();
      // The registration may have changed or gone while the lease was granted: write what holds now.
      const registration = this.registrations.get(key);
      if (registration !== undefined) {
        const service = serviceKey(this.options.basePath, registration.service);
        await Promise.all([
          lease.put(key).value(formatMetadata(registration.metadata)),
          held.putServiceKey(service, registration.service),
        ]);
        return;
      }
    }
    await held.client.delete().key(key);
  }

  private openLease(): RegistrationLease {
    this.registrationLease ??= new RegistrationLease(
      this.options.pool.acquire(this.options, 'registry'),
      this.ttlSeconds,
      this.options.scheduler,
      (event) => this.report(event),
    );
    return this.registrationLease;
  }

  /**
   * Puts every registration again, under the current lease (granted anew if it was lost), until
   * etcd has them all; between attempts waits the backoff (see {@link retryBackoff}) on the
   * registry's scheduler. Ends at once, not restored, when nothing is left to put.
   */
  private repair(): Observable<RegistryEvent> {
    // A failure reported while an attempt runs (a caller's write, the new lease lost) may have
    // left a key behind: that attempt counts as failed.
    const failedMeanwhile = this.events.pipe(
      filter(isFailure),
      map(() => true),
      startWith(false),
    );
    return defer(async () => {
      if (this.registrations.size === 0) return false;
      await this.openLease().current();
      await Promise.all([...this.registrations.keys()].map((key) => this.enqueue(key)));
      return true;
    }).pipe(
      withLatestFrom(failedMeanwhile),
      map(([restored, failed]) => {
        if (restored && failed) throw new Error('a failure was reported while the keys were put again');
        return restored;
      }),
      retry({ delay: (_error, attempt) => timer(this.backoff(attempt), this.options.scheduler) }),
      map((restored): RegistryEvent => ({ type: 'repaired', restored })),
    );
  }

  /** Feeds the state. What concerns registrations counts only while there are some. */
  private report(event: RegistryEvent): void {
    const ownStep = event.type === 'repaired' || event.type === 'released' || event.type === 'closed';
    if (ownStep || this.registrations.size > 0) this.events.next(event);
  }

  private logChange(from: RegistryPhase, to: RegistryPhase): void {
    const hosts = this.options.hosts;
    const count = this.registrations.size;
    if (to.state === 'unreachable' && from.state !== 'unreachable') {
      const error = to.error as Error | undefined;
      this.options.logger.warn(
        `etcd registry: cannot keep ${count} registration(s) in etcd (${hosts.join(', ')}): ` +
          `${error?.message ?? String(error)}; retrying`,
        { hosts },
      );
    } else if (from.state === 'unreachable' && to.state === 'registered') {
      this.options.logger.warn(
        `etcd registry: ${count} registration(s) are in etcd again (${hosts.join(', ')})`,
        { hosts },
      );
    }
  }

  /** Nothing registered, written or repaired: revoke the lease and let the connection go. */
  private releaseWhenIdle(): void {
    const held = this.registrationLease;
    if (held === undefined || this.closing !== undefined) return;
    if (this.registrations.size > 0 || this.pending.size > 0 || this.phase.value.repairing) return;
    this.registrationLease = undefined;
    this.report({ type: 'released' });
    this.released = Promise.all([this.released, held.release()]);
  }
}

function isFailure(event: RegistryEvent): boolean {
  return event.type === 'failed' || event.type === 'lost';
}
