// The gateway path of greet-json, deployed as examples/gateway runs it: the HTTP `Gateway` in this
// process, forwarding each `POST /HelloWorld/Greet` as a JSON call over loopback TCP to a phobos
// `Server` in a process of its own (`rpc-server.ts`), and passing the reply's bytes back (contract
// in benchmarks/harness/system.ts). The server side's CPU and memory are both processes' together.
import { fileURLToPath } from 'node:url';
import { processStats } from '../../harness/process-stats.js';
import { runServerProcess } from '../../harness/server-process.js';
import { startServerProcess } from '../../harness/system-server.js';
import { gateway as gatewayModule } from '../../lib/gateway.js';
import { phobos } from '../../lib/phobos.js';

const rpcServer = await startServerProcess(
  fileURLToPath(new URL('rpc-server.ts', import.meta.url)),
  [],
  'gateway rpc-server',
);
const gateway = new gatewayModule.Gateway({ addresses: [rpcServer.address], logger: phobos.silentLogger });
const url = await gateway.listen('http://127.0.0.1:0');
runServerProcess(
  new URL(url).host,
  async () => {
    await gateway.close();
    await rpcServer.stop();
  },
  async () => {
    const own = processStats();
    const other = await rpcServer.stats();
    return {
      cpuUserMs: own.cpuUserMs + other.cpuUserMs,
      cpuSystemMs: own.cpuSystemMs + other.cpuSystemMs,
      maxRssKb: own.maxRssKb + other.maxRssKb,
    };
  },
);
