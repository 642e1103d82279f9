// The body shared by the examples' HelloWorld servers: read --addr strictly, listen, say so
// once signals are handled, and shut down gracefully on SIGINT/SIGTERM.
import { Server } from '../../lib/index.js';
import { cannotListen, defineCommand, hostPort, readCommandLine } from './cli.js';

/** How long calls in flight may finish after SIGINT/SIGTERM, in ms. */
export const GRACE_MS = 5_000;

/** What differs between the HelloWorld servers of the examples. */
export interface HelloServerSpec {
  /** The example's name in messages, e.g. `helloworld/server`. */
  readonly name: string;
  /** The file, as run from the repository root. */
  readonly file: string;
  /** What the server serves, one sentence without a final period (the usage adds the rest). */
  readonly serves: string;
  /** The HelloWorld implementation to register. */
  readonly service: object;
}

/**
 * Runs one HelloWorld example server from its command line: prints its usage with `--help`,
 * refuses a bad command line with exit code 2, exits 1 when it cannot listen, prints
 * `serving HelloWorld on tcp@HOST:PORT` once it listens and shuts down gracefully on a signal.
 *
 * @throws never: every failure is printed and ends in an exit code.
 * @example
 * ```ts
 * await serveHelloWorld({ name: 'helloworld/server', file: 'examples/helloworld/server.ts', serves: 'Serves HelloWorld.Greet', service: new HelloWorld() });
 * ```
 */
export async function serveHelloWorld(spec: HelloServerSpec): Promise<void> {
  const command = defineCommand({
    name: spec.name,
    run: `npx tsx ${spec.file}`,
    summary: [
      `${spec.serves}, and prints "serving HelloWorld on tcp@HOST:PORT" once it listens;`,
      `SIGINT/SIGTERM let calls in flight finish (up to ${GRACE_MS} ms), then it exits.`,
      'Exits 1 when it cannot listen.',
    ].join('\n'),
    flags: {
      addr: {
        type: 'string',
        value: 'HOST:PORT',
        default: 'localhost:8972',
        description: 'where to listen; port 0 picks a free one',
      },
    },
    examples: [`npx tsx ${spec.file} --addr 127.0.0.1:0`],
  });
  const addr = readCommandLine(command, (flags) => hostPort('--addr', flags.addr, { dial: false }));
  if (addr === undefined) return;
  const server = new Server();
  server.register('HelloWorld', spec.service);
  let address: string;
  try {
    address = await server.listen(`tcp@${addr}`);
  } catch (error) {
    cannotListen(command.name, `tcp@${addr}`, error);
    await server.shutdown({ graceMs: 0 });
    return;
  }
  // Ready for signals before saying it listens: whoever waits for the line may stop it at once.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`${signal}: shutting down`);
      void server.shutdown({ graceMs: GRACE_MS }).then(() => console.log('stopped'));
    });
  }
  console.log(`serving HelloWorld on ${address}`);
}
