import { BehaviorSubject } from 'rxjs';
import { describeValue } from '../util/validate.js';
import { createInstance } from './create-instance.js';
import type { Discovery } from './discovery.js';
import type { ServiceInstance } from './service-instance.js';

/**
 * One server given to {@link multipleServersDiscovery} (Go's `KVPair`).
 *
 * @example
 * ```ts
 * const pair: ServerPair = { address: 'tcp@10.0.0.1:8972', metadata: 'weight=10' };
 * ```
 * @group Discovery
 */
export interface ServerPair {
  /** `tcp@host:port`, `unix@/path` or `host:port`; also the instance's key. */
  readonly address: string;
  /** The server's metadata in query format (`weight=10&group=a`). Default: none. */
  readonly metadata?: string;
}

/**
 * A {@link Discovery} over a list of servers that the program itself keeps up to date.
 *
 * @example
 * ```ts
 * const discovery: MultipleServersDiscovery = multipleServersDiscovery([{ address: 'tcp@10.0.0.1:8972' }]);
 * discovery.update([{ address: 'tcp@10.0.0.2:8972' }]);
 * discovery.close();
 * ```
 * @group Discovery
 */
export interface MultipleServersDiscovery extends Discovery {
  /**
   * Replaces the list and re-emits it (even when unchanged; pipe through `usableInstances` to
   * drop repeats). Ignored after `close()`.
   *
   * @throws like {@link multipleServersDiscovery} for bad pairs, leaving the list as it was.
   */
  update(pairs: readonly ServerPair[]): void;
  /** Completes `instances$`. Idempotent. */
  close(): void;
}

/**
 * Discovery of a fixed set of servers that may be replaced later (Go's
 * `NewMultipleServersDiscovery` and `Update`). `instances$` replays the current list to each new
 * subscriber, emits every list given to `update`, in the order given, and completes on `close`.
 * `describe()` says how many servers the list holds.
 *
 * @throws TypeError when `pairs` is not an array, an entry not an object, or an address or
 *   metadata not a string; RangeError naming the entry (`pairs[1].address`) when an address does
 *   not parse, repeats an earlier one, or metadata holds a malformed percent-escape.
 * @example
 * ```ts
 * const discovery = multipleServersDiscovery([
 *   { address: 'tcp@10.0.0.1:8972', metadata: 'weight=10' },
 *   { address: 'tcp@10.0.0.2:8972' },
 * ]);
 * discovery.update([{ address: 'tcp@10.0.0.3:8972' }]);
 * ```
 * @group Discovery
 */
export function multipleServersDiscovery(pairs: readonly ServerPair[]): MultipleServersDiscovery {
  const subject = new BehaviorSubject(toInstances(pairs));
  let closed = false;
  return Object.freeze({
    instances$: subject.asObservable(),
    describe: () => {
      const count = subject.getValue().length;
      return {
        source: `multipleServersDiscovery of ${count} server${count === 1 ? '' : 's'}${closed ? ' (closed)' : ''}`,
      };
    },
    update(next: readonly ServerPair[]): void {
      const list = toInstances(next);
      if (!closed) subject.next(list);
    },
    close(): void {
      closed = true;
      subject.complete();
    },
  });
}

function toInstances(pairs: unknown): readonly ServiceInstance[] {
  if (!Array.isArray(pairs)) throw new TypeError(`pairs must be an array, got ${describeValue(pairs)}`);
  const seen = new Map<string, number>();
  const list = pairs.map((pair: unknown, index) => {
    const name = `pairs[${index}]`;
    if (typeof pair !== 'object' || pair === null || Array.isArray(pair))
      throw new TypeError(`${name} must be an object { address, metadata? }, got ${describeValue(pair)}`);
    const { address, metadata = '' } = pair as { address?: unknown; metadata?: unknown };
    const instance = createInstance(`${name}.address`, address, `${name}.metadata`, metadata);
    const earlier = seen.get(instance.key);
    if (earlier !== undefined)
      throw new RangeError(`${name}.address "${instance.key}" repeats pairs[${earlier}].address`);
    seen.set(instance.key, index);
    return instance;
  });
  return Object.freeze(list);
}
