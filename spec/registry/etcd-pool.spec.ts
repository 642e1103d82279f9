import { firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultEtcdPool } from '../../lib/registry/etcd-pool.js';
import { resetFakeEtcd } from './fake-etcd.js';

// etcd clients, faked: the spec counts the clients made and closed.
vi.mock('../../lib/registry/etcd-client.js', async () => {
  const { fakeEtcd } = await import('./fake-etcd.js');
  return { createEtcdClient: () => fakeEtcd().client() };
});

const { EtcdPool, etcdDiscovery, etcdRegistry } = await import('../../lib/registry/index.js');

const hosts = 'http://127.0.0.1:2379';
const logger = { warn() {} };

describe('EtcdPool', () => {
  afterEach(() => {
    expect(defaultEtcdPool.openClients).toBe(0);
  });

  it('EtcdPool - registries given different pools each have a client of their own, closed with them', async () => {
    const etcd = resetFakeEtcd();
    const pools = [new EtcdPool(), new EtcdPool()];
    const registries = pools.map((pool) => etcdRegistry({ hosts, logger, pool }));
    await Promise.all(registries.map((registry, i) => registry.register('S', `tcp@127.0.0.1:${i + 1}`)));
    expect(etcd.clientsMade).toBe(2);
    expect(pools.map((pool) => pool.openClients)).toEqual([1, 1]);
    expect(defaultEtcdPool.openClients).toBe(0);

    await registries[0]?.close();
    expect(pools.map((pool) => pool.openClients)).toEqual([0, 1]);
    await registries[1]?.close();
    expect(pools.map((pool) => pool.openClients)).toEqual([0, 0]);
    expect(etcd.clientsClosed).toBe(2);
  });

  it('EtcdPool - registries given no pool share the default pool: one client, closed after the last of them', async () => {
    const etcd = resetFakeEtcd();
    const registries = [etcdRegistry({ hosts, logger }), etcdRegistry({ hosts, logger })];
    await Promise.all(registries.map((registry, i) => registry.register('S', `tcp@127.0.0.1:${i + 1}`)));
    expect(etcd.clientsMade).toBe(1);
    expect(defaultEtcdPool.openClients).toBe(1);

    await registries[0]?.close();
    expect(etcd.clientsClosed).toBe(0);
    await registries[1]?.close();
    expect(etcd.clientsClosed).toBe(1);
  });

  it('EtcdPool - discoveries of one service share a watch within a pool, never across pools', async () => {
    const etcd = resetFakeEtcd();
    const mine = new EtcdPool();
    const discoveries = [
      etcdDiscovery({ hosts, logger, service: 'S', pool: mine }),
      etcdDiscovery({ hosts, logger, service: 'S', pool: mine }),
      etcdDiscovery({ hosts, logger, service: 'S' }),
      etcdDiscovery({ hosts, logger, service: 'S' }),
    ];
    const firstLists = Promise.all(discoveries.map((discovery) => firstValueFrom(discovery.instances$)));
    const watching = discoveries.map((discovery) => discovery.instances$.subscribe());
    expect(await firstLists).toEqual([[], [], [], []]);
    // One watch, with a client of its own, per pool.
    expect(etcd.clientsMade).toBe(2);
    expect(mine.openClients).toBe(1);
    expect(defaultEtcdPool.openClients).toBe(1);

    for (const subscription of watching) subscription.unsubscribe();
    await Promise.all(discoveries.map((discovery) => discovery.close()));
    expect(mine.openClients).toBe(0);
    expect(etcd.clientsClosed).toBe(2);
  });

  it('EtcdPool - a pool option that is not an EtcdPool is refused at once', () => {
    expect(() => etcdRegistry({ hosts, pool: {} as never })).toThrow(
      new TypeError('pool must be an EtcdPool (new EtcdPool()), got an object'),
    );
    expect(() => etcdDiscovery({ hosts, service: 'S', pool: 'shared' as never })).toThrow(TypeError);
  });
});
