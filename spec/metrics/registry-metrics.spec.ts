import { Registry } from 'prom-client';
import { BehaviorSubject, firstValueFrom } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { multipleServersDiscovery, Server, silentLogger } from '../../lib/index.js';
import { discoveryMetrics, registryMetrics } from '../../lib/metrics/index.js';
import { etcdDiscovery, etcdRegistry } from '../../lib/registry/index.js';
import { startEtcd, stopAllEtcd } from '../support/etcd.js';
import { freshBasePath } from '../support/etcd-helpers.js';
import { trackHandles } from '../support/handles.js';
import { metricValue } from '../support/metric-value.js';

const { defer } = trackHandles();
afterAll(stopAllEtcd);

describe('registryMetrics and discoveryMetrics', () => {
  it('a real etcd registry: registered while the server serves, closed after shutdown', {
    timeout: 60_000,
  }, async () => {
    const etcd = await startEtcd({ name: 'metrics' });
    defer(() => etcd.remove());
    const registry = etcdRegistry({ hosts: etcd.clientUrl, basePath: freshBasePath() });
    const metrics = new Registry();
    registryMetrics(registry, { registry: metrics });
    expect(await metricValue(metrics, 'phobos_registry_state', { state: 'idle' })).toBe(1);
    const server = new Server({ registries: [registry], logger: silentLogger });
    server.register('Echo', { Say: (text: string) => text });
    await server.listen('tcp@127.0.0.1:0');
    expect(await metricValue(metrics, 'phobos_registry_state', { state: 'registered' })).toBe(1);
    expect(await metricValue(metrics, 'phobos_registry_state', { state: 'idle' })).toBe(0);
    await server.shutdown({ graceMs: 0 });
    await registry.close();
    expect(await metricValue(metrics, 'phobos_registry_state', { state: 'closed' })).toBe(1);
    expect(await metricValue(metrics, 'phobos_registry_transitions_total', { to: 'registered' })).toBe(1);
  });

  it('an etcd discovery: a watch lost when etcd stops and restored when it is back counts one restart', {
    timeout: 60_000,
  }, async () => {
    const etcd = await startEtcd({ name: 'metrics-watch' });
    defer(() => etcd.remove());
    const basePath = freshBasePath();
    const discovery = etcdDiscovery({
      hosts: etcd.clientUrl,
      basePath,
      service: 'HelloWorld',
      logger: silentLogger,
      requestTimeoutMs: 1_000,
      retryMaxMs: 200,
    });
    defer(() => discovery.close());
    const metrics = new Registry();
    const watch = discoveryMetrics(discovery, 'HelloWorld', { registry: metrics });
    defer(() => watch.stop());
    const events: string[] = [];
    const restored = new Promise<void>((resolve) =>
      discovery.watchEvents$.subscribe((event) => {
        events.push(event.type);
        if (event.type === 'restored') resolve();
      }),
    );
    await firstValueFrom(discovery.instances$);
    await etcd.stop();
    await etcd.restart();
    await restored;
    expect(events).toEqual(['lost', 'restored']);
    expect(
      await metricValue(metrics, 'phobos_discovery_watch_restarts_total', { service: 'HelloWorld' }),
    ).toBe(1);
  });

  it('a recovery is counted when registrations come back after etcd was unreachable; stop() takes it out', async () => {
    const state$ = new BehaviorSubject('idle');
    const metrics = new Registry();
    const watch = registryMetrics({ state$ }, { registry: metrics });
    for (const state of ['registered', 'unreachable', 'unreachable', 'registered', 'bogus'])
      state$.next(state);
    expect(await metricValue(metrics, 'phobos_registry_recoveries_total')).toBe(1);
    expect(await metricValue(metrics, 'phobos_registry_transitions_total', { to: 'unreachable' })).toBe(1);
    expect(await metricValue(metrics, 'phobos_registry_state', { state: 'registered' })).toBe(1);
    watch.stop();
    watch.stop();
    expect(await metricValue(metrics, 'phobos_registry_state', { state: 'registered' })).toBe(0);
  });

  it('discovery: the latest list size and the lists given, per service', async () => {
    const discovery = multipleServersDiscovery([
      { address: 'tcp@127.0.0.1:1' },
      { address: 'tcp@127.0.0.1:2' },
    ]);
    defer(() => discovery.close());
    const metrics = new Registry();
    const watch = discoveryMetrics(discovery, 'HelloWorld', { registry: metrics });
    expect(await metricValue(metrics, 'phobos_discovery_instances', { service: 'HelloWorld' })).toBe(2);
    discovery.update([{ address: 'tcp@127.0.0.1:3' }]);
    expect(await metricValue(metrics, 'phobos_discovery_instances', { service: 'HelloWorld' })).toBe(1);
    expect(await metricValue(metrics, 'phobos_discovery_updates_total', { service: 'HelloWorld' })).toBe(2);
    watch.stop();
    expect(await metricValue(metrics, 'phobos_discovery_instances', { service: 'HelloWorld' })).toBe(0);
  });

  it('refuses what is not a registry or a discovery', () => {
    expect(() => registryMetrics({} as never)).toThrow(/registryMetrics needs a registry with state\$/);
    expect(() => discoveryMetrics({} as never, 'S')).toThrow(/discoveryMetrics needs a Discovery/);
    expect(() => discoveryMetrics(multipleServersDiscovery([]), '')).toThrow(
      /service must be a non-empty string/,
    );
  });
});
