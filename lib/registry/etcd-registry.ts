import type { Lease } from 'etcd3';
import { BehaviorSubject, distinctUntilChanged, type Observable, type Subscription } from 'rxjs';
import { checkAddress } from '../discovery/create-instance.js';
import { formatMetadata, parseMetadata } from '../discovery/metadata-query.js';
import type { ServiceRegistry } from '../discovery/service-registry.js';
import { ConnectionError } from '../errors/index.js';
import type { Backoff } from '../retry/backoff.js';
import { describeValue, integerOption, optionsObject } from '../util/validate.js';
import type { EtcdHandle } from './etcd-client.js';
import {
  type EtcdConnectionOptions,
  type ResolvedEtcdOptions,
  resolveEtcdOptions,
  retryBackoff,
} from './etcd-options.js';
import { checkServiceName, instanceKey, serviceKey } from './keys.js';

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
 * puts every key again, retrying with backoff until etcd answers; nothing is asked of the
 * application. When the last registration is withdrawn, the lease is revoked and the connection
 * to etcd released (closed once no other registry of its {@link EtcdPool} uses it), so a process
 * that shut its server down can exit.
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
   * releases the connection. Later registrations are refused. Idempotent.
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

class EtcdLeaseRegistry implements EtcdRegistry {
  readonly state$: Observable<EtcdRegistryState>;
  private readonly state = new BehaviorSubject<EtcdRegistryState>('idle');
  private readonly registrations = new Map<string, Registration>();
  /** The last write of each key, so that writes to one key reach etcd in order. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Service keys already put under the current lease. */
  private readonly servicesPut = new Set<string>();
  private handle: EtcdHandle | undefined;
  private lease: Lease | undefined;
  private granting: Promise<Lease> | undefined;
  private repairing = false;
  private repairAgain = false;
  private retryTimer: Subscription | undefined;
  private wakeRetry: (() => void) | undefined;
  private closed = false;
  /** The lease revoke and connection release under way, if any (close waits for it). */
  private releasing: Promise<void> | undefined;
  private readonly backoff: Backoff;
  /** Checks that the current lease's keepalives are answered. */
  private keepaliveWatch: Subscription | undefined;

  constructor(
    private readonly options: ResolvedEtcdOptions,
    private readonly ttlSeconds: number,
  ) {
    this.state$ = this.state.pipe(distinctUntilChanged());
    this.backoff = retryBackoff(options);
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
    if (this.closed) return;
    const key = instanceKey(this.options.basePath, service, address);
    if (!this.registrations.delete(key) && !this.chains.has(key)) return;
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

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.registrations.clear();
    this.retryTimer?.unsubscribe();
    this.wakeRetry?.();
    await Promise.allSettled([...this.chains.values()]);
    await this.releasing;
    await this.releaseLease();
    this.state.next('closed');
    this.state.complete();
  }

  private refuseWhenClosed(): void {
    if (this.closed) throw new ConnectionError('the etcd registry is closed; create a new one');
  }

  /** Writes the key's current registration (or its absence) after the key's earlier writes. */
  private sync(key: string, what: string): Promise<void> {
    const written = this.enqueue(key);
    return written.then(
      () => {
        if (this.repairing || this.registrations.size === 0) return;
        if (this.state.value === 'unreachable') this.markRegistered();
        else this.state.next('registered');
      },
      (error: unknown) => {
        this.needsRepair(error);
        throw new ConnectionError(
          `cannot ${what} in etcd (${this.options.hosts.join(', ')}): ${(error as Error).message}; ` +
            'the registry retries until etcd answers',
          { cause: error, details: { hosts: this.options.hosts } },
        );
      },
    );
  }

  private enqueue(key: string): Promise<void> {
    const previous = this.chains.get(key) ?? Promise.resolve();
    const written = previous.then(() => this.write(key));
    const settled = written.catch(() => {});
    this.chains.set(key, settled);
    void settled.then(() => {
      if (this.chains.get(key) !== settled) return;
      this.chains.delete(key);
      this.releaseWhenIdle();
    });
    return written;
  }

  private async write(key: string): Promise<void> {
    if (this.closed) return;
    const registration = this.registrations.get(key);
    if (registration === undefined) {
      await this.client().delete().key(key);
      return;
    }
    const lease = await this.currentLease();
    // The registration may have changed or gone while waiting: write what holds now.
    const now = this.registrations.get(key);
    if (now === undefined) {
      await this.client().delete().key(key);
      return;
    }
    // The service key is put alongside the first key of its service under each lease, not before
    // it: one round trip less when the keys must move to a new lease before the old one ends.
    const service = serviceKey(this.options.basePath, now.service);
    await Promise.all([
      lease.put(key).value(formatMetadata(now.metadata)),
      this.servicesPut.has(service) ? undefined : this.putServiceKey(service, now.service),
    ]);
  }

  private async putServiceKey(key: string, service: string): Promise<void> {
    await this.client().put(key).value(service);
    this.servicesPut.add(key);
  }

  private client() {
    this.handle ??= this.options.pool.acquire(this.options, 'registry');
    return this.handle.client;
  }

  private currentLease(): Promise<Lease> {
    if (this.lease !== undefined && !this.lease.revoked()) return Promise.resolve(this.lease);
    this.granting ??= this.grant().finally(() => {
      this.granting = undefined;
    });
    return this.granting;
  }

