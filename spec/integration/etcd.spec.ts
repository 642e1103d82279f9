import { connect as netConnect } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionError,
  type Discovery,
  formatMetadata,
  isActive,
  NoInstanceError,
  Server,
  type ServiceInstance,
  silentLogger,
  XClient,
} from '../../lib/index.js';
import { activeWatchCount } from '../../lib/registry/etcd-discovery.js';
import { etcdDiscovery, etcdRegistry } from '../../lib/registry/index.js';
import { type EtcdNode, startEtcd, stopAllEtcd } from '../support/etcd.js';
import {
  addressesOf,
  etcdKeys,
  eventually,
  freshBasePath,
  listWhere,
  putKey,
  recordingLogger,
} from '../support/etcd-helpers.js';
import { trackHandles } from '../support/handles.js';
import { startGreeters } from '../support/xclient-servers.js';

const { defer } = trackHandles();
let etcd: EtcdNode;

beforeAll(async () => {
  etcd = await startEtcd({ name: 'registry-tests' });
});
afterAll(stopAllEtcd);

function registryFor(basePath: string, ttlSeconds = 10) {
  const registry = etcdRegistry({ hosts: etcd.clientUrl, basePath, ttlSeconds, logger: silentLogger });
  defer(() => registry.close());
  return registry;
}

function discoveryFor(basePath: string, service = 'HelloWorld', logger = silentLogger) {
  const discovery = etcdDiscovery({ hosts: etcd.clientUrl, basePath, service, logger });
  defer(() => discovery.close());
  return discovery;
}

function clientOf(discovery: Discovery, options: { selectMode?: 'roundRobin' } = {}): XClient {
  const client = new XClient('HelloWorld', {
    discovery,
    failMode: 'failover',
    serializeType: 1,
    timeoutMs: 10_000,
    ...options,
  });
  defer(() => client.close());
  return client;
}

