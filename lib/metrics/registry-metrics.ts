import type { Observable, Subscription } from 'rxjs';
import type { Discovery } from '../discovery/discovery.js';
import { describeValue } from '../util/validate.js';
import { BoundCounter, BoundGauge, sharedMetric } from './bound-metrics.js';
import { type MetricsOptions, resolveMetricsOptions } from './metrics-options.js';

/**
 * What {@link registryMetrics} and {@link discoveryMetrics} installed; `stop()` stops counting.
 *
 * @example
 * ```ts
 * const metrics = registryMetrics(registry);
 * metrics.stop();
 * ```
 */
export interface WatchMetrics {
  /** Stops watching. Idempotent. */
  stop(): void;
}

/** The states an etcd registry reports (`EtcdRegistryState`). */
const REGISTRY_STATES = ['idle', 'registered', 'unreachable', 'closed'] as const;

/**
 * Counts a registry's states from its `state$` (an `EtcdRegistry` of `phobos/etcd`, or anything
 * with the same `state$`):
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `phobos_registry_state` | gauge: registries in each state | state (`idle`, `registered`, `unreachable`, `closed`) |
 * | `phobos_registry_transitions_total` | counter | to |
 * | `phobos_registry_recoveries_total` | counter: registrations put again on a new lease after etcd was lost | |
 *
 * @throws TypeError when `registry` has no `state$` observable; TypeError or RangeError for bad
 *   options (see {@link MetricsOptions}).
 * @example
 * ```ts
 * const registry = etcdRegistry({ hosts: 'http://127.0.0.1:2379' });
 * registryMetrics(registry);
 * ```
 */
export function registryMetrics(
  registry: { readonly state$: Observable<string> },
  options?: MetricsOptions,
): WatchMetrics {
  const state$ = (registry as Partial<{ state$: Observable<string> }> | null)?.state$;
  if (typeof state$?.subscribe !== 'function')
    throw new TypeError(`registryMetrics needs a registry with state$, got ${describeValue(registry)}`);
  const o = resolveMetricsOptions(options);
  const p = `${o.prefix}registry_`;
  const states = sharedMetric(
    o.registry,
    new BoundGauge(`${p}state`, 'Registries in each state.', ['state']),
  );
  for (const state of REGISTRY_STATES) states.bind(state);
  const transitions = sharedMetric(
    o.registry,
    new BoundCounter(`${p}transitions_total`, 'Registry state changes, by the state entered.', ['to']),
  );
  const recoveries = sharedMetric(
    o.registry,
    new BoundCounter(
      `${p}recoveries_total`,
      'Times the registrations were put again on a new lease after etcd was lost.',
      [],
    ),
  ).bind();
  let current: string | undefined;
  const subscription: Subscription = state$.subscribe((state) => {
    if (!(REGISTRY_STATES as readonly string[]).includes(state) || state === current) return;
    if (current !== undefined) {
      states.bind(current).value--;
      transitions.bind(state).value++;
      if (current === 'unreachable' && state === 'registered') recoveries.value++;
    }
    states.bind(state).value++;
    current = state;
  });
  return {
    stop() {
      if (subscription.closed) return;
      subscription.unsubscribe();
      if (current !== undefined) states.bind(current).value--;
      current = undefined;
    },
  };
}

/**
 * Counts what a discovery gives for one service, from its `instances$`:
 * `phobos_discovery_instances{service}` (servers in the latest list) and
 * `phobos_discovery_updates_total{service}` (lists received); for an etcd discovery also
 * `phobos_discovery_watch_restarts_total{service}` (times its watch was lost and restarted).
 *
 * @throws TypeError when `discovery` has no `instances$` or `service` is not a non-empty string;
 *   TypeError or RangeError for bad options.
 * @example
 * ```ts
 * discoveryMetrics(etcdDiscovery({ hosts, service: 'HelloWorld' }), 'HelloWorld');
 * ```
 */
export function discoveryMetrics(
  discovery: Discovery,
  service: string,
  options?: MetricsOptions,
): WatchMetrics {
  if (typeof (discovery as Partial<Discovery> | null)?.instances$?.subscribe !== 'function')
    throw new TypeError(`discoveryMetrics needs a Discovery (instances$), got ${describeValue(discovery)}`);
  if (typeof service !== 'string' || service === '')
    throw new TypeError(`service must be a non-empty string, got ${describeValue(service)}`);
  const o = resolveMetricsOptions(options);
  const p = `${o.prefix}discovery_`;
  const instances = sharedMetric(
    o.registry,
    new BoundGauge(`${p}instances`, 'Servers in the latest list discovery gave.', ['service']),
  ).bind(service);
  const updates = sharedMetric(
    o.registry,
    new BoundCounter(`${p}updates_total`, 'Lists discovery gave.', ['service']),
  ).bind(service);
  const restarts = sharedMetric(
    o.registry,
    new BoundCounter(`${p}watch_restarts_total`, 'Times the watch was lost and restarted.', ['service']),
  ).bind(service);
  let counted = 0;
  const subscription = discovery.instances$.subscribe((list) => {
    instances.value += list.length - counted;
    counted = list.length;
    updates.value++;
  });
  const watchEvents$ = (discovery as Partial<{ watchEvents$: Observable<{ readonly type: string }> }>)
    .watchEvents$;
  if (typeof watchEvents$?.subscribe === 'function')
    subscription.add(
      watchEvents$.subscribe((event) => {
        if (event.type === 'lost') restarts.value++;
      }),
    );
  return {
    stop() {
      if (subscription.closed) return;
      subscription.unsubscribe();
      instances.value -= counted;
      counted = 0;
    },
  };
}
