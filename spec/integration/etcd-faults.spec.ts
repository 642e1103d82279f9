import { filter, firstValueFrom } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { type Discovery, silentLogger, XClient } from '../../lib/index.js';
import { type EtcdRegistry, etcdDiscovery, etcdRegistry } from '../../lib/registry/index.js';
import { type CallLoop, callLoop } from '../support/call-loop.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import {
  type EtcdNode,
  startEtcd,
  startEtcdCluster,
  stopAllEtcd,
  waitForEtcdHealthy,
} from '../support/etcd.js';
import {
  addressesOf,
  busiestMember,
  etcdKeys,
  eventually,
  freshBasePath,
  listWhere,
} from '../support/etcd-helpers.js';
import { trackHandles } from '../support/handles.js';
import { startGreeters } from '../support/xclient-servers.js';

const { defer } = trackHandles();
afterAll(stopAllEtcd);

const LANES = 4;

function track(loop: CallLoop): CallLoop {
  defer(() => loop.stop());
  return loop;
}

function registryOn(hosts: string | readonly string[], basePath: string, ttlSeconds: number): EtcdRegistry {
  const registry = etcdRegistry({
    hosts,
    basePath,
    ttlSeconds,
    logger: silentLogger,
    dialTimeoutMs: 500,
    requestTimeoutMs: 1_000,
    retryMaxMs: 300,
  });
  defer(() => registry.close());
  return registry;
}

function discoveryOn(
  hosts: string | readonly string[],
  basePath: string,
  dataLossGraceMs?: number,
): Discovery {
  const discovery = etcdDiscovery({
    hosts,
    basePath,
    service: 'HelloWorld',
    logger: silentLogger,
    dialTimeoutMs: 500,
    requestTimeoutMs: 1_000,
    retryMaxMs: 300,
    ...(dataLossGraceMs === undefined ? {} : { dataLossGraceMs }),
  });
  defer(() => discovery.close());
  return discovery;
}

function failoverClient(discovery: Discovery): XClient {
  const client = new XClient('HelloWorld', {
    discovery,
    failMode: 'failover',
    selectMode: 'roundRobin',
    serializeType: 1,
    timeoutMs: 10_000,
    heartbeat: { intervalMs: 200, maxMisses: 3 },
  });
  defer(() => client.close());
  return client;
}

function registryState(registry: EtcdRegistry, state: string): Promise<unknown> {
  return firstValueFrom(registry.state$.pipe(filter((s) => s === state)));
}

