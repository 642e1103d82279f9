import { VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionError } from '../../lib/index.js';
import { EtcdPool, type EtcdRegistry } from '../../lib/registry/index.js';
import { advanceTo, settle } from '../support/virtual-time.js';
import { type FakeEtcd, resetFakeEtcd } from './fake-etcd.js';

// The registry's etcd client, faked: grants fail and writes wait when the test says so.
vi.mock('../../lib/registry/etcd-client.js', async () => {
  const { fakeEtcd } = await import('./fake-etcd.js');
  return { createEtcdClient: () => fakeEtcd().client() };
});

const { etcdRegistry } = await import('../../lib/registry/index.js');

const KEY = '/phobos/S/tcp@127.0.0.1:1';

interface Setup {
  readonly etcd: FakeEtcd;
  readonly scheduler: VirtualTimeScheduler;
  readonly registry: EtcdRegistry;
  readonly states: string[];
  readonly warnings: string[];
}

/**
 * A registry on a fresh fake etcd and a virtual clock; its backoff's jitter draws 0, so the
 * waits between attempts are 50, 100, 200, 400 ms (the lower half of 100 ms doubling).
 */
function setUp(): Setup {
  const etcd = resetFakeEtcd();
  const scheduler = new VirtualTimeScheduler();
  etcd.clock = () => scheduler.now();
  vi.spyOn(Math, 'random').mockReturnValue(0);
  const warnings: string[] = [];
  const registry = etcdRegistry({
    hosts: 'http://127.0.0.1:2379',
    ttlSeconds: 60,
    scheduler,
    // A pool of its own: a test that fails before close() leaves its client to no other test.
    pool: new EtcdPool(),
    logger: { warn: (message: string) => warnings.push(message) },
  });
  const states: string[] = [];
  registry.state$.subscribe((state) => states.push(state));
  return { etcd, scheduler, registry, states, warnings };
}

/** Runs the virtual clock to `at` and lets the promises it started settle. */
async function runTo(scheduler: VirtualTimeScheduler, at: number): Promise<void> {
  advanceTo(scheduler, at);
  await settle();
}

