// What the governed client costs over the single-connection one: the echo64 (or message1)
// workload at 100 calls in flight (or --in-flight) against one phobos server process, through `Client` and
// through `XClient` (failover, p2p discovery of that one server), alternating; calls/s and the
// client process's CPU per call. With `--with timeout` every call sets its own timeoutMs (20 s),
// with `--with metadata` it sends one metadata entry (a traceparent), as callers often do.
//   npm run build && npx tsx benchmarks/xclient-overhead.ts [--workload echo64|message1] [--seconds 5] [--rounds 3]
//     [--with none|timeout|metadata] [--in-flight 100]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { phobos } from './lib/phobos.js';
import { echo64Payload, loadMessage1 } from './workloads/index.js';

const { Client, p2pDiscovery, SerializeType, XClient } = phobos;
const { values } = parseArgs({
  options: {
    workload: { type: 'string', default: 'echo64' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    with: { type: 'string', default: 'none' },
    'in-flight': { type: 'string', default: '100' },
  },
});
const workload = values.workload;
if (workload !== 'echo64' && workload !== 'message1')
  throw new RangeError('--workload must be echo64 or message1');
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
if (!(seconds > 0) || !(rounds > 0)) throw new RangeError('--seconds and --rounds must be positive numbers');
const IN_FLIGHT = Number(values['in-flight']);
if (!Number.isInteger(IN_FLIGHT) || IN_FLIGHT < 1)
  throw new RangeError('--in-flight must be a positive integer');
const CALL_OPTIONS = {
  none: undefined,
  timeout: { timeoutMs: 20_000 },
  metadata: { metadata: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' } },
} as const;
const callOptions = Object.entries(CALL_OPTIONS).find(([name]) => name === values.with)?.[1];
if (values.with !== 'none' && callOptions === undefined)
  throw new RangeError('--with must be none, timeout or metadata');

const server = spawn(process.execPath, ['--import', 'tsx', 'benchmarks/systems/phobos/server.ts', workload], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const line = await new Promise<string>((resolve) =>
  createInterface({ input: server.stdout }).once('line', resolve),
);
const { address } = JSON.parse(line) as { address: string };

async function measure(kind: 'Client' | 'XClient'): Promise<string> {
  const message1 = workload === 'message1' ? loadMessage1() : undefined;
  const options = message1
    ? {
        serializeType: SerializeType.Protobuf,
        protobuf: { 'Hello.Say': { requestType: message1.type, replyType: message1.type } },
      }
    : { serializeType: SerializeType.MsgPack };
  const [service, method, payload] = message1
    ? ['Hello', 'Say', message1.payload]
    : ['Echo', 'Echo', echo64Payload];
  const client =
    kind === 'Client'
      ? new Client(address, options)
      : new XClient(service, { ...options, discovery: p2pDiscovery(address), failMode: 'failover' });
  const call = (): Promise<unknown> =>
    client instanceof Client
      ? client.call(service, method, payload, callOptions)
      : client.call(method, payload, callOptions);
  await call();
  let calls = 0;
  let stop = false;
  const timer = setTimeout(() => {
    stop = true;
  }, seconds * 1_000);
  const startedAt = performance.now();
  const cpuAtStart = process.cpuUsage();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (!stop) {
        await call();
        calls += 1;
      }
    }),
  );
  clearTimeout(timer);
  const cpu = process.cpuUsage(cpuAtStart);
  await client.close();
  const perSecond = Math.round(calls / ((performance.now() - startedAt) / 1_000));
  return `${kind.padEnd(7)} ${perSecond.toLocaleString('en-US').padStart(8)} calls/s  ${((cpu.user + cpu.system) / calls).toFixed(2)} us CPU per call`;
}

console.log(
  `${workload}, ${IN_FLIGHT} in flight, call options: ${values.with}, ${seconds} s per run, node ${process.version}`,
);
for (let round = 1; round <= rounds; round++) {
  console.log(await measure('Client'));
  console.log(await measure('XClient'));
}
server.stdin.end();
