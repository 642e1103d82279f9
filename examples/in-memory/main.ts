// Servers and an XClient in one process over the in-memory network of phobos/testing: no socket,
// no port. A few calls go round robin; then one server is taken off the network (as if its
// process died) and the calls that follow are answered by the others, with no failure. The same
// network runs under a TestScheduler in virtual time (see README, "Testing in memory").
//   npx tsx examples/in-memory/main.ts --servers 3 --calls 12
import { multipleServersDiscovery, SerializeType, Server, XClient } from '../../lib/index.js';
import { MemoryNetwork } from '../../lib/testing/index.js';
import { defineCommand, integerFlag, readCommandLine } from '../lib/cli.js';

const COMMAND = defineCommand({
  name: 'in-memory',
  run: 'npx tsx examples/in-memory/main.ts',
  summary: [
    'Starts servers on an in-memory network (memory@server-N), calls them round robin through an',
    'XClient (failover), takes the first server off the network halfway, and prints who answered',
    'each call; exits 1 if any call failed.',
  ].join('\n'),
  flags: {
    servers: { type: 'string', value: 'N', default: '3', description: 'servers to start, 2 to 16' },
    calls: { type: 'string', value: 'N', default: '12', description: 'calls to make, 2 to 10000' },
  },
  examples: ['npx tsx examples/in-memory/main.ts --servers 2 --calls 6'],
});

const options = readCommandLine(COMMAND, (flags) => ({
  servers: integerFlag('--servers', flags.servers, 2, 16),
  calls: integerFlag('--calls', flags.calls, 2, 10_000),
}));

if (options !== undefined) {
  const network = new MemoryNetwork();
  const servers: Server[] = [];
  const addresses: string[] = [];
  for (let i = 0; i < options.servers; i++) {
    const server = new Server();
    server.register('Who', { Am: () => `server-${i}` });
    addresses.push(await server.listen(`memory@server-${i}`, { transport: network }));
    servers.push(server);
  }
  console.log(`listening on ${addresses.join(', ')}`);
  const discovery = multipleServersDiscovery(addresses.map((address) => ({ address })));
  const client = new XClient('Who', {
    discovery,
    transport: network,
    failMode: 'failover',
    selectMode: 'roundRobin',
    serializeType: SerializeType.JSON,
    timeoutMs: 1_000,
  });
  let failed = 0;
  for (let call = 1; call <= options.calls; call++) {
    if (call === Math.floor(options.calls / 2) + 1) {
      network.crash(addresses[0] as string);
      console.log(`${addresses[0]} taken off the network`);
    }
    try {
      console.log(`call ${call}: ${await client.call<string>('Am', {})}`);
    } catch (error) {
      failed++;
      console.log(`call ${call} failed: ${(error as Error).message}`);
    }
  }
  await client.close();
  discovery.close();
  await Promise.all(servers.map((server) => server.shutdown({ graceMs: 0 })));
  if (failed > 0) {
    console.log(`FAILED: ${failed} of ${options.calls} calls failed`);
    process.exitCode = 1;
  } else {
    console.log(`ok: failover lost no call when ${addresses[0]} went away (calls=${options.calls} failed=0)`);
  }
}
