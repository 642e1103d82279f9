// The phobos server behind the gateway system: `HelloWorld.Greet` on loopback TCP, in a process of
// its own, started by `gateway/server.ts` (contract in benchmarks/harness/system.ts).
import { runServerProcess } from '../../harness/server-process.js';
import { phobos } from '../../lib/phobos.js';
import { type GreetRequest, greet } from '../../workloads/index.js';

const server = new phobos.Server({ logger: phobos.silentLogger });
server.register('HelloWorld', {
  Greet(args: GreetRequest) {
    return greet(args);
  },
});
const address = await server.listen('tcp@127.0.0.1:0');
runServerProcess(address, () => server.shutdown({ graceMs: 1_000 }));
