// Finds HelloWorld's servers in etcd and calls Greet through an XClient with failover, printing
// each reply; ends with one line `calls=N failed=M`. Servers may come and go meanwhile. Run
// --help for the flags.
//   npx tsx examples/etcd/client.ts --etcd http://127.0.0.1:2379 --base /phobos --count 10
import { setTimeout as delay } from 'node:timers/promises';
import { XClient } from '../../lib/index.js';
import { etcdDiscovery } from '../../lib/registry/index.js';
import type { Args, Reply } from '../helloworld/service.js';
import { basePath, defineCommand, etcdUrls, integerFlag, readCommandLine } from '../lib/cli.js';

const TIMEOUT_MS = 5_000;

const COMMAND = defineCommand({
  name: 'etcd/client',
  run: 'npx tsx examples/etcd/client.ts',
  summary: [
    "Finds HelloWorld's servers in etcd (the keys examples/etcd/server.ts registers) and calls",
    'Greet --count times through an XClient (failover, round robin, heartbeats), printing',
    `"N: Hello call N" or "N: failed: why" per call and "calls=N failed=M" at the end; each call`,
    `has a ${TIMEOUT_MS} ms deadline. Exits 0 even when calls failed (the summary says how many).`,
  ].join('\n'),
  flags: {
    etcd: {
      type: 'string',
      value: 'URL,...',
      default: 'http://127.0.0.1:2379',
      description: 'the client URLs of the etcd members, comma-separated',
    },
    base: { type: 'string', value: 'PATH', default: '/phobos', description: 'the base path of the keys' },
    count: { type: 'string', value: 'N', default: '10', description: 'calls to make, one after another' },
    'interval-ms': {
      type: 'string',
      value: 'MS',
      default: '0',
      description: 'milliseconds between two calls',
    },
  },
  examples: ['npx tsx examples/etcd/client.ts --etcd http://127.0.0.1:2379 --base /phobos --count 10'],
});

const options = readCommandLine(COMMAND, (flags) => ({
  etcd: etcdUrls('--etcd', flags.etcd),
  base: basePath('--base', flags.base),
  count: integerFlag('--count', flags.count, 1),
  intervalMs: integerFlag('--interval-ms', flags['interval-ms'], 0),
}));

if (options !== undefined) {
  const discovery = etcdDiscovery({ hosts: options.etcd, basePath: options.base, service: 'HelloWorld' });
  const client = new XClient('HelloWorld', {
    discovery,
    failMode: 'failover',
    selectMode: 'roundRobin',
    timeoutMs: TIMEOUT_MS,
    heartbeat: { intervalMs: 1_000, maxMisses: 3 },
  });

  let failed = 0;
  for (let call = 1; call <= options.count; call++) {
    const args: Args = { First: `call ${call}` };
    try {
      const reply = await client.call<Reply>('Greet', args);
      console.log(`${call}: ${reply.Second}`);
    } catch (error) {
      failed++;
      console.log(`${call}: failed: ${(error as Error).message}`);
    }
    if (options.intervalMs > 0 && call < options.count) await delay(options.intervalMs);
  }
  await client.close();
  await discovery.close();
  console.log(`calls=${options.count} failed=${failed}`);
}
