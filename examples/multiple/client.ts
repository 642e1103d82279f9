// Calls HelloWorld.Greet on several servers through an XClient, and keeps going while servers
// come and go. Start three servers, then this client; kill one mid-run to watch it carry on:
//   npx tsx examples/helloworld/server.ts --addr localhost:8972   (and 8973, 8974)
//   npx tsx examples/multiple/client.ts --addrs localhost:8972,localhost:8973,localhost:8974 \
//     --fail failover --select roundRobin --count 1000 --interval-ms 10
// It ends with one line `calls=N failed=M` and exits 0 even when some calls failed.
import { parseArgs } from 'node:util';
import {
  type FailMode,
  multipleServersDiscovery,
  SELECT_MODES,
  type SelectMode,
  SerializeType,
  XClient,
} from '../../lib/index.js';
import type { Args, Reply } from '../helloworld/service.js';

const FAIL_MODES: readonly FailMode[] = ['failfast', 'failover', 'failtry', 'failbackup'];

const { values } = parseArgs({
  options: {
    addrs: { type: 'string', default: 'localhost:8972,localhost:8973,localhost:8974' },
    fail: { type: 'string', default: 'failover' },
    select: { type: 'string', default: 'random' },
    count: { type: 'string', default: '100' },
    'interval-ms': { type: 'string', default: '100' },
    codec: { type: 'string', default: 'msgpack' },
    heartbeat: { type: 'boolean', default: false },
  },
});

const failMode = values.fail as FailMode;
const selectMode = values.select as SelectMode;
if (!FAIL_MODES.includes(failMode)) throw new RangeError(`--fail must be one of ${FAIL_MODES.join('|')}`);
if (!SELECT_MODES.includes(selectMode) || selectMode === 'geo') {
  throw new RangeError(`--select must be one of ${SELECT_MODES.filter((mode) => mode !== 'geo').join('|')}`);
}
const count = Number(values.count);
const intervalMs = Number(values['interval-ms']);

const discovery = multipleServersDiscovery(
  values.addrs.split(',').map((addr) => ({ address: `tcp@${addr.trim()}` })),
);
const client = new XClient('HelloWorld', {
  discovery,
  failMode,
  selectMode,
  timeoutMs: 5_000,
  serializeType: values.codec === 'json' ? SerializeType.JSON : SerializeType.MsgPack,
  ...(values.heartbeat ? { heartbeat: { intervalMs: 500, maxMisses: 3 } } : {}),
});

let failed = 0;
for (let call = 1; call <= count; call++) {
  const args: Args = { First: `call ${call}` };
  try {
    const reply = await client.call<Reply>('Greet', args);
    if (call % 50 === 0) console.log(`${call}: ${reply.Second}`);
  } catch (error) {
    failed++;
    console.log(`${call}: failed: ${(error as Error).message}`);
  }
  if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await client.close();
discovery.close();
console.log(`calls=${count} failed=${failed}`);
