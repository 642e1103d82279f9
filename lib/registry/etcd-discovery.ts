import type { IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import { Observable, ReplaySubject, Subject, type Subscription, share } from 'rxjs';
import { closableDiscovery } from '../discovery/closable-discovery.js';
import { createInstance } from '../discovery/create-instance.js';
import type { Discovery, DiscoveryState } from '../discovery/discovery.js';
import { checkGroup } from '../discovery/instance-filters.js';
import type { ServiceInstance } from '../discovery/service-instance.js';
import { durationOption, optionsObject } from '../util/validate.js';
import type { EtcdHandle } from './etcd-client.js';
import {
  type EtcdConnectionOptions,
  type ResolvedEtcdOptions,
  resolveEtcdOptions,
  retryBackoff,
} from './etcd-options.js';
import type { EtcdPool, SharedWatch } from './etcd-pool.js';
import { holdEmptyAfterDataLoss, type ListUpdate } from './hold-empty.js';
import { checkServiceName, instancePrefix } from './keys.js';

/**
 * Options of {@link etcdDiscovery}.
 *
 * @example
 * ```ts
 * const options: EtcdDiscoveryOptions = { hosts: 'http://127.0.0.1:2379', service: 'HelloWorld' };
 * ```
 * @group Registry
 */
export interface EtcdDiscoveryOptions extends EtcdConnectionOptions {
  /** The service whose servers to watch (`{basePath}/{service}/...`). */
  readonly service: string;
  /** Report only the instances whose metadata `group` lists this name. Default: every instance. */
  readonly group?: string;
  /**
   * How often the watched list is checked against a fresh list of the prefix; a difference
   * means the watch missed changes (its stream stuck on a member that went silent), and the
   * discovery reconnects. Default 30,000 ms.
   */
  readonly resyncMs?: number;
  /**
   * After etcd came back without its data (its revision went backwards: restored empty, a new
   * cluster), registries need a moment to put their keys again: an empty list replaces the
   * known servers only if it is still empty this long after. Default 10,000 ms.
   */
  readonly dataLossGraceMs?: number;
}

/**
 * Default of {@link EtcdDiscoveryOptions.resyncMs}: 30 seconds.
 *
 * @group Registry
 */
export const DEFAULT_ETCD_RESYNC_MS = 30_000;

/**
 * Default of {@link EtcdDiscoveryOptions.dataLossGraceMs}: 10 seconds.
 *
 * @group Registry
 */
export const DEFAULT_ETCD_DATA_LOSS_GRACE_MS = 10_000;

/**
 * What happens to the watch behind an {@link EtcdDiscovery}: `lost` when it failed (etcd
 * unreachable, a stream that missed changes) and is being restarted, `restored` when it watches
 * again. Several failures in a row before it is restored are one `lost`.
 *
 * @example
 * ```ts
 * discovery.watchEvents$.subscribe((event) => console.log(event.type, event.type === 'lost' ? event.reason : ''));
 * ```
 * @group Registry
 */
export type EtcdWatchEvent =
  | {
      /** The watch failed and is being restarted. */
      readonly type: 'lost';
      /** Why, as the failure said it. */
      readonly reason: string;
    }
  | {
      /** The watch is back. */
      readonly type: 'restored';
    };

/**
 * A {@link Discovery} on etcd; `close()` ends this handle's watch (the shared one ends with its
 * last handle). `describe()` names the etcd hosts and the watched prefix, with the error the watch
 * last failed with while it is being restarted.
 * @group Registry
 */
export interface EtcdDiscovery extends Discovery {
  /** The shared watch's losses and restorations, as they happen (hot; for metrics and logs). */
  readonly watchEvents$: Observable<EtcdWatchEvent>;
  /**
   * The etcd hosts and the watched prefix (`etcd (http://127.0.0.1:2379) /phobos/HelloWorld/`),
   * and the error the watch last failed with while it is being restarted. Never throws.
   */
  describe(): DiscoveryState;
  /**
   * Stops this handle's `instances$` (they complete). Idempotent.
   *
   * @returns a promise that resolves once every watch of its pool that ended (this one, if it
   *   was the last handle of its service) has released its connection to etcd.
   */
  close(): Promise<void>;
}

/**
 * Discovers the servers of one service from etcd: lists `{basePath}/{service}/`, then watches
 * it from the revision after that list (no change is lost between the two) and emits the whole
 * current list, ordered by key, on every change.
 *
 * While etcd is unreachable the last list stays (a registry outage never empties a client's
 * list) and nothing new is emitted; the discovery reconnects with backoff and lists again, which
 * also covers a compacted history and an etcd that came back empty. A key or value someone else
 * wrote under the prefix that is not an address with metadata in query form is skipped with a
 * warning. Until the first list arrives nothing is emitted, so calls wait for it (up to their
 * deadline); an unreachable etcd is reported to the logger.
 *
 * The discoveries of one service (same hosts, base path and other settings) given the same
 * `pool` (by default the process's) share one watch, started by the first subscriber and
 * stopped after the last one leaves; discoveries given different pools never share one (see
 * {@link EtcdPool}).
 *
 * @throws TypeError or RangeError at once for bad options (no hosts, a bad host URL or base
 *   path, a service name that is empty or holds `/`, a bad group, a pool that is not an
 *   {@link EtcdPool}).
 * @example
 * ```ts
 * import { etcdDiscovery } from 'phobos/etcd';
 *
 * const client = new XClient('HelloWorld', {
 *   discovery: etcdDiscovery({ hosts: 'http://127.0.0.1:2379', service: 'HelloWorld' }),
 *   failMode: 'failover',
 * });
 * ```
 * @group Registry
 */
export function etcdDiscovery(options: EtcdDiscoveryOptions): EtcdDiscovery {
  const resolved = resolveEtcdOptions('etcdDiscovery', options);
  const o = optionsObject('etcdDiscovery options', options);
  const service = checkServiceName('service', o.service);
  const group = o.group;
  if (group !== undefined) checkGroup('group', group);
  const graceMs = durationOption('dataLossGraceMs', o.dataLossGraceMs, DEFAULT_ETCD_DATA_LOSS_GRACE_MS, 0);
  const resyncMs = durationOption('resyncMs', o.resyncMs, DEFAULT_ETCD_RESYNC_MS, 1);
  // Discoveries of a pool share a watch only when every setting agrees (the logger and the
  // scheduler by identity), so that none is left with another's.
  const key = JSON.stringify([
    resolved.hosts,
    resolved.basePath,
    service,
    graceMs,
    resyncMs,
    resolved.dialTimeoutMs,
    resolved.requestTimeoutMs,
    resolved.retryMaxMs,
    identity(resolved.logger),
    identity(resolved.scheduler),
  ]);
  const shared = resolved.pool.watch(key, () => shareWatch(resolved, service, graceMs, resyncMs));
  const source = `etcd (${resolved.hosts.join(', ')}) ${instancePrefix(resolved.basePath, service)}`;
  const handle = closableDiscovery(shared.instances$, group, (): DiscoveryState => {
    const lastError = shared.lastError();
    return lastError === undefined ? { source } : { source, lastError };
  });
  return Object.freeze({
    instances$: handle.instances$,
    watchEvents$: shared.events$,
    describe: handle.describe,
    async close(): Promise<void> {
      handle.close();
      await resolved.pool.closed();
    },
  });
}

/** One watch of `service`, its list held through a data loss and replayed to late subscribers. */
function shareWatch(
  options: ResolvedEtcdOptions,
  service: string,
  graceMs: number,
  resyncMs: number,
): SharedWatch {
  const events = new Subject<EtcdWatchEvent>();
  let lastError: Error | undefined;
  const instances$ = watchService(
    options,
    service,
    graceMs,
    resyncMs,
    (event) => {
      if (events.observed) events.next(event);
    },
    (error) => {
      lastError = error;
    },
  ).pipe(
    holdEmptyAfterDataLoss(graceMs, options.scheduler),
    share({
      connector: () => new ReplaySubject<readonly ServiceInstance[]>(1),
      resetOnRefCountZero: true,
      resetOnComplete: true,
      resetOnError: true,
    }),
  );
  return { instances$, events$: events.asObservable(), lastError: () => lastError };
}

let watchIds = 0;

const identities = new WeakMap<object, number>();
let nextIdentity = 0;

/** A number that stands for `value` in a key: the same object, the same number. */
function identity(value: object): number {
  let id = identities.get(value);
  if (id === undefined) {
    nextIdentity += 1;
    id = nextIdentity;
    identities.set(value, id);
  }
  return id;
}

/**
 * Lists and watches one service's prefix for as long as it is subscribed; never errors.
 *
 * Each watch has an etcd client of its own, and a failure replaces it: a client's watches share
 * one stream, and a stream left on a member that went silent can stop delivering without ever
 * failing, so a new client is the one sure way out. Every `resyncMs` the prefix is listed again
 * and compared with what the watch built; a difference also means a new client.
 */
function watchService(
  options: ResolvedEtcdOptions,
  service: string,
  graceMs: number,
  resyncMs: number,
  report: (event: EtcdWatchEvent) => void,
  noteError: (error: Error | undefined) => void,
): Observable<ListUpdate> {
  const backoff = retryBackoff(options);
  const scheduler = options.scheduler;
  return new Observable<ListUpdate>((subscriber) => {
    const prefix = instancePrefix(options.basePath, service);
    const where = `${prefix} in etcd (${options.hosts.join(', ')})`;
    const purpose = `watch ${++watchIds}`;
    let handle: EtcdHandle | undefined;
    const byKey = new Map<string, ServiceInstance>();
    /** Every key under the prefix and its value as the watch saw them, skipped ones included. */
    const raw = new Map<string, string>();
    /** The bad keys and values already warned about (once each). */
    const skipped = new Set<string>();
    let watcher: Watcher | undefined;
    let timer: Subscription | undefined;
    let resync: Subscription | undefined;
    let attempt = 0;
    let failing = false;
    let stopped = false;
    /** A list-and-watch attempt is under way (it drops the client itself if stopped meanwhile). */
    let starting = false;
    /** The highest revision seen: a list below it means etcd lost its data. */
    let highest: bigint | undefined;

    const publish = (afterDataLoss: boolean): void => {
      const list = Object.freeze([...byKey.values()].sort(byInstanceKey));
      subscriber.next({ list, afterDataLoss });
    };

    const apply = (kv: IKeyValue, deleted: boolean): void => {
      const key = kv.key.toString();
      if (!key.startsWith(prefix)) return;
      if (deleted) {
        byKey.delete(key);
        raw.delete(key);
        return;
      }
      const address = key.slice(prefix.length);
      const metadata = kv.value.toString();
      raw.set(key, metadata);
      try {
        byKey.set(key, createInstance('address', address, 'metadata', metadata));
      } catch (error) {
        byKey.delete(key);
        const seen = `${key}\n${metadata}`;
        if (!skipped.has(seen)) {
          skipped.add(seen);
          options.logger.warn(`etcd discovery: skipping ${key}: ${(error as Error).message}`, {
            key,
            value: metadata,
          });
        }
      }
    };

    /** The release of the last dropped client. */
    let dropped: Promise<void> = Promise.resolve();
    /**
     * Drops the watcher and the client it lives on. The watcher is cancelled first, since the
     * cancel of a client's last watcher ends its gRPC stream (closing the client would leave the
     * stream open); a stream stuck on a silent member never answers, so the client goes after
     * `requestTimeoutMs` at the latest. Resolves once the dropped client is released.
     */
    const dropClient = (): Promise<void> => {
      resync?.unsubscribe();
      resync = undefined;
      const current = watcher;
      const held = handle;
      watcher = undefined;
      handle = undefined;
      if (current !== undefined) {
        current.removeAllListeners();
        current.on('error', () => {});
      }
      if (held === undefined) return dropped;
      if (current === undefined) {
        held.release();
        return dropped;
      }
      dropped = new Promise<void>((resolve) => {
        const release = (): void => {
          giveUp.unsubscribe();
          held.release();
          resolve();
        };
        const giveUp = scheduler.schedule(release, options.requestTimeoutMs);
        current.cancel().then(release, release);
      });
      return dropped;
    };

    const retry = (error: unknown): void => {
      // Several events may report one failure (disconnected, then error): one retry is enough.
      if (stopped || timer !== undefined) return;
      noteError(error instanceof Error ? error : new Error(String(error)));
      void dropClient();
      if (!failing) {
        failing = true;
        report({ type: 'lost', reason: (error as Error)?.message ?? String(error) });
        options.logger.warn(
          `etcd discovery: lost the watch of ${where}: ${(error as Error)?.message ?? String(error)}; ` +
            `keeping ${byKey.size} known server(s) and retrying`,
          { hosts: options.hosts, service },
        );
      }
      timer = scheduler.schedule(() => {
        timer = undefined;
        startAgain();
      }, backoff(attempt++));
    };

    /** Lists again and compares: a watch that missed a change is replaced. */
    const checkWatch = async (): Promise<void> => {
      const current = watcher;
      const client = handle?.client;
      if (current === undefined || client === undefined) return;
      try {
        const listed = await client.getAll().prefix(prefix).exec();
        if (watcher !== current) return;
        const same =
          listed.kvs.length === raw.size &&
          listed.kvs.every((kv) => raw.get(kv.key.toString()) === kv.value.toString());
        if (same) {
          resync = scheduler.schedule(() => void checkWatch(), resyncMs);
          return;
        }
        retry(
          new Error(
            `the watch missed changes (etcd lists ${listed.kvs.length} key(s), the watch knew ${raw.size})`,
          ),
        );
      } catch (error) {
        if (watcher === current) retry(error);
      }
    };

    const start = async (): Promise<void> => {
      starting = true;
      try {
        handle ??= options.pool.acquire(options, purpose);
        const client = handle.client;
        const listed = await client.getAll().prefix(prefix).exec();
        if (stopped) return;
        const revision = BigInt(listed.header.revision);
        const next = revision + 1n;
        const created = await withDeadline(
          client.watch().prefix(prefix).startRevision(next.toString()).create(),
          options.requestTimeoutMs,
          `the watch was not created within ${options.requestTimeoutMs} ms`,
        );
        if (stopped) {
          watcher = created; // cancelled with its client below
          return;
        }
        // The list is applied once the watch exists, so that a failed watch keeps the old list.
        byKey.clear();
        raw.clear();
        for (const kv of listed.kvs) apply(kv, false);
        const lostData = highest !== undefined && revision < highest;
        if (lostData) {
          options.logger.warn(
            `etcd discovery: ${where} came back without its data (revision ${revision} < ${highest}); ` +
              `keeping the known servers for up to ${graceMs} ms while registries put their keys again`,
            { hosts: options.hosts, service },
          );
        }
        highest = revision;
        watcher = created;
        created.on('data', (response: IWatchResponse) => {
          const seen = BigInt(response.header.revision);
          if (highest === undefined || seen > highest) highest = seen;
          for (const event of response.events) apply(event.kv, event.type.toLowerCase() === 'delete');
          publish(false);
        });
        created.on('disconnected', (error: Error) => retry(error));
        created.on('error', (error: Error) => retry(error));
        resync = scheduler.schedule(() => void checkWatch(), resyncMs);
        attempt = 0;
        noteError(undefined);
        if (failing) {
          failing = false;
          report({ type: 'restored' });
          options.logger.warn(`etcd discovery: watching ${where} again`, { hosts: options.hosts, service });
        }
        publish(lostData);
      } catch (error) {
        retry(error);
      } finally {
        starting = false;
        // Unsubscribed meanwhile: the teardown left the client to this attempt.
        if (stopped) await dropClient();
      }
    };

    /** Rejects with `message` when `promise` has not settled within `ms`. */
    const withDeadline = <T>(promise: Promise<T>, ms: number, message: string): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const deadline = scheduler.schedule(() => reject(new Error(message)), ms);
        promise.then(
          (value) => {
            deadline.unsubscribe();
            resolve(value);
          },
          (error: unknown) => {
            deadline.unsubscribe();
            reject(error);
          },
        );
      });

    activeWatches++;
    let attempt$ = start();
    const startAgain = (): void => {
      attempt$ = start();
    };
    return () => {
      activeWatches--;
      stopped = true;
      noteError(undefined);
      timer?.unsubscribe();
      options.pool.closing(starting ? attempt$ : dropClient());
    };
  });
}

function byInstanceKey(a: ServiceInstance, b: ServiceInstance): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

let activeWatches = 0;

/** @internal For tests: how many service watches (list + watch loops) run in this process. */
export function activeWatchCount(): number {
  return activeWatches;
}
