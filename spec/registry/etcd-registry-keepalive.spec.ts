import { EventEmitter } from 'node:events';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { advanceTo, settle } from '../support/virtual-time.js';

// The registry's etcd client, faked: leases are event emitters whose keepalives the test answers.
const fake = vi.hoisted(() => ({
  leases: [] as Array<FakeLease>,
  puts: [] as Array<{ key: string; lease: number | undefined }>,
}));

interface FakeLease extends EventEmitter {
  readonly id: number;
  released: boolean;
  revoked(): boolean;
  grant(): Promise<number>;
  release(): void;
  revoke(): Promise<void>;
  put(key: string): { value(value: string): Promise<void> };
}

vi.mock('../../lib/registry/etcd-client.js', () => {
  const builder = (key: string, lease: number | undefined) => ({
    value: async () => {
      fake.puts.push({ key, lease });
    },
  });
  const client = {
    lease(): FakeLease {
      const lease = Object.assign(new EventEmitter(), {
        id: fake.leases.length + 1,
        released: false,
        revoked: () => false,
        grant: async () => lease.id,
        release() {
          lease.released = true;
        },
        revoke: async () => {},
        put: (key: string) => builder(key, lease.id),
      }) as FakeLease;
      fake.leases.push(lease);
      return lease;
    },
    put: (key: string) => builder(key, undefined),
    delete: () => ({ key: async () => {} }),
    close() {},
  };
  return { createEtcdClient: () => client };
});

const { etcdRegistry } = await import('../../lib/registry/index.js');

/** The puts since `from`, in key order (the service key and the instance key go in parallel). */
function putsSince(from: number): Array<{ key: string; lease: number | undefined }> {
  return fake.puts.slice(from).sort((a, b) => a.key.localeCompare(b.key));
}

describe('etcdRegistry lease keepalive watch', () => {
  it('etcdRegistry - moves the keys to a new lease once no keepalive was answered for a third plus a twelfth of the TTL (one missed), and not before', async () => {
    const scheduler = new VirtualTimeScheduler();
    const registry = etcdRegistry({
      hosts: 'http://127.0.0.1:2379',
      ttlSeconds: 4,
      scheduler,
      logger: { warn() {} },
    });
    await registry.register('S', 'tcp@127.0.0.1:1', 'weight=1');
    await settle();
    const [first] = fake.leases;
    expect(fake.leases).toHaveLength(1);
    expect(putsSince(0)).toEqual([
      { key: '/phobos/S', lease: undefined },
      { key: '/phobos/S/tcp@127.0.0.1:1', lease: 1 },
    ]);

    // Keepalives answered every 1,333 ms (a third of the TTL): the lease stays.
    for (const at of [1_333, 2_666, 3_999, 5_332]) {
      advanceTo(scheduler, at);
      first?.emit('keepaliveSucceeded', {});
    }
    advanceTo(scheduler, 6_900);
    await settle();
    expect(fake.leases).toHaveLength(1);
    const putsBeforeMove = fake.puts.length;

    // Then silence: past 1,667 ms after the last answer (at 5,332) the keys move, within one
    // check (166 ms).
    advanceTo(scheduler, 6_999);
    await settle();
    expect(fake.leases).toHaveLength(1);
    advanceTo(scheduler, 6_999 + 167);
    await settle();
    expect(fake.leases).toHaveLength(2);
    expect(first?.released).toBe(true);
    // Both keys again: the service key too, in case the old lease went with etcd's data.
    expect(putsSince(putsBeforeMove)).toEqual([
      { key: '/phobos/S', lease: undefined },
      { key: '/phobos/S/tcp@127.0.0.1:1', lease: 2 },
    ]);
    const states: string[] = [];
    registry.state$.subscribe((state) => states.push(state));
    expect(states).toEqual(['registered']);

    // The old lease's late events no longer count.
    first?.emit('lost', new Error('late'));
    await settle();
    expect(fake.leases).toHaveLength(2);
    await registry.close();
  });
});