  private async grant(): Promise<Lease> {
    const lease = this.client().lease(this.ttlSeconds, { autoKeepAlive: true });
    lease.on('lost', (error: Error) => {
      if (this.lease !== lease) return;
      this.lease = undefined;
      this.needsRepair(error);
    });
    // etcd away: the keys live until the TTL runs out, and the lease keeps trying meanwhile.
    lease.on('keepaliveFailed', (error: unknown) => {
      if (this.lease === lease && this.registrations.size > 0) this.markUnreachable(error);
    });
    let answeredAt = this.options.scheduler.now();
    lease.on('keepaliveSucceeded', () => {
      answeredAt = this.options.scheduler.now();
      if (this.lease === lease && !this.repairing) this.markRegistered();
    });
    // A failed grant stops the lease by itself (and reports it lost, ignored above).
    await lease.grant();
    if (this.closed) {
      await lease.revoke().catch(() => {});
      throw new ConnectionError('the etcd registry is closed');
    }
    answeredAt = this.options.scheduler.now();
    this.lease = lease;
    this.servicesPut.clear();
    this.watchKeepalive(lease, () => answeredAt);
    return lease;
  }

  /**
   * The lease's keepalives go to one member; if that member stops answering without closing
   * its socket, they may go unanswered until the lease runs out. etcd3 sends one every third of
   * the TTL; when none was answered for a third plus a twelfth (one missed, with a margin for a
   * slow answer), move the keys to a new lease (granted and put through any member that
   * answers) while 7/12 of the old one's TTL is left, and let the old one go.
   */
  private watchKeepalive(lease: Lease, answeredAt: () => number): void {
    const ttlMs = this.ttlSeconds * 1_000;
    const silenceLimitMs = ttlMs / 3 + ttlMs / 12;
    const periodMs = Math.max(100, Math.floor(ttlMs / 24));
    this.keepaliveWatch?.unsubscribe();
    const registry = this;
    this.keepaliveWatch = this.options.scheduler.schedule(function check() {
      if (registry.lease !== lease) return;
      const silentMs = registry.options.scheduler.now() - answeredAt();
      if (silentMs <= silenceLimitMs) {
        this.schedule(undefined, periodMs);
        return;
      }
      registry.lease = undefined;
      lease.release();
      registry.needsRepair(
        new Error(`no keepalive of the registration lease was answered for ${silentMs} ms`),
      );
    }, periodMs);
  }

  /** A write failed or the lease was lost: put every registration again until etcd takes them. */
  private needsRepair(error: unknown): void {
    if (this.closed || this.registrations.size === 0) return;
    this.markUnreachable(error);
    if (this.repairing) {
      this.repairAgain = true;
      return;
    }
    this.repairing = true;
    void this.repair();
  }

  private markUnreachable(error: unknown): void {
    if (this.state.value === 'unreachable' || this.closed) return;
    this.state.next('unreachable');
    this.options.logger.warn(
      `etcd registry: cannot keep ${this.registrations.size} registration(s) in etcd ` +
        `(${this.options.hosts.join(', ')}): ${(error as Error)?.message ?? String(error)}; retrying`,
      { hosts: this.options.hosts },
    );
  }

  private markRegistered(): void {
    if (this.state.value !== 'unreachable' || this.closed) return;
    this.state.next('registered');
    this.options.logger.warn(
      `etcd registry: ${this.registrations.size} registration(s) are in etcd again (${this.options.hosts.join(', ')})`,
      { hosts: this.options.hosts },
    );
  }

  private async repair(): Promise<void> {
    let attempt = 0;
    let restored = false;
    while (!this.closed && this.registrations.size > 0) {
      this.repairAgain = false;
      try {
        await this.currentLease();
        await Promise.all([...this.registrations.keys()].map((key) => this.enqueue(key)));
        if (!this.repairAgain) {
          restored = true;
          break;
        }
      } catch {
        await this.pause(attempt++);
      }
    }
    this.repairing = false;
    if (restored) this.markRegistered();
    this.releaseWhenIdle();
  }

  /** Waits before the next attempt (see {@link retryBackoff}); ends at once on close. */
  private pause(attempt: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeRetry = resolve;
      this.retryTimer = this.options.scheduler.schedule(resolve, this.backoff(attempt));
    });
  }

  /** Nothing registered and nothing in flight: revoke the lease and let the connection go. */
  private releaseWhenIdle(): void {
    if (this.registrations.size > 0 || this.chains.size > 0 || this.repairing || this.closed) return;
    if (this.handle === undefined) return;
    this.state.next('idle');
    const releasing = this.releaseLease().finally(() => {
      if (this.releasing === releasing) this.releasing = undefined;
    });
    this.releasing = releasing;
  }

  private async releaseLease(): Promise<void> {
    const lease = this.lease;
    const handle = this.handle;
    this.lease = undefined;
    this.handle = undefined;
    this.servicesPut.clear();
    this.keepaliveWatch?.unsubscribe();
    this.keepaliveWatch = undefined;
    await this.granting?.catch(() => {});
    if (lease !== undefined) await lease.revoke().catch(() => {}); // revoke stops the keepalive even when etcd is away
    handle?.release();
  }
}
