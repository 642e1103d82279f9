// How fast the etcd registry and discovery react, on a real etcd started for the run (free
// loopback ports, temporary data dir): listen() to being in a client's list, for 20 servers
// joining one by one; and how long the registry takes to be registered again after etcd was
// stopped for 5 s (longer than the 2 s lease) and restarted; and, on a 3-member cluster with each
// member frozen (SIGSTOP) in turn, how long the registry takes to move its keys to a new lease
// once keepalives go unanswered, and whether any key expired meanwhile.
//   npx tsx benchmarks/etcd-registry.ts [--ttl 10]   (the frozen-member lease, default 10 s)
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import { filter, firstValueFrom } from 'rxjs';
import { Server, silentLogger } from '../lib/index.js';
import { type EtcdRegistryState, etcdDiscovery, etcdRegistry } from '../lib/registry/index.js';
import { startEtcd, startEtcdCluster, stopAllEtcd, waitForEtcdHealthy } from '../spec/support/etcd.js';

const JOINS = 20;
const OUTAGE_MS = 5_000;
const { values } = parseArgs({ options: { ttl: { type: 'string', default: '10' } } });
const FROZEN_TTL_S = Number(values.ttl);

const etcd = await startEtcd({ name: 'bench' });
const registry = etcdRegistry({ hosts: etcd.clientUrl, ttlSeconds: 2, logger: silentLogger });
const discovery = etcdDiscovery({ hosts: etcd.clientUrl, service: 'HelloWorld', logger: silentLogger });
const watching = discovery.instances$.subscribe();
const servers: Server[] = [];
const joinMs: number[] = [];
try {
  for (let i = 0; i < JOINS; i++) {
    const server = new Server({ logger: silentLogger, registries: [registry] });
    server.register('HelloWorld', { Greet: () => ({}) });
    const startedAt = performance.now();
    const address = await server.listen('tcp@127.0.0.1:0');
    await firstValueFrom(
      discovery.instances$.pipe(filter((list) => list.some((i) => i.address === address))),
    );
    joinMs.push(performance.now() - startedAt);
    servers.push(server);
  }
  joinMs.sort((a, b) => a - b);
  console.log(
    `listen() -> in the client's list, ${JOINS} joins: first ${joinMs[0]?.toFixed(1)} ms, median ${joinMs[JOINS / 2]?.toFixed(1)} ms, max ${joinMs[JOINS - 1]?.toFixed(1)} ms`,
  );

  await etcd.stop();
  await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
  await etcd.restart();
  const healthyAt = performance.now();
  await firstValueFrom(registry.state$.pipe(filter((state) => state === 'registered')));
  console.log(
    `etcd stopped ${OUTAGE_MS} ms (lease 2 s), restarted: registered again ${(performance.now() - healthyAt).toFixed(0)} ms after etcd was healthy`,
  );
} finally {
  for (const server of servers) await server.shutdown({ graceMs: 0 });
  watching.unsubscribe();
  await discovery.close();
  await registry.close();
}
try {
  await frozenMembers();
} finally {
  await stopAllEtcd();
}

/** Each member of a 3-member cluster frozen in turn for 1.5 TTL, with 3 keys registered. */
async function frozenMembers(): Promise<void> {
  const cluster = await startEtcdCluster(3);
  const hosts = cluster.clientUrls;
  const registry = etcdRegistry({
    hosts,
    basePath: '/frozen',
    ttlSeconds: FROZEN_TTL_S,
    logger: silentLogger,
  });
  let unreachableAt: number | undefined;
  const moves: number[] = [];
  const states = registry.state$.subscribe((state: EtcdRegistryState) => {
    if (state === 'unreachable') unreachableAt = performance.now();
    if (state === 'registered' && unreachableAt !== undefined) {
      moves.push(performance.now() - unreachableAt);
      unreachableAt = undefined;
    }
  });
  for (const port of [1, 2, 3]) await registry.register('S', `tcp@127.0.0.1:${port}`);
  let expired = 0;
  for (const member of cluster.nodes) {
    const other = new Etcd3({
      hosts: hosts.filter((url) => url !== member.clientUrl),
      grpcOptions: { 'grpc.use_local_subchannel_pool': 1 },
    });
    const watcher = await other.watch().prefix('/frozen/S/').create();
    watcher.on('delete', () => expired++);
    process.kill(member.pid, 'SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, FROZEN_TTL_S * 1_500));
    process.kill(member.pid, 'SIGCONT');
    await waitForEtcdHealthy(hosts);
    await watcher.cancel();
    other.close();
  }
  states.unsubscribe();
  await registry.close();
  console.log(
    `3 members frozen in turn for ${FROZEN_TTL_S * 1.5} s (lease ${FROZEN_TTL_S} s, request deadline 3 s): ` +
      `${moves.length} move(s) to a new lease, taking ${moves.map((ms) => ms.toFixed(0)).join(', ') || '-'} ms; ` +
      `${expired} key(s) expired`,
  );
}
