// What the governed client costs over the single-connection one: the echo64 workload at 100
// calls in flight against one phobos server process, through `Client` and through `XClient`
// (failover, p2p discovery of that one server), alternating; calls/s and the client process's
// CPU per call.
//   npm run build && npx tsx benchmarks/xclient-overhead.ts [--seconds 5] [--rounds 3]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { phobos } from './lib/phobos.js';
import { echo64Payload } from './workloads/index.js';

const { Client, p2pDiscovery, SerializeType, XClient } = phobos;
const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '3' } },
});
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
if (!(seconds > 0) || !(rounds > 0)) throw new RangeError('--seconds and --rounds must be positive numbers');
const IN_FLIGHT = 100;

const server = spawn(process.execPath, ['--import', 'tsx', 'benchmarks/systems/phobos/server.ts', 'echo64'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const line = await new Promise<string>((resolve) =>
  createInterface({ input: server.stdout }).once('line', resolve),
);
const { address } = JSON.parse(line) as { address: string };

async function measure(kind: 'Client' | 'XClient'): Promise<string> {
  const client =
    kind === 'Client'
      ? new Client(address, { serializeType: SerializeType.MsgPack })
      : new XClient('Echo', {
          discovery: p2pDiscovery(address),
          serializeType: SerializeType.MsgPack,
          failMode: 'failover',
        });
  const call = (): Promise<unknown> =>
    client instanceof Client
      ? client.call('Echo', 'Echo', echo64Payload)
      : client.call('Echo', echo64Payload);
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

console.log(`echo64, ${IN_FLIGHT} in flight, ${seconds} s per run, node ${process.version}`);
for (let round = 1; round <= rounds; round++) {
  console.log(await measure('Client'));
  console.log(await measure('XClient'));
}
server.stdin.end();
