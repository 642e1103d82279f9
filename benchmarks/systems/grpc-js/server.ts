// The grpc-js server of one workload:
//   node --import tsx benchmarks/systems/grpc-js/server.ts <workload>
// Prints {"address":"127.0.0.1:<port>"} once listening, answers the stdin line `stats` with
// {cpuUserMs, cpuSystemMs, maxRssKb}, and exits when stdin closes (or on SIGTERM/SIGINT).
import { createInterface } from 'node:readline';
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import type { ProcessStats } from '../../harness/system.js';
import {
  type BenchmarkMessage,
  RPC_WORKLOADS,
  type RpcWorkloadName,
  serverReply,
} from '../../workloads/index.js';
import { type BytesMessage, grpcOptions, loadServices } from './services.js';

const workload = process.argv[2] as RpcWorkloadName;
if (!RPC_WORKLOADS.includes(workload)) {
  process.stderr.write(`usage: server.ts <${RPC_WORKLOADS.join('|')}>, got ${String(process.argv[2])}\n`);
  process.exit(2);
}

const { Hello, Echo } = loadServices();
const server = new Server(grpcOptions(workload));
if (workload === 'message1') {
  server.addService(Hello.service, {
    Say(
      call: ServerUnaryCall<BenchmarkMessage, BenchmarkMessage>,
      callback: sendUnaryData<BenchmarkMessage>,
    ) {
      callback(null, serverReply(call.request));
    },
  });
} else {
  server.addService(Echo.service, {
    Echo(call: ServerUnaryCall<BytesMessage, BytesMessage>, callback: sendUnaryData<BytesMessage>) {
      callback(null, call.request);
    },
  });
}

const port = await new Promise<number>((resolve, reject) => {
  server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
    error ? reject(error) : resolve(bound),
  );
});
process.stdout.write(`${JSON.stringify({ address: `127.0.0.1:${port}` })}\n`);

function stats(): ProcessStats {
  const cpu = process.cpuUsage();
  return {
    cpuUserMs: cpu.user / 1_000,
    cpuSystemMs: cpu.system / 1_000,
    maxRssKb: process.resourceUsage().maxRSS,
  };
}

const stop = (): void => {
  server.forceShutdown();
  process.exit(0);
};
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify(stats())}\n`);
  })
  .on('close', stop);
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
