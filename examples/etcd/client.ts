// Finds HelloWorld's servers in etcd and calls Greet through an XClient with failover, printing
// each reply; ends with one line `calls=N failed=M`. Servers may come and go meanwhile.
//   npx tsx examples/etcd/client.ts --etcd http://127.0.0.1:2379 --base /phobos --count 10
import { parseArgs } from 'node:util';
import { XClient } from '../../lib/index.js';
import { etcdDiscovery } from '../../lib/registry/index.js';
import type { Args, Reply } from '../helloworld/service.js';

const { values } = parseArgs({
  options: {
    etcd: { type: 'string', default: 'http://127.0.0.1:2379' },
    base: { type: 'string', default: '/phobos' },
    count: { type: 'string', default: '10' },
    'interval-ms': { type: 'string', default: '0' },
  },
});
const count = Number(values.count);
const intervalMs = Number(values['interval-ms']);
if (!Number.isInteger(count) || count < 0)
  throw new RangeError(`--count must be an integer >= 0, got ${values.count}`);

const discovery = etcdDiscovery({ hosts: values.etcd, basePath: values.base, service: 'HelloWorld' });
const client = new XClient('HelloWorld', {
  discovery,
  failMode: 'failover',
  selectMode: 'roundRobin',
  timeoutMs: 5_000,
  heartbeat: { intervalMs: 1_000, maxMisses: 3 },
});

let failed = 0;
for (let call = 1; call <= count; call++) {
  const args: Args = { First: `call ${call}` };
  try {
    const reply = await client.call<Reply>('Greet', args);
    console.log(`${call}: ${reply.Second}`);
  } catch (error) {
    failed++;
    console.log(`${call}: failed: ${(error as Error).message}`);
  }
  if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await client.close();
await discovery.close();
console.log(`calls=${count} failed=${failed}`);
