// The one-port path of greet-json: a phobos `Server({ http: true })` answers HTTP on its own RPC
// port and calls `HelloWorld.Greet` in process, no hop (contract in benchmarks/harness/system.ts).
import { runServerProcess } from '../../harness/server-process.js';
import { phobos } from '../../lib/phobos.js';
import { type GreetRequest, greet } from '../../workloads/index.js';

const server = new phobos.Server({ logger: phobos.silentLogger, http: true });
server.register('HelloWorld', {
  Greet(args: GreetRequest) {
    return greet(args);
  },
});
const address = await server.listen('tcp@127.0.0.1:0');
runServerProcess(address.replace(/^tcp@/, ''), () => server.shutdown({ graceMs: 1_000 }));
