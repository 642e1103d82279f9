// The gateway path of greet-json: one process holds a phobos `Server` with `HelloWorld.Greet` on
// loopback TCP and the HTTP `Gateway` in front of it, which forwards each `POST /HelloWorld/Greet`
// as a JSON call over a real connection and passes the reply's bytes back (contract in
// benchmarks/harness/system.ts). One process, like the bare server it is compared with: the
// server side has one event loop in both systems, and its CPU is all counted in one place.
import { runServerProcess } from '../../harness/server-process.js';
import { gateway as gatewayModule } from '../../lib/gateway.js';
import { phobos } from '../../lib/phobos.js';
import { type GreetRequest, greet } from '../../workloads/index.js';

const server = new phobos.Server({ logger: phobos.silentLogger });
server.register('HelloWorld', {
  Greet(args: GreetRequest) {
    return greet(args);
  },
});
const rpcAddress = await server.listen('tcp@127.0.0.1:0');
const gateway = new gatewayModule.Gateway({ addresses: [rpcAddress], logger: phobos.silentLogger });
const url = await gateway.listen('http://127.0.0.1:0');
runServerProcess(new URL(url).host, async () => {
  await gateway.close();
  await server.shutdown({ graceMs: 1_000 });
});
