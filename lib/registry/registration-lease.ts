import type { Etcd3, Lease } from 'etcd3';
import {
  fromEvent,
  map,
  merge,
  type Observable,
  type SchedulerLike,
  type Subscription,
  startWith,
  switchMap,
  takeWhile,
  timer,
} from 'rxjs';
import { ConnectionError } from '../errors/index.js';
import type { EtcdHandle } from './etcd-client.js';
import type { RegistryEvent } from './registry-phase.js';

/** @internal What the lease of a registry's keys reports. */
export type LeaseEvent = Extract<RegistryEvent, { readonly type: 'answered' | 'unanswered' | 'lost' }>;

/**
 * What happens to a granted `lease`, up to and including its end (`lost`).
 *
 * The lease's keepalives go to one member; if that member stops answering without closing its
 * socket, they may go unanswered until the lease runs out. etcd3 sends one every third of the
 * TTL; once none was answered for more than a third plus a twelfth (one missed, with a margin
 * for a slow answer) the lease counts as lost, so that the keys move to a new lease (granted and
 * put through any member that answers) while 7/12 of the old one's TTL is left.
 *
 * @internal
 */
export function leaseEvents(
  lease: Lease,
  ttlSeconds: number,
  scheduler: SchedulerLike,
): Observable<LeaseEvent> {
  const ttlMs = ttlSeconds * 1_000;
  const silenceLimitMs = Math.floor(ttlMs / 3 + ttlMs / 12) + 1;
  const answered$ = fromEvent(lease, 'keepaliveSucceeded').pipe(
    map((): LeaseEvent => ({ type: 'answered' })),
  );
  const silent$ = answered$.pipe(
    startWith(undefined),
    switchMap(() => timer(silenceLimitMs, scheduler)),
    map(
      (): LeaseEvent => ({
        type: 'lost',
        error: new Error(`no keepalive of the registration lease was answered for ${silenceLimitMs} ms`),
      }),
    ),
  );
  return merge(
    answered$,
    fromEvent(lease, 'keepaliveFailed').pipe(map((error): LeaseEvent => ({ type: 'unanswered', error }))),
    fromEvent(lease, 'lost').pipe(map((error): LeaseEvent => ({ type: 'lost', error }))),
    silent$,
  ).pipe(takeWhile((event) => event.type !== 'lost', true));
}

/**
 * A registry's hold on etcd from its first write until nothing is left to keep: a client from
 * its pool, and the lease its keys go under. The lease is granted on first use (the writes
 * waiting for it share one grant), watched while it lasts (what happens to it goes to `report`)
 * and granted anew once lost.
 *
 * @internal
 */
export class RegistrationLease {
  readonly client: Etcd3;
  readonly #handle: EtcdHandle;
  readonly #ttlSeconds: number;
  readonly #scheduler: SchedulerLike;
  readonly #report: (event: LeaseEvent) => void;
  /** The current lease, or its grant under way. */
  #lease: Promise<Lease> | undefined;
  /** The events of the current lease. */
  #watch: Subscription | undefined;
  /** Service keys put alongside the current lease's keys. */
  readonly #servicesPut = new Set<string>();
  #released = false;

  constructor(
    handle: EtcdHandle,
    ttlSeconds: number,
    scheduler: SchedulerLike,
    report: (event: LeaseEvent) => void,
  ) {
    this.#handle = handle;
    this.client = handle.client;
    this.#ttlSeconds = ttlSeconds;
    this.#scheduler = scheduler;
    this.#report = report;
  }

  /**
   * The current lease, granted if there is none.
   *
   * @throws (as a rejection) what etcd failed with; ConnectionError when released meanwhile.
   */
  current(): Promise<Lease> {
    this.#lease ??= this.#grant().catch((error: unknown) => {
      this.#lease = undefined;
      throw error;
    });
    return this.#lease;
  }

  /**
   * Puts `key` = `service` unless it was put under the current lease: the service key goes
   * alongside the first key of its service under each lease, not before it (one round trip less
   * when the keys must move before the old lease ends), and again under a new lease in case the
   * old one went with etcd's data.
   */
  async putServiceKey(key: string, service: string): Promise<void> {
    if (this.#servicesPut.has(key)) return;
    await this.client.put(key).value(service);
    this.#servicesPut.add(key);
  }

  /** Revokes the lease (deleting its keys) and lets the client go. Call it once. */
  async release(): Promise<void> {
    this.#released = true;
    this.#watch?.unsubscribe();
    const lease = await this.#lease?.catch(() => undefined);
    // Revoking stops the keepalives even when etcd is away.
    await lease?.revoke().catch(() => {});
    this.#handle.release();
  }

  async #grant(): Promise<Lease> {
    const lease = this.client.lease(this.#ttlSeconds, { autoKeepAlive: true });
    // A failed grant ends the lease by itself (reporting it lost to no one).
    await lease.grant();
    if (this.#released) {
      await lease.revoke().catch(() => {});
      throw new ConnectionError('the etcd registry is closed');
    }
    this.#servicesPut.clear();
    this.#watch?.unsubscribe();
    this.#watch = leaseEvents(lease, this.#ttlSeconds, this.#scheduler).subscribe((event) => {
      if (event.type === 'lost') {
        this.#lease = undefined;
        lease.release();
      }
      this.#report(event);
    });
    return lease;
  }
}
