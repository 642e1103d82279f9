// The phobos server of every workload: `node --import tsx benchmarks/systems/phobos/server.ts
// <workload> [--offload-threshold-bytes N]` (contract in benchmarks/harness/system.ts). message1
// is the rpcx benchmark's Hello.Say with its protobuf types registered; the others are an
// Echo.Echo that returns what it got (MsgPack for echo64, raw bytes for big256k; gzip replies
// mirror gzip requests). --offload-threshold-bytes sets the server's `offloadThresholdBytes`
// (`Infinity` keeps every gzip on the event loop); without it the server has the default.
import { parseArgs } from 'node:util';
import { runServerProcess } from '../../harness/server-process.js';
import { phobos } from '../../lib/phobos.js';
import {
  type BenchmarkMessage,
  loadMessage1,
  type RpcWorkloadName,
  serverReply,
} from '../../workloads/index.js';

const { values, positionals } = parseArgs({
  options: { 'offload-threshold-bytes': { type: 'string' } },
  allowPositionals: true,
});
const workload = positionals[0] as RpcWorkloadName;
const offload = values['offload-threshold-bytes'];
const offloadThresholdBytes = offload === undefined ? undefined : Number(offload);
if (offloadThresholdBytes !== undefined && !(offloadThresholdBytes >= 0))
  throw new RangeError(`--offload-threshold-bytes must be a number >= 0 or Infinity, got ${offload}`);
const server = new phobos.Server({
  logger: phobos.silentLogger,
  ...(offloadThresholdBytes === undefined ? {} : { offloadThresholdBytes }),
});
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
