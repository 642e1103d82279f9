import type { Observable } from 'rxjs';
import type { ServiceInstance } from './service-instance.js';

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
 */
export interface Discovery {
  /** The current servers, re-emitted on every change. */
  readonly instances$: Observable<readonly ServiceInstance[]>;
  /** Stops watching and releases what the discovery holds. Idempotent. */
  close?(): void;
}