describe('etcd registry and discovery on a real etcd', { timeout: 60_000 }, () => {
  it('a server registers, a client discovers and calls it; a second server joins and gets traffic; the keys follow the documented layout', async () => {
    const basePath = freshBasePath();
    const registry = registryFor(basePath);
    const [a] = await startGreeters(defer, [{ name: 'a', metadata: 'weight=10&group=blue' }], registry);
    if (a === undefined) throw new Error('no server');

    // listen() resolves once the key is in etcd.
    expect(await etcdKeys(etcd.clientUrl, `${basePath}/`)).toEqual({
      [`${basePath}/HelloWorld`]: 'HelloWorld',
      [`${basePath}/HelloWorld/${a.address}`]: 'group=blue&weight=10',
    });

    const discovery = discoveryFor(basePath);
    const client = clientOf(discovery, { selectMode: 'roundRobin' });
    expect(await client.call('Greet', { First: 'etcd' })).toEqual({ Second: 'Hello etcd', From: 'a' });

    const [b] = await startGreeters(defer, [{ name: 'b', metadata: 'weight=10&group=blue' }], registry);
    if (b === undefined) throw new Error('no server');
    // The issue asks for traffic within a second of joining; the watch event arrives in
    // milliseconds (benchmarks/etcd-registry.ts measures it). The 5 s deadline only guards against
    // a hang on a loaded machine: the test times nothing.
    const list = await listWhere(discovery.instances$, (l) => l.length === 2, 5_000);
    expect(addressesOf(list)).toEqual([a.address, b.address].sort());
    expect(list.find((instance) => instance.address === b.address)?.metadata).toEqual({
      group: 'blue',
      weight: '10',
    });
    for (let i = 0; i < 20; i++) await client.call('Greet', { First: 'both' });
    expect(b.calls).toBeGreaterThan(0);
    expect(a.calls).toBeGreaterThan(1);
  });

  it('graceful shutdown: the key is gone before the listener closes, and the call in flight completes', async () => {
    const basePath = freshBasePath();
    const registry = registryFor(basePath);
    const checks: Array<{ keyGone: boolean; listenerOpen: boolean }> = [];
    let release: (() => void) | undefined;
    const slowStarted = new Promise<void>((started) => {
      release = started;
    });
    let finishSlow: (() => void) | undefined;
    const server = new Server({
      logger: silentLogger,
      registries: [
        {
          register: (service, address, metadata) => registry.register(service, address, metadata),
          async unregister(service, address) {
            await registry.unregister(service, address);
            // The server awaits this before closing its listener: look at both from here.
            const keys = await etcdKeys(etcd.clientUrl, `${basePath}/${service}/`);
            const listenerOpen = await new Promise<boolean>((resolve) => {
              const [host, port] = address.replace('tcp@', '').split(':');
              const socket = netConnect({ host, port: Number(port) });
              socket.once('connect', () => {
                socket.destroy();
                resolve(true);
              });
              socket.once('error', () => resolve(false));
            });
            checks.push({ keyGone: Object.keys(keys).length === 0, listenerOpen });
            // Let the slow call finish only now, while the server drains.
            finishSlow?.();
          },
        },
      ],
    });
    server.register('HelloWorld', {
      Greet: () => ({ Second: 'fast', From: 'a' }),
      Slow: () =>
        new Promise((resolve) => {
          finishSlow = () => resolve({ Second: 'slow', From: 'a' });
          release?.();
        }),
    });
    const address = await server.listen('tcp@127.0.0.1:0');
    defer(() => server.shutdown({ graceMs: 0 }));
    const discovery = discoveryFor(basePath);
    await listWhere(discovery.instances$, (l) => l.length === 1);
    const client = clientOf(discovery);
    const slow = client.call('Slow', {});
    await slowStarted;

    await server.shutdown({ graceMs: 10_000 });
    expect(checks).toEqual([{ keyGone: true, listenerOpen: true }]);
    expect(await slow).toEqual({ Second: 'slow', From: 'a' });
    expect(await etcdKeys(etcd.clientUrl, `${basePath}/HelloWorld/${address}`)).toEqual({});
    const emptied = await listWhere(discovery.instances$, (l) => l.length === 0);
    expect(emptied).toEqual([]);
  });

  it('setState(inactive) keeps the key but clients stop selecting the server; active brings it back', async () => {
    const basePath = freshBasePath();
    const drained = registryFor(basePath);
    const other = registryFor(basePath);
    const [a] = await startGreeters(defer, [{ name: 'a' }], drained);
    const [b] = await startGreeters(defer, [{ name: 'b' }], other);
    if (a === undefined || b === undefined) throw new Error('no servers');
    const discovery = discoveryFor(basePath);
    const client = clientOf(discovery, { selectMode: 'roundRobin' });
    await listWhere(discovery.instances$, (l) => l.length === 2);

    await drained.setState('inactive');
    expect(await etcdKeys(etcd.clientUrl, `${basePath}/HelloWorld/${a.address}`)).toEqual({
      [`${basePath}/HelloWorld/${a.address}`]: 'state=inactive',
    });
    await listWhere(discovery.instances$, (l) => l.filter(isActive).length === 1);
    const before = a.calls;
    for (let i = 0; i < 10; i++)
      expect(await client.call('Greet', { First: 'x' })).toMatchObject({ From: 'b' });
    expect(a.calls).toBe(before);

    await drained.setState('active');
    await listWhere(discovery.instances$, (l) => l.filter(isActive).length === 2);
    for (let i = 0; i < 10; i++) await client.call('Greet', { First: 'x' });
    expect(a.calls).toBeGreaterThan(before);
  });

  it('1,000 rapid registrations and removals: the last list equals what etcd holds', async () => {
    const basePath = freshBasePath();
    const registry = registryFor(basePath);
    const discovery = discoveryFor(basePath, 'Churn');
    const seen: Array<readonly ServiceInstance[]> = [];
    const watching = discovery.instances$.subscribe((list) => seen.push(list));
    defer(() => watching.unsubscribe());

    // A fixed pseudo-random sequence over 40 addresses, fired without waiting.
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    const expected = new Map<string, string>();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 1_000; i++) {
      const address = `tcp@10.0.0.${next() % 40}:8972`;
      if (next() % 3 === 0) {
        expected.delete(address);
        writes.push(registry.unregister('Churn', address));
      } else {
        const metadata = formatMetadata({ weight: String(i) });
        expected.set(address, metadata);
        writes.push(registry.register('Churn', address, metadata));
      }
    }
    await Promise.all(writes);

    const prefix = `${basePath}/Churn/`;
    const held = await etcdKeys(etcd.clientUrl, prefix);
    expect(
      Object.fromEntries(Object.entries(held).map(([key, value]) => [key.slice(prefix.length), value])),
    ).toEqual(Object.fromEntries(expected));
    const wanted = [...expected.keys()].sort();
    const last = await listWhere(discovery.instances$, (l) => addressesOf(l).join() === wanted.join());
    expect(Object.fromEntries(last.map((i) => [i.address, formatMetadata(i.metadata)]))).toEqual(
      Object.fromEntries(expected),
    );
    expect(seen.length).toBeGreaterThan(1);
  });

  it('one watch per service is shared by every client of it in the process', async () => {
    const basePath = freshBasePath();
    const registry = registryFor(basePath);
    await startGreeters(defer, ['a'], registry);
    const baseline = activeWatchCount();
    const discoveries = [discoveryFor(basePath), discoveryFor(basePath), discoveryFor(basePath)];
    const clients = discoveries.map((discovery) => clientOf(discovery));
    for (const client of clients)
      expect(await client.call('Greet', { First: 'x' })).toMatchObject({ From: 'a' });
    expect(activeWatchCount()).toBe(baseline + 1);
    const other = discoveryFor(basePath, 'Other');
    const watching = other.instances$.subscribe();
    expect(activeWatchCount()).toBe(baseline + 2);
    watching.unsubscribe();
    for (const client of clients) await client.close();
    for (const discovery of discoveries) await discovery.close();
    expect(activeWatchCount()).toBe(baseline);
  });

  it('a server registered the way Go Phobos/rpcx register (their keys written by hand here) is discovered and called', async () => {
    const basePath = freshBasePath();
    // A server with no registry of ours: its keys are put as the Go etcd plugin puts them, the
    // service key holding the name and the instance key Go's url.Values encoding (sorted keys).
    const [go] = await startGreeters(defer, ['go']);
    if (go === undefined) throw new Error('no server');
    await putKey(etcd.clientUrl, `${basePath}/HelloWorld`, 'HelloWorld');
    await putKey(
      etcd.clientUrl,
      `${basePath}/HelloWorld/${go.address}`,
      'group=blue&state=active&tps=0&weight=10',
    );
    const discovery = discoveryFor(basePath);
    const [found] = await listWhere(discovery.instances$, (l) => l.length === 1);
    expect(found?.metadata).toEqual({ group: 'blue', state: 'active', tps: '0', weight: '10' });
    const client = clientOf(discovery);
    expect(await client.call('Greet', { First: 'go' })).toEqual({ Second: 'Hello go', From: 'go' });
  });

  it('keys and values someone else wrote under the base path are skipped with a warning; valid servers stay listed', async () => {
    const basePath = freshBasePath();
    const registry = registryFor(basePath);
    const [a] = await startGreeters(defer, ['a'], registry);
    if (a === undefined) throw new Error('no server');
    await putKey(etcd.clientUrl, `${basePath}/HelloWorld/not-an-address`, 'weight=1');
    await putKey(etcd.clientUrl, `${basePath}/HelloWorld/tcp@127.0.0.1:1`, 'weight=%zz');
    await putKey(etcd.clientUrl, `${basePath}/HelloWorld/tcp@127.0.0.1:2`, 'weight=5');
    const logger = recordingLogger();
    const discovery = discoveryFor(basePath, 'HelloWorld', logger);
    const list = await listWhere(discovery.instances$, (l) => l.length === 2);
    expect(addressesOf(list)).toEqual([a.address, 'tcp@127.0.0.1:2'].sort());
    expect(logger.messages.filter((m) => m.includes('skipping'))).toHaveLength(2);
    expect(logger.messages.join('\n')).toContain('not-an-address');
    expect(logger.messages.join('\n')).toContain('malformed percent-escape');
    // Fixing the bad value makes it appear.
    await putKey(etcd.clientUrl, `${basePath}/HelloWorld/tcp@127.0.0.1:1`, 'weight=1');
    await listWhere(discovery.instances$, (l) => l.length === 3);
    const client = clientOf(discovery, { selectMode: 'roundRobin' });
    expect(client).toBeInstanceOf(XClient);
  });
});

