import type { Etcd3 } from 'etcd3';
import type { Observable } from 'rxjs';
import type { ServiceInstance } from '../discovery/service-instance.js';
import { createEtcdClient, type EtcdHandle } from './etcd-client.js';
import type { EtcdWatchEvent } from './etcd-discovery.js';
import type { ResolvedEtcdOptions } from './etcd-options.js';

/** @internal A service watch shared by the discoveries of one pool whose settings all agree. */
export interface SharedWatch {
  /** The lists of the service's servers: the watch runs while subscribed, the last list replayed. */
  readonly instances$: Observable<readonly ServiceInstance[]>;
  /** The watch's losses and restorations, as they happen. */
  readonly events$: Observable<EtcdWatchEvent>;
  /** Why the watch last failed, while it is being restarted; `undefined` while it watches. */
  lastError(): Error | undefined;
}

interface SharedClient {
  readonly client: Etcd3;
  references: number;
}

/**
 * The etcd clients and service watches that registries and discoveries share: the registries of
 * one pool that reach the same hosts with the same timeouts share one etcd client, and the
 * discoveries of one service whose settings all agree share one watch. Each client is closed
 * when the last registry or watch using it lets go.
 *
 * Registries and discoveries given no `pool` option share the process's default pool, which is
 * what a program wants: one connection to etcd, one watch per service. Give a pool of its own to
 * what must not share with the rest of the process (tests that each start and stop their own
 * etcd, parts of a program that should not share a connection to etcd or a watch), or to count
 * what one part of a program holds open.
 *
 * Making a pool never throws and opens nothing; a pool can be handed to any number of
 * registries and discoveries, and holds nothing once they are all closed.
 *
 * @example
 * ```ts
 * import { EtcdPool, etcdDiscovery, etcdRegistry } from 'phobos/etcd';
 *
 * const pool = new EtcdPool();
 * const registry = etcdRegistry({ hosts: 'http://127.0.0.1:2379', pool });
 * const discovery = etcdDiscovery({ hosts: 'http://127.0.0.1:2379', service: 'HelloWorld', pool });
 * // ...
 * await Promise.all([registry.close(), discovery.close()]);
 * pool.openClients; // 0
 * ```
 * @group Registry
 */
export class EtcdPool {
  readonly #clients = new Map<string, SharedClient>();
  readonly #watches = new Map<string, SharedWatch>();
  /** Watches being torn down: each settles once its client is released. */
  readonly #closing = new Set<Promise<void>>();

  /**
   * How many etcd clients the pool holds open now: one per group of registries that share one,
   * one per running watch. 0 once every registry and discovery using the pool is closed. Never
   * throws.
   */
  get openClients(): number {
    return this.#clients.size;
  }

  /**
   * A reference to the pool's etcd client for one purpose, hosts and timeouts: the registries of
   * one cluster share one (`registry`); each watch has its own, since a failed request resets
   * its member's connections, and a watch stream on a reset connection stops without failing.
   * The client closes when the last reference is released.
   *
   * @internal
   */
  acquire(options: ResolvedEtcdOptions, purpose: string): EtcdHandle {
    const key = JSON.stringify([purpose, options.hosts, options.dialTimeoutMs, options.requestTimeoutMs]);
    let entry = this.#clients.get(key);
    if (entry === undefined) {
      entry = { client: createEtcdClient(options), references: 0 };
      this.#clients.set(key, entry);
    }
    entry.references++;
    const held = entry;
    let released = false;
    return {
      client: held.client,
      release: (): void => {
        if (released) return;
        released = true;
        held.references--;
        if (held.references > 0) return;
        this.#clients.delete(key);
        held.client.close();
      },
    };
  }

  /**
   * The watch shared under `key` (built from every setting of the discoveries that may share
   * it), made by `make` the first time it is asked for.
   *
   * @internal
   */
  watch(key: string, make: () => SharedWatch): SharedWatch {
    let watch = this.#watches.get(key);
    if (watch === undefined) {
      watch = make();
      this.#watches.set(key, watch);
    }
    return watch;
  }

  /** @internal Keeps `teardown` (a watch letting its client go) until it settles. */
  closing(teardown: Promise<void>): void {
    this.#closing.add(teardown);
    void teardown.then(() => this.#closing.delete(teardown));
  }

  /** @internal Settles once every watch of the pool being torn down has released its client. */
  async closed(): Promise<void> {
    await Promise.all([...this.#closing]);
  }
}

/**
 * The pool of registries and discoveries given no `pool` option: one per process (per copy of
 * the package).
 *
 * @internal
 */
export const defaultEtcdPool = new EtcdPool();
