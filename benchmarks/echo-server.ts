// A Phobos server with one Echo service, for benchmarks: prints its address as a JSON line on
// stdout, serves until SIGTERM/SIGINT or until stdin closes (so it never outlives its parent).
import { phobos } from './lib/phobos.js';

const { Server, silentLogger } = phobos;

const server = new Server({ logger: silentLogger });
server.register('Echo', {
  Echo(args: unknown) {
    return args;
  },
});
const address = await server.listen(process.argv[2] ?? 'tcp@127.0.0.1:0');
process.stdout.write(`${JSON.stringify({ address })}\n`);

const stop = (): void => void server.shutdown({ graceMs: 1_000 }).then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('close', stop);
process.stdin.resume();
