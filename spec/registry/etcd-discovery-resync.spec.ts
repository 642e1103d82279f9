import { EventEmitter } from 'node:events';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import type { ServiceInstance } from '../../lib/index.js';
import { advanceTo, settle } from '../support/virtual-time.js';

// The discovery's etcd clients, faked: a store of keys the test edits behind the watch's back,
// and watches that deliver nothing unless the test says so.
const fake = vi.hoisted(() => ({
  store: new Map<string, string>(),
  revision: 10,
  clients: 0,
  released: 0,
  watchers: [] as EventEmitter[],
  /** When false, watch creation never completes (a stream stuck on a silent member). */
  createWatches: true,
}));

vi.mock('../../lib/registry/etcd-client.js', () => ({
  createEtcdClient: () => {
    fake.clients += 1;
    return {
      getAll: () => ({
        prefix: (prefix: string) => ({
          exec: async () => ({
            header: { revision: String(fake.revision) },
            kvs: [...fake.store]
              .filter(([key]) => key.startsWith(prefix))
              .map(([key, value]) => ({ key: Buffer.from(key), value: Buffer.from(value) })),
          }),
        }),
      }),
      watch: () => ({
        prefix: () => ({
          startRevision: () => ({
            create: () => {
              if (!fake.createWatches) return new Promise(() => {});
              const watcher = Object.assign(new EventEmitter(), { cancel: async () => {} });
              fake.watchers.push(watcher);
              return Promise.resolve(watcher);
            },
          }),
        }),
      }),
      close() {
        fake.released += 1;
      },
    };
  },
}));

const { etcdDiscovery } = await import('../../lib/registry/index.js');

function addresses(list: readonly ServiceInstance[] | undefined): string[] {
  return (list ?? []).map((instance) => instance.address);
}

describe('etcdDiscovery resync', () => {
  it('etcdDiscovery - a watch that missed a change is found by the periodic list and replaced by a new client', async () => {
    const scheduler = new VirtualTimeScheduler();
    fake.store.set('/phobos/S/tcp@127.0.0.1:1', 'weight=1');
    const discovery = etcdDiscovery({
      hosts: 'http://127.0.0.1:2379',
      service: 'S',
      scheduler,
      resyncMs: 1_000,
      retryMaxMs: 100,
      logger: { warn() {} },
    });
    const lists: Array<readonly ServiceInstance[]> = [];
    const subscription = discovery.instances$.subscribe((list) => lists.push(list));
    await settle();
    expect(lists.map(addresses)).toEqual([['tcp@127.0.0.1:1']]);
    expect(fake.clients).toBe(1);

    // A change the watch never delivers; the same list at the first check would keep the watch.
    fake.store.set('/phobos/S/tcp@127.0.0.1:2', 'weight=1');
    fake.revision += 1;
    advanceTo(scheduler, 999);
    await settle();
    expect(lists).toHaveLength(1);
    advanceTo(scheduler, 1_000);
    await settle();
    expect(fake.released).toBe(1);
    advanceTo(scheduler, 1_100);
    await settle();
    expect(fake.clients).toBe(2);
    expect(lists.map(addresses).at(-1)).toEqual(['tcp@127.0.0.1:1', 'tcp@127.0.0.1:2']);

    // A delivered change is trusted: the next check finds nothing missed, the client stays.
    fake.store.delete('/phobos/S/tcp@127.0.0.1:1');
    fake.revision += 1;
    fake.watchers.at(-1)?.emit('data', {
      header: { revision: String(fake.revision) },
      events: [
        { type: 'Delete', kv: { key: Buffer.from('/phobos/S/tcp@127.0.0.1:1'), value: Buffer.from('') } },
      ],
    });
    expect(lists.map(addresses).at(-1)).toEqual(['tcp@127.0.0.1:2']);
    advanceTo(scheduler, 5_000);
    await settle();
    expect(fake.clients).toBe(2);
    subscription.unsubscribe();
    await settle();
    expect(fake.released).toBe(2);
  });

  it('etcdDiscovery - a watch that is never created gives up after the request timeout and tries a new client', async () => {
    const scheduler = new VirtualTimeScheduler();
    fake.clients = 0;
    fake.released = 0;
    fake.createWatches = false;
    const discovery = etcdDiscovery({
      hosts: 'http://127.0.0.1:2380',
      service: 'S',
      scheduler,
      requestTimeoutMs: 500,
      retryMaxMs: 100,
      logger: { warn() {} },
    });
    const lists: Array<readonly ServiceInstance[]> = [];
    const subscription = discovery.instances$.subscribe((list) => lists.push(list));
    await settle();
    advanceTo(scheduler, 499);
    await settle();
    expect(fake.released).toBe(0);
    fake.createWatches = true;
    advanceTo(scheduler, 500);
    await settle();
    expect(fake.released).toBe(1);
    advanceTo(scheduler, 600);
    await settle();
    expect(fake.clients).toBe(2);
    expect(lists.map(addresses)).toEqual([['tcp@127.0.0.1:2']]);
    subscription.unsubscribe();
  });

  it('etcdDiscovery - closed while its watch is being created: the client is released once the attempt ends, and close() waits for it', async () => {
    const scheduler = new VirtualTimeScheduler();
    fake.clients = 0;
    fake.released = 0;
    fake.createWatches = false;
    const discovery = etcdDiscovery({
      hosts: 'http://127.0.0.1:2381',
      service: 'S',
      scheduler,
      requestTimeoutMs: 500,
      logger: { warn() {} },
    });
    const subscription = discovery.instances$.subscribe();
    await settle();
    expect(fake.clients).toBe(1);
    subscription.unsubscribe();
    let closed = false;
    void discovery.close().then(() => {
      closed = true;
    });
    await settle();
    expect(fake.released).toBe(0);
    expect(closed).toBe(false);
    advanceTo(scheduler, 500);
    await settle();
    expect(fake.released).toBe(1);
    expect(closed).toBe(true);
    expect(fake.clients).toBe(1);
    fake.createWatches = true;
  });

  it('etcdDiscovery - shares a watch only between discoveries whose settings all agree', async () => {
    fake.clients = 0;
    const logger = { warn() {} };
    const scheduler = new VirtualTimeScheduler();
    const base = { hosts: 'http://127.0.0.1:2382', service: 'S', logger, scheduler };
    const discoveries = [
      etcdDiscovery(base),
      etcdDiscovery(base),
      etcdDiscovery({ ...base, logger: { warn() {} } }),
      etcdDiscovery({ ...base, scheduler: new VirtualTimeScheduler() }),
      etcdDiscovery({ ...base, requestTimeoutMs: 1_234 }),
    ];
    const subscriptions = discoveries.map((discovery) => discovery.instances$.subscribe());
    await settle();
    // The first two share one watch; each of the others has its own.
    expect(fake.clients).toBe(4);
    for (const subscription of subscriptions) subscription.unsubscribe();
    await Promise.all(discoveries.map((discovery) => discovery.close()));
  });
});