describe('etcd: bad configuration', { timeout: 60_000 }, () => {
  it('an unreachable etcd at start: register rejects with a ConnectionError naming the hosts, then registers once etcd is there', async () => {
    const node = await startEtcd({ name: 'late' });
    await node.stop();
    const basePath = freshBasePath();
    const logger = recordingLogger();
    const registry = etcdRegistry({
      hosts: node.clientUrl,
      basePath,
      logger,
      dialTimeoutMs: 300,
      requestTimeoutMs: 500,
    });
    defer(() => registry.close());
    const failed = await registry.register('HelloWorld', 'tcp@127.0.0.1:9999', 'weight=1').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(ConnectionError);
    expect((failed as Error).message).toContain(node.clientUrl);
    expect(logger.messages.some((m) => m.includes('retrying'))).toBe(true);

    await node.restart();
    await eventually('the registration reaches etcd', async () => {
      const keys = await etcdKeys(node.clientUrl, `${basePath}/`);
      return keys[`${basePath}/HelloWorld/tcp@127.0.0.1:9999`] === 'weight=1';
    });
    await registry.close();
    await node.remove();
  });

  it('an unreachable etcd at start: discovery emits nothing and warns, calls fail at their deadline with a NoInstanceError naming etcd and its last error, nothing crashes', async () => {
    const node = await startEtcd({ name: 'absent' });
    await node.stop();
    const logger = recordingLogger();
    const discovery = etcdDiscovery({
      hosts: node.clientUrl,
      basePath: freshBasePath(),
      service: 'HelloWorld',
      logger,
      dialTimeoutMs: 300,
      requestTimeoutMs: 500,
      retryMaxMs: 200,
    });
    defer(() => discovery.close());
    const lost = firstValueFrom(discovery.watchEvents$);
    const client = new XClient('HelloWorld', { discovery, timeoutMs: 1_500 });
    defer(() => client.close());
    await lost;
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as Error).message).toContain(
      `no server known for service HelloWorld yet (discovery: etcd (${node.clientUrl})`,
    );
    expect((error as Error).message).toMatch(/last error: (?!none)/);
    expect((error as NoInstanceError).details).toMatchObject({ service: 'HelloWorld', timeoutMs: 1_500 });
    expect(logger.messages.some((m) => m.includes('lost the watch') && m.includes(node.clientUrl))).toBe(
      true,
    );
    await client.close();
    await discovery.close();
    await node.remove();
  });

  it('bad registrations reject with a clear error and change nothing', async () => {
    const basePath = freshBasePath();
    const registry = registryFor(basePath);
    await expect(registry.register('', 'tcp@127.0.0.1:1')).rejects.toThrow(RangeError);
    await expect(registry.register('a/b', 'tcp@127.0.0.1:1')).rejects.toThrow(RangeError);
    await expect(registry.register('S', 'nonsense')).rejects.toThrow(RangeError);
    await expect(registry.register('S', 'tcp@127.0.0.1:1', 'x=%zz')).rejects.toThrow(/metadata/);
    await expect(registry.register('S', 'tcp@127.0.0.1:1', 42 as never)).rejects.toThrow(TypeError);
    await expect(registry.setState('gone' as never)).rejects.toThrow(RangeError);
    expect(await etcdKeys(etcd.clientUrl, `${basePath}/`)).toEqual({});
    await registry.close();
    await expect(registry.register('S', 'tcp@127.0.0.1:1')).rejects.toBeInstanceOf(ConnectionError);
  });
});
