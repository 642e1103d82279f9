// How fast the etcd registry and discovery react, on a real etcd started for the run (free
// loopback ports, temporary data dir): listen() to being in a client's list, for 20 servers
// joining one by one; and how long the registry takes to be registered again after etcd was
// stopped for 5 s (longer than the 2 s lease) and restarted.
//   npx tsx benchmarks/etcd-registry.ts
import { filter, firstValueFrom } from 'rxjs';
import { Server, silentLogger } from '../lib/index.js';
import { etcdDiscovery, etcdRegistry } from '../lib/registry/index.js';
import { startEtcd, stopAllEtcd } from '../spec/support/etcd.js';

const JOINS = 20;
const OUTAGE_MS = 5_000;

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
  await stopAllEtcd();
}
