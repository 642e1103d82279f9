import type { Observable } from 'rxjs';
import type { ServiceInstance } from './service-instance.js';

/**
 * What a discovery says of itself, for the errors of a client that has no server to call: where
 * it looks, and what last went wrong there.
 *
 * @example
 * ```ts
 * const state: DiscoveryState = {
 *   source: 'etcd (http://127.0.0.1:2379) /phobos/HelloWorld/',
 *   lastError: new Error('14 UNAVAILABLE: No connection established'),
 * };
 * ```
 * @group Discovery
 */
export interface DiscoveryState {
  /** Where the discovery looks, in words: `etcd (http://127.0.0.1:2379) /phobos/Arith/`. */
  readonly source: string;
  /** Why it has no (fresh) list, when it met an error it is retrying; undefined while all is well. */
  readonly lastError?: Error;
}

/**
 * Where a client learns the servers of one service.
 *
 * `instances$` emits the current list on subscription and again on every change (a registry
 * watch is this observable). Lists are never mutated after being emitted.
 *
 * @example
 * ```ts
 * discovery.instances$.subscribe((list) => console.log(list.map((i) => i.key)));
 * ```
 * @group Discovery
 */
export interface Discovery {
  /** The current servers, re-emitted on every change. */
  readonly instances$: Observable<readonly ServiceInstance[]>;
  /** Stops watching and releases what the discovery holds. Idempotent. */
  close?(): void;
  /**
   * Where the discovery looks and what last went wrong there, asked when a call finds no server
   * (the `NoInstanceError` of an XClient names both). Optional: without it the error says only
   * that a discovery of another kind was used. Never throws.
   */
  describe?(): DiscoveryState;
}