/** The outage must outlast the lease: a duration that is the scenario itself, not a wait for luck. */
function outage(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * An etcd of its own, child servers (`names`) registered there with a `ttlSeconds` lease, and a
 * failover call loop over them that server `a` has answered 20 times.
 */
async function childServersCalled(etcdName: string, names: readonly string[], ttlSeconds: number) {
  const etcd = await startEtcd({ name: etcdName });
  defer(() => etcd.remove());
  const basePath = freshBasePath();
  const servers: ChildServer[] = await Promise.all(
    names.map((name) =>
      startChildServer(name, 'tcp@127.0.0.1:0', { hosts: etcd.clientUrl, basePath, ttlSeconds }),
    ),
  );
  defer(() => Promise.all(servers.map((server) => server.kill())));
  const discovery = discoveryOn(etcd.clientUrl, basePath);
  await listWhere(discovery.instances$, (l) => l.length === names.length);
  const loop = track(callLoop(failoverClient(discovery), LANES));
  await loop.until((s) => (s.servedBy.get('a') ?? 0) >= 20);
  return { etcd, basePath, servers, discovery, loop };
}

/**
 * A 3-member cluster, servers `a` and `b` registered there (one registry, `ttlSeconds` lease),
 * and a failover call loop over them that has made 100 calls.
 */
async function clusterCalled(ttlSeconds: number) {
  const cluster = await startEtcdCluster(3);
  defer(() => cluster.stop());
  const hosts = cluster.clientUrls;
  const basePath = freshBasePath();
  const registry = registryOn(hosts, basePath, ttlSeconds);
  await startGreeters(defer, ['a', 'b'], registry);
  const discovery = discoveryOn(hosts, basePath);
  await listWhere(discovery.instances$, (l) => l.length === 2);
  const loop = track(callLoop(failoverClient(discovery), LANES));
  await loop.until((s) => s.ok >= 100);
  return { cluster, hosts, basePath, registry, discovery, loop };
}

describe('etcd faults', { timeout: 120_000 }, () => {
  it('a server killed with SIGKILL: its key goes when the lease expires, clients stop selecting it, no call fails under failover', async () => {
    const { etcd, basePath, servers, discovery, loop } = await childServersCalled(
      'sigkill',
      ['a', 'b', 'c'],
      2,
    );
    const [a, b, c] = servers as [ChildServer, ChildServer, ChildServer];

    await a.kill('SIGKILL');
    const without = await listWhere(discovery.instances$, (l) => !addressesOf(l).includes(a.address));
    expect(addressesOf(without)).toEqual([b.address, c.address].sort());
    expect(Object.keys(await etcdKeys(etcd.clientUrl, `${basePath}/HelloWorld/${a.address}`))).toEqual([]);
    const servedByA = loop.stats.servedBy.get('a');
    const okAtExpiry = loop.stats.ok;
    await loop.until((s) => s.ok >= okAtExpiry + 200);
    await loop.stop();
    expect(loop.stats.failures).toEqual([]);
    expect(loop.stats.servedBy.get('a')).toBe(servedByA);
  });

  it('graceful shutdown of a server process (SIGTERM): its key is deleted at once, without waiting for the lease', async () => {
    const { servers, discovery, loop } = await childServersCalled('sigterm', ['a', 'b'], 60);
    const [a] = servers as [ChildServer];
    await a.kill('SIGTERM');
    // With a 60 s lease, only the server's own delete can make the key go this soon.
    await listWhere(discovery.instances$, (l) => addressesOf(l).length === 1, 30_000);
    const okAtExit = loop.stats.ok;
    await loop.until((s) => s.ok >= okAtExit + 200);
    await loop.stop();
    expect(loop.stats.failures).toEqual([]);
  });

  for (const wipe of [false, true]) {
    it(`etcd stopped for longer than the TTL, then started ${wipe ? 'empty (data lost)' : 'again with its data'}: calls go on, registrations return, watches resume`, async () => {
      const etcd: EtcdNode = await startEtcd({ name: wipe ? 'outage-wiped' : 'outage' });
      defer(() => etcd.remove());
      const basePath = freshBasePath();
      const ttlSeconds = 1;
      const first = registryOn(etcd.clientUrl, basePath, ttlSeconds);
      const second = registryOn(etcd.clientUrl, basePath, ttlSeconds);
      const registries = [first, second];
      const [a, b] = await Promise.all([
        startGreeters(defer, [{ name: 'a', registry: first }]),
        startGreeters(defer, [{ name: 'b', registry: second }]),
      ]).then((lists) => lists.flat());
      if (a === undefined || b === undefined) throw new Error('no servers');
      const discovery = discoveryOn(etcd.clientUrl, basePath, 30_000);
      const lists: number[] = [];
      const watching = discovery.instances$.subscribe((list) => lists.push(list.length));
      defer(() => watching.unsubscribe());
      await listWhere(discovery.instances$, (l) => l.length === 2);
      const client = failoverClient(discovery);
      const loop = track(callLoop(client, LANES));
      await loop.until((s) => s.ok >= 100);

      await etcd.stop();
      await Promise.all(registries.map((registry) => registryState(registry, 'unreachable')));
      const okAtStop = loop.stats.ok;
      await outage(ttlSeconds * 1_000 * 3);
      // Calls went on the whole time, to both servers.
      expect(loop.stats.ok).toBeGreaterThan(okAtStop);

      await etcd.restart(wipe ? { wipe: true } : {});
      await Promise.all(registries.map((registry) => registryState(registry, 'registered')));
      await eventually('both registrations are back in etcd', async () => {
        const keys = await etcdKeys(etcd.clientUrl, `${basePath}/HelloWorld/`);
        return Object.keys(keys).length === 2;
      });
      // The watch resumed: a server that registers now is discovered.
      const [c] = await startGreeters(defer, [{ name: 'c', registry: first }]);
      if (c === undefined) throw new Error('no server');
      await listWhere(discovery.instances$, (l) => l.length === 3);
      await loop.until((s) => (s.servedBy.get('c') ?? 0) > 0);
      await loop.stop();
      expect(loop.stats.failures).toEqual([]);
      // The client's list never emptied.
      expect(lists.slice(lists.indexOf(2))).not.toContain(0);
      expect(a.calls + b.calls).toBeGreaterThan(100);
    });
  }

  it('a 3-member cluster: killing the member the clients talk to, discovery and registration carry on through the others', async () => {
    const ttlSeconds = 2;
    const { cluster, hosts, basePath, registry, discovery, loop } = await clusterCalled(ttlSeconds);

    const busiest = busiestMember(hosts);
    const member = cluster.nodes.find((node) => node.clientUrl === busiest);
    if (member === undefined) throw new Error('no member');
    await member.kill();
    const others = hosts.filter((url) => url !== busiest);

    // Registration: a new server registers through the others, and is discovered.
    const [c] = await startGreeters(defer, ['c'], registry);
    if (c === undefined) throw new Error('no server');
    await listWhere(discovery.instances$, (l) => l.length === 3);
    await loop.until((s) => (s.servedBy.get('c') ?? 0) > 0);
    // The lease is kept alive through the others: the keys outlive the TTL.
    await outage(ttlSeconds * 1_000 * 2);
    expect(Object.keys(await etcdKeys(others, `${basePath}/HelloWorld/`))).toHaveLength(3);
    await loop.stop();
    expect(loop.stats.failures).toEqual([]);
  });

  it('a 3-member cluster: the member the clients talk to stops answering without closing its sockets (SIGSTOP): they move to the others', async () => {
    // A 6 s lease: shorter than the 7 s the gRPC keepalive takes to notice a frozen member, so
    // the keys survive only because the registry moves them to a new lease once keepalives go
    // unanswered for 2.5 s (a third plus a twelfth of the TTL), leaving 3.5 s to re-grant and put
    // them through another member. (Moving them at half the TTL left 3 s, sometimes not enough on
    // a loaded 2-core machine running the whole suite.)
    const { cluster, hosts, registry, discovery, loop } = await clusterCalled(6);

    // Which member holds the watch stream is not visible from here: freeze each in turn, so one
    // of the rounds freezes it. A frozen member is noticed by the gRPC keepalive (5 s + 2 s) or
    // a request deadline; a new server registers through the others and is discovered.
    for (const [round, member] of cluster.nodes.entries()) {
      process.kill(member.pid, 'SIGSTOP');
      defer(() => {
        if (member.running) process.kill(member.pid, 'SIGCONT');
      });
      const [joined] = await startGreeters(defer, [`c${round}`], registry);
      if (joined === undefined) throw new Error('no server');
      await listWhere(discovery.instances$, (l) => l.length === 3 + round, 60_000);
      await loop.until((s) => (s.servedBy.get(`c${round}`) ?? 0) > 0);
      process.kill(member.pid, 'SIGCONT');
      await waitForEtcdHealthy(hosts);
    }
    await loop.stop();
    expect(loop.stats.failures).toEqual([]);
  });
});
