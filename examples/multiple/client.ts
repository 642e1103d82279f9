// Calls HelloWorld.Greet on several servers through an XClient, and keeps going while servers
// come and go. Start three servers, then this client; kill one mid-run to watch it carry on
// (examples/multiple/run.sh does all of it):
//   npx tsx examples/helloworld/server.ts --addr localhost:8972   (and 8973, 8974)
//   npx tsx examples/multiple/client.ts --addrs localhost:8972,localhost:8973,localhost:8974 \
//     --fail failover --select roundRobin --count 1000 --interval-ms 10
// Every --report-every calls it prints `after N calls: ok=X failed=Y`, each failed call
// `N: failed: why`, and at the end `calls=N failed=M`; it exits 0 even when some calls failed.
import { setTimeout as delay } from 'node:timers/promises';
import {
  type FailMode,
  multipleServersDiscovery,
  SELECT_MODES,
  type SelectMode,
  SerializeType,
  XClient,
} from '../../lib/index.js';
import type { Args, Reply } from '../helloworld/service.js';
import { defineCommand, hostPorts, integerFlag, oneOf, readCommandLine } from '../lib/cli.js';

const FAIL_MODES: readonly FailMode[] = ['failfast', 'failover', 'failtry', 'failbackup'];
/** Every select mode but `geo`, which needs coordinates in the servers' metadata. */
const SELECTS: readonly SelectMode[] = SELECT_MODES.filter((mode) => mode !== 'geo');
const CODECS = { json: SerializeType.JSON, msgpack: SerializeType.MsgPack } as const;
const TIMEOUT_MS = 5_000;
const HEARTBEAT_INTERVAL_MS = 500;

const COMMAND = defineCommand({
  name: 'multiple/client',
  run: 'npx tsx examples/multiple/client.ts',
  summary: [
    'Calls HelloWorld.Greet --count times through an XClient over the given servers, one call',
    'every --interval-ms. Prints "after N calls: ok=X failed=Y" every --report-every calls, each',
    `failed call, and at the end "calls=N failed=M"; each call has a ${TIMEOUT_MS} ms deadline.`,
    'Exits 0 even when calls failed (the summary says how many).',
  ].join('\n'),
  flags: {
    addrs: {
      type: 'string',
      value: 'HOST:PORT,...',
      default: 'localhost:8972,localhost:8973,localhost:8974',
      description: 'the servers',
    },
    fail: {
      type: 'string',
      value: FAIL_MODES.join('|'),
      default: 'failover',
      description: 'what a failed call does',
    },
    select: {
      type: 'string',
      value: SELECTS.join('|'),
      default: 'random',
      description: 'how a server is picked',
    },
    count: { type: 'string', value: 'N', default: '100', description: 'calls to make, one after another' },
    'interval-ms': {
      type: 'string',
      value: 'MS',
      default: '100',
      description: 'milliseconds between two calls',
    },
    'report-every': {
      type: 'string',
      value: 'N',
      default: '50',
      description: 'print "after N calls: ok=X failed=Y" every N calls',
    },
    codec: {
      type: 'string',
      value: 'json|msgpack',
      default: 'msgpack',
      description: 'how the arguments and replies are encoded',
    },
    heartbeat: {
      type: 'boolean',
      description: `ping every server every ${HEARTBEAT_INTERVAL_MS} ms; 3 missed pings drop it`,
    },
  },
  examples: [
    'npx tsx examples/multiple/client.ts --addrs localhost:8972,localhost:8973,localhost:8974 \\',
    '    --fail failover --select roundRobin --count 1000 --interval-ms 10',
  ],
});

const options = readCommandLine(COMMAND, (flags) => ({
  addrs: hostPorts('--addrs', flags.addrs),
  failMode: oneOf('--fail', flags.fail, FAIL_MODES),
  selectMode: oneOf('--select', flags.select, SELECTS, 'geo needs coordinates the servers do not publish'),
  count: integerFlag('--count', flags.count, 1),
  intervalMs: integerFlag('--interval-ms', flags['interval-ms'], 0),
  reportEvery: integerFlag('--report-every', flags['report-every'], 1),
  codec: oneOf('--codec', flags.codec, ['json', 'msgpack'], 'HelloWorld has no Protobuf types'),
  heartbeat: flags.heartbeat,
}));

if (options !== undefined) {
  const discovery = multipleServersDiscovery(options.addrs.map((addr) => ({ address: `tcp@${addr}` })));
  const client = new XClient('HelloWorld', {
    discovery,
    failMode: options.failMode,
    selectMode: options.selectMode,
    timeoutMs: TIMEOUT_MS,
    serializeType: CODECS[options.codec],
    ...(options.heartbeat ? { heartbeat: { intervalMs: HEARTBEAT_INTERVAL_MS, maxMisses: 3 } } : {}),
  });

  let failed = 0;
  for (let call = 1; call <= options.count; call++) {
    const args: Args = { First: `call ${call}` };
    try {
      await client.call<Reply>('Greet', args);
    } catch (error) {
      failed++;
      console.log(`${call}: failed: ${(error as Error).message}`);
    }
    if (call % options.reportEvery === 0)
      console.log(`after ${call} calls: ok=${call - failed} failed=${failed}`);
    if (options.intervalMs > 0 && call < options.count) await delay(options.intervalMs);
  }
  await client.close();
  discovery.close();
  console.log(`calls=${options.count} failed=${failed}`);
}
