import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { advanceTo, settle } from '../support/virtual-time.js';
import { resetFakeEtcd } from './fake-etcd.js';

// The registry's etcd client, faked: leases are event emitters whose keepalives the test answers.
vi.mock('../../lib/registry/etcd-client.js', async () => {
  const { fakeEtcd } = await import('./fake-etcd.js');
  return { createEtcdClient: () => fakeEtcd().client() };
});

const { etcdRegistry } = await import('../../lib/registry/index.js');

describe('etcdRegistry lease keepalive watch', () => {
  it('etcdRegistry - moves the keys to a new lease once no keepalive was answered for a third plus a twelfth of the TTL (one missed), and not before', async () => {
    const etcd = resetFakeEtcd();
    const scheduler = new VirtualTimeScheduler();
    const registry = etcdRegistry({
      hosts: 'http://127.0.0.1:2379',
      ttlSeconds: 4,
      scheduler,
      logger: { warn() {} },
    });
    await registry.register('S', 'tcp@127.0.0.1:1', 'weight=1');
    await settle();
    const [first] = etcd.leases;
    expect([...etcd.calls].sort()).toEqual([
      'grant 1',
      'put /phobos/S/tcp@127.0.0.1:1=weight=1 lease 1',
      'put /phobos/S=S',
    ]);

    // Keepalives answered every 1,333 ms (a third of the TTL): the lease stays.
    for (const at of [1_333, 2_666, 3_999, 5_332]) {
      advanceTo(scheduler, at);
      first?.emit('keepaliveSucceeded', {});
    }
    advanceTo(scheduler, 6_900);
    await settle();
    expect(etcd.leases).toHaveLength(1);
    const callsBeforeMove = etcd.calls.length;

    // Then silence: once it lasted more than 1,666.7 ms after the last answer (at 5,332), at
    // 6,999, the keys move.
    advanceTo(scheduler, 6_998);
    await settle();
    expect(etcd.leases).toHaveLength(1);
    advanceTo(scheduler, 6_999);
    await settle();
    expect(etcd.leases).toHaveLength(2);
    expect(first?.released).toBe(true);
    // Both keys again: the service key too, in case the old lease went with etcd's data.
    expect(etcd.calls.slice(callsBeforeMove).sort()).toEqual([
      'grant 2',
      'put /phobos/S/tcp@127.0.0.1:1=weight=1 lease 2',
      'put /phobos/S=S',
    ]);
    const states: string[] = [];
    registry.state$.subscribe((state) => states.push(state));
    expect(states).toEqual(['registered']);

    // The old lease's late events no longer count.
    first?.emit('lost', new Error('late'));
    await settle();
    expect(etcd.leases).toHaveLength(2);
    await registry.close();
    expect(etcd.calls.at(-1)).toBe('revoke 2');
    expect(etcd.clientsClosed).toBe(1);
  });
});
