// A HelloWorld server whose calls, connections and protocol errors are Prometheus metrics, served
// at /metrics on an address of its own. Prints one line with both addresses; SIGINT/SIGTERM let
// the calls in flight finish, close /metrics, and exit.
//   npx tsx examples/metrics/server.ts --addr localhost:8972 --metrics 127.0.0.1:9464
// Port 0 picks a free port (the line printed says which). Run --help for the flags.
import { parseArgs } from 'node:util';
import { Server } from '../../lib/index.js';
import { type MetricsServer, serveMetrics, serverMetrics } from '../../lib/metrics/index.js';
import { HelloWorld } from '../gateway/service.js';
import { cannotListen, commandLine, hostPort } from './cli.js';

const DEFAULT_ADDR = 'localhost:8972';
const DEFAULT_METRICS = '127.0.0.1:9464';
const GRACE_MS = 5_000;

const USAGE = `Usage: npx tsx examples/metrics/server.ts [options]

Serves HelloWorld.Greet (a call without a string First fails) and its metrics for Prometheus.

Options:
  --addr HOST:PORT      where to serve calls (default ${DEFAULT_ADDR}; port 0 picks a free one)
  --metrics HOST:PORT   where to serve /metrics (default ${DEFAULT_METRICS}; port 0 picks a free one)
  -h, --help            print this help
`;

interface Options {
  readonly addr: string;
  readonly metrics: string;
}

function parse(args: string[]): Options | 'help' {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      addr: { type: 'string', default: DEFAULT_ADDR },
      metrics: { type: 'string', default: DEFAULT_METRICS },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  return {
    addr: hostPort('--addr', values.addr, { dial: false }),
    metrics: hostPort('--metrics', values.metrics, { dial: false }),
  };
}

/** Starts the server and its /metrics; undefined (exit code 1) when an address cannot be bound. */
async function start(options: Options): Promise<{ server: Server; metrics: MetricsServer } | undefined> {
  const server = new Server();
  server.register('HelloWorld', new HelloWorld());
  serverMetrics(server);
  let metrics: MetricsServer | undefined;
  try {
    metrics = await serveMetrics({ address: options.metrics });
    const address = await server.listen(`tcp@${options.addr}`);
    console.log(`serving HelloWorld on ${address}, metrics on ${metrics.url}`);
    return { server, metrics };
  } catch (error) {
    cannotListen('server', error);
    await metrics?.close();
    await server.shutdown({ graceMs: 0 });
    return undefined;
  }
}

const options = commandLine('server', USAGE, parse);
const running = options === undefined ? undefined : await start(options);
if (running !== undefined) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: shutting down`);
      void running.server
        .shutdown({ graceMs: GRACE_MS })
        .then(() => running.metrics.close())
        .then(() => console.log('stopped'));
    });
  }
}
