// Calls HelloWorld.Greet on the given servers through an XClient (failover, heartbeats, the
// default circuit breakers) whose calls, retries, breakers and heartbeats are Prometheus metrics,
// served at /metrics. Prints `metrics on URL`, makes --count calls one per --interval-ms, prints
// `calls=N ok=X failed=Y`, then keeps serving /metrics until SIGINT/SIGTERM, and exits.
//   npx tsx examples/metrics/client.ts --addrs localhost:8972,localhost:8973 --count 3600 --metrics 127.0.0.1:9466
// Run --help for the flags.
import { setTimeout as delay } from 'node:timers/promises';
import { multipleServersDiscovery, XClient } from '../../lib/index.js';
import { clientMetrics, type MetricsServer, serveMetrics } from '../../lib/metrics/index.js';
import type { Args, Reply } from '../gateway/service.js';
import {
  cannotListen,
  defineCommand,
  hostPort,
  hostPorts,
  integerFlag,
  readCommandLine,
} from '../lib/cli.js';

const DEFAULT_METRICS = '127.0.0.1:9466';
const DEFAULT_COUNT = '60';
const DEFAULT_INTERVAL_MS = '1000';
const HEARTBEAT_INTERVAL_MS = 1_000;
const CALL_TIMEOUT_MS = 5_000;

const COMMAND = defineCommand({
  name: 'metrics/client',
  run: 'npx tsx examples/metrics/client.ts',
  summary: [
    'Calls HelloWorld.Greet through an XClient with failover, heartbeats and circuit breakers, and',
    'serves its metrics for Prometheus. Prints "metrics on URL", makes --count calls one every',
    '--interval-ms, prints "calls=N ok=X failed=Y", then keeps serving /metrics until',
    `SIGINT/SIGTERM. Each call has a ${CALL_TIMEOUT_MS} ms deadline. Exits 1 when it cannot listen.`,
  ].join('\n'),
  flags: {
    addrs: {
      type: 'string',
      value: 'HOST:PORT,...',
      required: true,
      description: 'the servers to call, host:port or tcp@host:port',
    },
    count: { type: 'string', value: 'N', default: DEFAULT_COUNT, description: 'how many calls to make' },
    'interval-ms': {
      type: 'string',
      value: 'MS',
      default: DEFAULT_INTERVAL_MS,
      description: 'milliseconds to wait between calls',
    },
    'bad-every': {
      type: 'string',
      value: 'K',
      default: '0',
      description: 'every K-th call sends an argument the service refuses; 0: none',
    },
    metrics: {
      type: 'string',
      value: 'HOST:PORT',
      default: DEFAULT_METRICS,
      description: 'where to serve /metrics; port 0 picks a free one',
    },
  },
  examples: [
    'npx tsx examples/metrics/client.ts --addrs localhost:8972,localhost:8973 --count 3600 --interval-ms 1000 \\',
    '    --bad-every 20 --metrics 127.0.0.1:9466',
  ],
});

interface Options {
  readonly addrs: readonly string[];
  readonly count: number;
  readonly intervalMs: number;
  readonly badEvery: number;
  readonly metrics: string;
}

/** Makes the calls, one per interval, until `count` or until `stop` aborts; says how many failed. */
async function callRepeatedly(
  client: XClient,
  options: Options,
  stop: AbortSignal,
): Promise<{ calls: number; failed: number }> {
  let calls = 0;
  let failed = 0;
  while (calls < options.count && !stop.aborted) {
    const call = calls + 1;
    const bad = options.badEvery > 0 && call % options.badEvery === 0;
    // A number where the service wants a string: it answers with an error, as a bug would.
    const args = (bad ? { First: call } : { First: `call ${call}` }) as unknown as Args;
    try {
      await client.call<Reply>('Greet', args, { signal: stop });
    } catch (error) {
      // A call cancelled by SIGINT/SIGTERM is not counted.
      if (stop.aborted) break;
      failed++;
      console.error(`call ${call} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    calls = call;
    if (calls < options.count && options.intervalMs > 0) {
      await delay(options.intervalMs, undefined, { signal: stop }).catch(() => {});
    }
  }
  return { calls, failed };
}

async function main(options: Options): Promise<void> {
  let metrics: MetricsServer;
  try {
    metrics = await serveMetrics({ address: options.metrics });
  } catch (error) {
    cannotListen(COMMAND.name, options.metrics, error);
    return;
  }
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: closing`);
      stop.abort();
    });
  }
  const discovery = multipleServersDiscovery(options.addrs.map((address) => ({ address: `tcp@${address}` })));
  const client = new XClient('HelloWorld', {
    discovery,
    failMode: 'failover',
    timeoutMs: CALL_TIMEOUT_MS,
    heartbeat: { intervalMs: HEARTBEAT_INTERVAL_MS },
  });
  clientMetrics(client);
  console.log(`metrics on ${metrics.url}`);

  const { calls, failed } = await callRepeatedly(client, options, stop.signal);
  console.log(`calls=${calls} ok=${calls - failed} failed=${failed}`);
  // Prometheus goes on scraping what the client sees (breakers, connections, heartbeats).
  if (!stop.signal.aborted) {
    await new Promise((resolve) => stop.signal.addEventListener('abort', resolve, { once: true }));
  }
  await client.close();
  discovery.close();
  await metrics.close();
  console.log('stopped');
}

const options = readCommandLine(
  COMMAND,
  (flags): Options => ({
    addrs: hostPorts('--addrs', flags.addrs),
    count: integerFlag('--count', flags.count, 1),
    intervalMs: integerFlag('--interval-ms', flags['interval-ms'], 0),
    badEvery: integerFlag('--bad-every', flags['bad-every'], 0),
    metrics: hostPort('--metrics', flags.metrics, { dial: false }),
  }),
);
if (options !== undefined) await main(options);
