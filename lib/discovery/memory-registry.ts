import { BehaviorSubject, defer, EMPTY } from 'rxjs';
import { describeValue, optionsObject } from '../util/validate.js';
import { closableDiscovery } from './closable-discovery.js';
import { checkAddress, createInstance } from './create-instance.js';
import type { Discovery } from './discovery.js';
import { checkGroup } from './instance-filters.js';
import { sameInstances } from './same-instances.js';
import type { ServiceInstance } from './service-instance.js';
import type { ServiceRegistry } from './service-registry.js';

/**
 * Options of {@link MemoryRegistry.discovery}.
 *
 * @example
 * ```ts
 * registry.discovery('Arith', { group: 'blue' } satisfies MemoryDiscoveryOptions);
 * ```
 * @group Discovery
 */
export interface MemoryDiscoveryOptions {
  /** Report only the instances whose metadata `group` lists this name. Default: every instance. */
  readonly group?: string;
}

/**
 * An in-process registry: servers register into it and clients discover from it, with no
 * network. The embedded default, and a registry for tests.
 *
 * @example
 * ```ts
 * const registry: MemoryRegistry = memoryRegistry();
 * registry.register('Arith', 'tcp@127.0.0.1:8972', 'weight=10');
 * registry.instances('Arith'); // [{ key: 'tcp@127.0.0.1:8972', address: ..., metadata: { weight: '10' } }]
 * ```
 * @group Discovery
 */
export interface MemoryRegistry extends ServiceRegistry {
  /**
   * Publishes `service` at `address` with metadata in query format (default none). Registering
   * the same service and address again replaces its metadata. Ignored after `close()`.
   *
   * @throws TypeError when an argument is not a string; RangeError when `service` is empty, the
   *   address does not parse, or the metadata holds a malformed percent-escape.
   */
  register(service: string, address: string, metadata?: string): void;
  /**
   * Withdraws `service` at `address`; nothing happens when it was not registered, or after
   * `close()`.
   *
   * @throws TypeError when an argument is not a string; RangeError when `service` is empty or the
   *   address does not parse.
   */
  unregister(service: string, address: string): void;
  /**
   * Watches one service: `instances$` emits its current list (ordered by key, the address as
   * registered) to each subscriber, then each changed list, until the discovery's or the
   * registry's `close()`. Inactive instances are reported; `group` keeps only that group's.
   * Its `describe()` names the registry, the service and the group.
   *
   * @throws TypeError or RangeError for an empty or non-string `service`, non-object options, or a
   *   bad `group` (empty, with a comma).
   */
  discovery(service: string, options?: MemoryDiscoveryOptions): Discovery;
  /**
   * The current instances of one service, ordered by key (a frozen snapshot).
   *
   * @throws TypeError or RangeError for an empty or non-string `service`.
   */
  instances(service: string): readonly ServiceInstance[];
  /** Completes every watch and forgets every instance. Idempotent. */
  close(): void;
}

const NO_INSTANCES: readonly ServiceInstance[] = Object.freeze([]);

/**
 * Creates an in-process {@link MemoryRegistry}: give it to a server as a registry and take
 * discoveries from it for clients. A change to one service emits only to that service's
 * watchers, and only when its list actually changed.
 *
 * @example
 * ```ts
 * const registry = memoryRegistry();
 * const server = new Server({ registries: [registry] });
 * await server.listen('tcp@127.0.0.1:0');
 * const client = new XClient('Arith', { discovery: registry.discovery('Arith') });
 * ```
 * @group Discovery
 */
export function memoryRegistry(): MemoryRegistry {
  const services = new Map<string, BehaviorSubject<readonly ServiceInstance[]>>();
  let closed = false;

  const watch = (service: string): BehaviorSubject<readonly ServiceInstance[]> => {
    let subject = services.get(service);
    if (subject === undefined) {
      subject = new BehaviorSubject(NO_INSTANCES);
      services.set(service, subject);
    }
    return subject;
  };

  const publish = (service: string, change: (byKey: Map<string, ServiceInstance>) => void): void => {
    const subject = watch(service);
    const byKey = new Map(subject.getValue().map((instance) => [instance.key, instance]));
    change(byKey);
    const list = Object.freeze([...byKey.values()].sort(byInstanceKey));
    if (!sameInstances(list, subject.getValue())) subject.next(list);
  };

  return Object.freeze({
    register(service: string, address: string, metadata = ''): void {
      checkService('register service', service);
      const instance = createInstance('register address', address, 'register metadata', metadata);
      if (closed) return;
      publish(service, (byKey) => byKey.set(instance.key, instance));
    },
    unregister(service: string, address: string): void {
      checkService('unregister service', service);
      checkAddress('unregister address', address);
      if (closed || !services.has(service)) return;
      publish(service, (byKey) => byKey.delete(address));
    },
    discovery(service: string, options?: MemoryDiscoveryOptions): Discovery {
      checkService('discovery service', service);
      const { group } = optionsObject('discovery options', options);
      if (group !== undefined) checkGroup('discovery group', group);
      return closableDiscovery(
        defer(() => (closed ? EMPTY : watch(service))),
        group,
        () => ({
          source: `a memoryRegistry, service "${service}"${closed ? ' (the registry is closed)' : ''}`,
        }),
      );
    },
    instances(service: string): readonly ServiceInstance[] {
      checkService('instances service', service);
      return services.get(service)?.getValue() ?? NO_INSTANCES;
    },
    close(): void {
      if (closed) return;
      closed = true;
      for (const subject of services.values()) subject.complete();
      services.clear();
    },
  });
}

function checkService(name: string, service: unknown): void {
  if (typeof service !== 'string')
    throw new TypeError(`${name} must be a string, got ${describeValue(service)}`);
  if (service === '') throw new RangeError(`${name} must not be empty`);
}

function byInstanceKey(a: ServiceInstance, b: ServiceInstance): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}