describe('etcdRegistry repair', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('etcdRegistry - a lost lease is granted anew and the keys put again, each failed attempt followed by the backoff on the registry scheduler', async () => {
    const { etcd, scheduler, registry, states, warnings } = setUp();
    await registry.register('S', 'tcp@127.0.0.1:1', 'weight=1');
    expect(states).toEqual(['idle', 'registered']);

    await runTo(scheduler, 1_000);
    etcd.grantError = new Error('etcd is down');
    etcd.leases[0]?.emit('lost', new Error('lease expired'));
    await settle();
    expect(states).toEqual(['idle', 'registered', 'unreachable']);
    expect(warnings).toEqual([
      'etcd registry: cannot keep 1 registration(s) in etcd (http://127.0.0.1:2379): lease expired; retrying',
    ]);

    // Attempts at once, then 50, 100 and 200 ms after each failure, none sooner.
    for (const at of [1_049, 1_050, 1_149, 1_150, 1_349, 1_350]) await runTo(scheduler, at);
    expect(etcd.grantTimes).toEqual([0, 1_000, 1_050, 1_150, 1_350]);

    // etcd answers again: the attempt 400 ms later puts the key under the new lease.
    etcd.grantError = undefined;
    await runTo(scheduler, 1_749);
    expect(states.at(-1)).toBe('unreachable');
    await runTo(scheduler, 1_750);
    expect(etcd.grantTimes).toEqual([0, 1_000, 1_050, 1_150, 1_350, 1_750]);
    expect(etcd.calls.slice(-2).sort()).toEqual([`put ${KEY}=weight=1 lease 6`, 'put /phobos/S=S']);
    expect(states).toEqual(['idle', 'registered', 'unreachable', 'registered']);
    expect(warnings.at(-1)).toBe(
      'etcd registry: 1 registration(s) are in etcd again (http://127.0.0.1:2379)',
    );

    // Repaired: no more attempts.
    await runTo(scheduler, 10_000);
    expect(etcd.grantTimes).toHaveLength(6);
    await registry.close();
  });

  it('etcdRegistry - a failure reported while the keys are put again (the new lease lost) makes the repair put them once more', async () => {
    const { etcd, scheduler, registry, states } = setUp();
    await registry.register('S', 'tcp@127.0.0.1:1', 'weight=1');
    await runTo(scheduler, 1_000);

    etcd.closeGate();
    etcd.leases[0]?.emit('lost', new Error('lease expired'));
    await settle();
    expect(etcd.calls).toContain(`put ${KEY}=weight=1 lease 2`);
    // Lease 2 goes too before the put under it is answered: that put is not enough.
    etcd.leases[1]?.emit('lost', new Error('lost again'));
    etcd.openGate();
    await settle();
    expect(states.at(-1)).toBe('unreachable');
    expect(etcd.grantTimes).toEqual([0, 1_000]);

    await runTo(scheduler, 1_050);
    expect(etcd.grantTimes).toEqual([0, 1_000, 1_050]);
    expect(etcd.calls).toContain(`put ${KEY}=weight=1 lease 3`);
    expect(states).toEqual(['idle', 'registered', 'unreachable', 'registered']);
    await registry.close();
  });

  it('etcdRegistry - a register while etcd is down rejects with a ConnectionError, keeps the registration and puts it once etcd answers', async () => {
    const { etcd, scheduler, registry, states } = setUp();
    etcd.grantError = new Error('connection refused');
    const failed = await registry
      .register('S', 'tcp@127.0.0.1:1', 'weight=1')
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ConnectionError);
    expect((failed as Error).message).toBe(
      'cannot register S at tcp@127.0.0.1:1 in etcd (http://127.0.0.1:2379): connection refused; ' +
        'the registry retries until etcd answers',
    );
    await settle();
    expect(states).toEqual(['idle', 'unreachable']);
    expect(etcd.grantTimes).toEqual([0, 0]);

    etcd.grantError = undefined;
    await runTo(scheduler, 50);
    expect(etcd.calls).toContain(`put ${KEY}=weight=1 lease 3`);
    expect(states).toEqual(['idle', 'unreachable', 'registered']);
    await registry.close();
  });

  it('etcdRegistry - close() during a repair stops retrying, revokes nothing it does not hold and closes the client', async () => {
    const { etcd, scheduler, registry, states } = setUp();
    await registry.register('S', 'tcp@127.0.0.1:1', 'weight=1');
    etcd.grantError = new Error('etcd is down');
    etcd.leases[0]?.emit('lost', new Error('lease expired'));
    await settle();
    expect(etcd.grantTimes).toEqual([0, 0]);

    await registry.close();
    expect(states).toEqual(['idle', 'registered', 'unreachable', 'closed']);
    expect(etcd.clientsClosed).toBe(etcd.clientsMade);
    await runTo(scheduler, 60_000);
    expect(etcd.grantTimes).toEqual([0, 0]);
    await expect(registry.register('S', 'tcp@127.0.0.1:2')).rejects.toBeInstanceOf(ConnectionError);
    // A second close is the first one.
    await registry.close();
  });
});

describe('etcdRegistry write order', () => {
  it('etcdRegistry - writes of one key reach etcd one after the other, in the order asked; writes of other keys do not wait for them', async () => {
    const { etcd, registry, states } = setUp();
    etcd.closeGate();
    const registered = registry.register('S', 'tcp@127.0.0.1:1', 'weight=1');
    await settle();
    expect(etcd.calls).toEqual(['grant 1', `put ${KEY}=weight=1 lease 1`, 'put /phobos/S=S']);

    // The same key: the delete waits for the put. Another key goes at once (with the service
    // key, whose first put is not answered yet).
    const unregistered = registry.unregister('S', 'tcp@127.0.0.1:1');
    const other = registry.register('S', 'tcp@127.0.0.1:2', 'weight=2');
    await settle();
    expect(etcd.calls.slice(3)).toEqual([
      'put /phobos/S/tcp@127.0.0.1:2=weight=2 lease 1',
      'put /phobos/S=S',
    ]);

    etcd.openGate();
    await Promise.all([registered, unregistered, other]);
    expect(etcd.calls.slice(5)).toEqual([`delete ${KEY}`]);
    expect(states).toEqual(['idle', 'registered']);

    // The last registration withdrawn: the lease is revoked and the client closed.
    await registry.unregister('S', 'tcp@127.0.0.1:2');
    await settle();
    expect(etcd.calls.slice(6)).toEqual(['delete /phobos/S/tcp@127.0.0.1:2', 'revoke 1']);
    expect(states).toEqual(['idle', 'registered', 'idle']);
    expect(etcd.clientsClosed).toBe(1);

    // And registering again starts over: a new client, a new lease, the service key again.
    await registry.register('S', 'tcp@127.0.0.1:3');
    expect(etcd.calls.slice(8).sort()).toEqual([
      'grant 2',
      'put /phobos/S/tcp@127.0.0.1:3= lease 2',
      'put /phobos/S=S',
    ]);
    expect(etcd.clientsMade).toBe(2);
    await registry.close();
  });
});
