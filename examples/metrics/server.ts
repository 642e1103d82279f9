// A HelloWorld server whose calls, connections and protocol errors are Prometheus metrics, served
// at /metrics on an address of its own. Prints one line with both addresses; SIGINT/SIGTERM let
// the calls in flight finish, close /metrics, and exit.
//   npx tsx examples/metrics/server.ts --addr localhost:8972 --metrics 127.0.0.1:9464
// Port 0 picks a free port (the line printed says which). Run --help for the flags.
import { Server } from '../../lib/index.js';
import { type MetricsServer, serveMetrics, serverMetrics } from '../../lib/metrics/index.js';
import { HelloWorld } from '../gateway/service.js';
import { cannotListen, defineCommand, hostPort, readCommandLine } from '../lib/cli.js';

const DEFAULT_ADDR = 'localhost:8972';
const DEFAULT_METRICS = '127.0.0.1:9464';
const GRACE_MS = 5_000;

const COMMAND = defineCommand({
  name: 'metrics/server',
  run: 'npx tsx examples/metrics/server.ts',
  summary: [
    'Serves HelloWorld.Greet (a call without a string First fails) and its metrics for Prometheus.',
    'Prints "serving HelloWorld on ADDRESS, metrics on URL" once both listen; SIGINT/SIGTERM let',
    `calls in flight finish (up to ${GRACE_MS} ms), close /metrics, and exit. Exits 1 when it cannot listen.`,
  ].join('\n'),
  flags: {
    addr: {
      type: 'string',
      value: 'HOST:PORT',
      default: DEFAULT_ADDR,
      description: 'where to serve calls; port 0 picks a free one',
    },
    metrics: {
      type: 'string',
      value: 'HOST:PORT',
      default: DEFAULT_METRICS,
      description: 'where to serve /metrics; port 0 picks a free one',
    },
  },
  examples: ['npx tsx examples/metrics/server.ts --addr localhost:8972 --metrics 127.0.0.1:9464'],
});

interface Options {
  readonly addr: string;
  readonly metrics: string;
}

/** Starts the server and its /metrics until SIGINT/SIGTERM; exit code 1 when an address cannot be bound. */
async function start(options: Options): Promise<void> {
  const server = new Server();
  server.register('HelloWorld', new HelloWorld());
  serverMetrics(server);
  let metrics: MetricsServer | undefined;
  try {
    metrics = await serveMetrics({ address: options.metrics });
    const address = await server.listen(`tcp@${options.addr}`);
    const running = { server, metrics };
    // Ready for signals before saying it listens: whoever waits for the line may stop it at once.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.log(`${signal}: shutting down`);
        void running.server
          .shutdown({ graceMs: GRACE_MS })
          .then(() => running.metrics.close())
          .then(() => console.log('stopped'));
      });
    }
    console.log(`serving HelloWorld on ${address}, metrics on ${metrics.url}`);
  } catch (error) {
    cannotListen(COMMAND.name, metrics === undefined ? options.metrics : `tcp@${options.addr}`, error);
    await metrics?.close();
    await server.shutdown({ graceMs: 0 });
  }
}

const options = readCommandLine(
  COMMAND,
  (flags): Options => ({
    addr: hostPort('--addr', flags.addr, { dial: false }),
    metrics: hostPort('--metrics', flags.metrics, { dial: false }),
  }),
);
if (options !== undefined) await start(options);
