// Serves HelloWorld.Greet from one worker process per core, all on the same port, until
// SIGINT/SIGTERM, then shuts every worker down gracefully. Prints
// `serving HelloWorld on tcp@HOST:PORT with N workers` once every worker listens (port 0 picks a
// free port, and the line says which); exits 1 when it cannot listen. Run --help for the flags.
//   npx tsx examples/cluster/server.ts --addr localhost:8972 --workers 4
import { serveCluster } from '../../lib/server/index.js';
import { HelloWorld } from '../helloworld/service.js';
import { cannotListen, defineCommand, hostPort, integerFlag, readCommandLine } from '../lib/cli.js';
import { GRACE_MS } from '../lib/serve-hello.js';

const COMMAND = defineCommand({
  name: 'cluster/server',
  run: 'npx tsx examples/cluster/server.ts',
  summary: [
    'Serves HelloWorld.Greet from several worker processes sharing one port (node:cluster),',
    'restarts a worker that crashes, and prints "serving HelloWorld on tcp@HOST:PORT with N',
    `workers" once all listen; SIGINT/SIGTERM let calls in flight finish (up to ${GRACE_MS} ms).`,
    'Exits 1 when it cannot listen.',
  ].join('\n'),
  flags: {
    addr: {
      type: 'string',
      value: 'HOST:PORT',
      default: 'localhost:8972',
      description: 'where every worker listens; port 0 picks a free one',
    },
    workers: {
      type: 'string',
      value: 'N',
      description: 'how many worker processes (default: one per core)',
    },
  },
  examples: ['npx tsx examples/cluster/server.ts --addr 127.0.0.1:0 --workers 2'],
});

// The script runs again in every worker: each reads the same flags and serves.
const flags = readCommandLine(COMMAND, (values) => ({
  addr: hostPort('--addr', values.addr, { dial: false }),
  workers: values.workers === undefined ? undefined : integerFlag('--workers', values.workers, 1, 1024),
}));
if (flags !== undefined) {
  const address = `tcp@${flags.addr}`;
  const cluster = serveCluster({
    address,
    ...(flags.workers === undefined ? {} : { workers: flags.workers }),
    shutdownGraceMs: GRACE_MS,
    handleSignals: true,
    setup(server) {
      server.register('HelloWorld', new HelloWorld());
    },
  });
  if (cluster) {
    try {
      const bound = await cluster.address;
      await cluster.ready;
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        process.once(signal, () => {
          console.log(`${signal}: shutting down`);
          void cluster.close().then(() => console.log('stopped'));
        });
      }
      console.log(`serving HelloWorld on ${bound} with ${cluster.workers()} workers`);
    } catch (error) {
      cannotListen(COMMAND.name, address, error);
    }
  }
}
