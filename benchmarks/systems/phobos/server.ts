// The phobos server of every workload: `node --import tsx benchmarks/systems/phobos/server.ts
// <workload>` (contract in benchmarks/harness/system.ts). message1 is the rpcx benchmark's
// Hello.Say with its protobuf types registered; the others are an Echo.Echo that returns what it
// got (MsgPack for echo64, raw bytes for big256k; gzip replies mirror gzip requests).
import { runServerProcess } from '../../harness/server-process.js';
import { phobos } from '../../lib/phobos.js';
import {
  type BenchmarkMessage,
  loadMessage1,
  type RpcWorkloadName,
  serverReply,
} from '../../workloads/index.js';

const workload = process.argv[2] as RpcWorkloadName;
const server = new phobos.Server({ logger: phobos.silentLogger });
if (workload === 'message1') {
  const { type } = loadMessage1();
  server.register(
    'Hello',
    {
      Say(args: BenchmarkMessage) {
        return serverReply(args);
      },
    },
    { protobuf: { Say: { requestType: type, replyType: type } } },
  );
} else {
  server.register('Echo', {
    Echo(args: unknown) {
      return args;
    },
  });
}
const address = await server.listen('tcp@127.0.0.1:0');
runServerProcess(address, () => server.shutdown({ graceMs: 1_000 }));
