// Two builds of the library side by side: a workload (echo64, message1, big256k, big256k-gzip) at a number of calls
// in flight, one `Client` (or, with --xclient, one `XClient`: failover, p2p discovery of that one
// server) against one server process, both processes loading the same build,
// the builds alternating round by round; calls/s and the CPU per call of client and server.
// For a change's cost on the hot path, build the base in a worktree and compare:
//   git worktree add /tmp/base main && (cd /tmp/base && npm ci && npm run build)
//   npm run build && npx tsx benchmarks/builds.ts --base /tmp/base/dist [--head dist]
//     [--workload echo64|message1|big256k|big256k-gzip] [--in-flight 100] [--seconds 3] [--rounds 3]
//     [--xclient]
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string', default: 'dist' },
    workload: { type: 'string', default: 'echo64' },
    'in-flight': { type: 'string', default: '100' },
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    client: { type: 'boolean', default: false },
    xclient: { type: 'boolean', default: false },
  },
});
const WORKLOADS = ['echo64', 'message1', 'big256k', 'big256k-gzip'] as const;
const workload = values.workload as (typeof WORKLOADS)[number];
if (!WORKLOADS.includes(workload)) throw new RangeError(`--workload must be one of ${WORKLOADS.join(', ')}`);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const inFlight = Number(values['in-flight']);
if (!(seconds > 0) || !(rounds > 0) || !Number.isInteger(inFlight) || inFlight < 1)
  throw new RangeError('--seconds, --rounds and --in-flight must be positive numbers');

if (values.client) await runClient();
else await compare();

/** The parent: for each round, each build: a server process and a client process. */
async function compare(): Promise<void> {
  if (values.base === undefined)
    throw new RangeError('--base <dist directory of the other build> is required');
  const builds = [
    ['base', resolve(values.base)],
    ['head', resolve(values.head)],
  ] as const;
  console.log(`${workload}, ${inFlight} in flight, ${seconds} s per run, node ${process.version}`);
  for (let round = 1; round <= rounds; round++) {
    for (const [name, dist] of builds) console.log(`${name.padEnd(4)} ${await run(dist)}`);
  }
}

/** One run of one build: its own server, its own client. */
async function run(dist: string): Promise<string> {
  const env = { ...process.env, PHOBOS_DIST: dist };
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', 'benchmarks/systems/phobos/server.ts', workload],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env,
    },
  );
  const serverLines = createInterface({ input: server.stdout });
  const nextServerLine = (): Promise<string> => new Promise((done) => serverLines.once('line', done));
  const { address } = JSON.parse(await nextServerLine()) as { address: string };
  const serverCpu = async (): Promise<number> => {
    const answer = nextServerLine();
    server.stdin.write('stats\n');
    const stats = JSON.parse(await answer) as { cpuUserMs: number; cpuSystemMs: number };
    return stats.cpuUserMs + stats.cpuSystemMs;
  };
  const client = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'benchmarks/builds.ts',
      '--client',
      '--workload',
      workload,
      '--in-flight',
      String(inFlight),
      '--seconds',
      String(seconds),
      ...(values.xclient ? ['--xclient'] : []),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...env, PHOBOS_ADDRESS: address } },
  );
  const clientLines = createInterface({ input: client.stdout });
  const nextClientLine = (): Promise<string> => new Promise((done) => clientLines.once('line', done));
  await nextClientLine(); // warmed up
  const before = await serverCpu();
  client.stdin.write('go\n');
  const result = JSON.parse(await nextClientLine()) as { calls: number; elapsedMs: number; cpuMs: number };
  const after = await serverCpu();
  client.stdin.end();
  server.stdin.end();
  const perCall = (ms: number): string => ((ms * 1_000) / result.calls).toFixed(2);
  const perSecond = Math.round(result.calls / (result.elapsedMs / 1_000));
  return `${perSecond.toLocaleString('en-US').padStart(8)} calls/s  client ${perCall(result.cpuMs)} us CPU per call  server ${perCall(after - before)} us`;
}

/** The child: warms up, says so, then on `go` measures and prints calls and CPU as JSON. */
async function runClient(): Promise<void> {
  const { phobos } = await import('./lib/phobos.js');
  const { big256kPayload, echo64Payload, loadMessage1 } = await import('./workloads/index.js');
  const address = process.env.PHOBOS_ADDRESS ?? '';
  const message1 = workload === 'message1' ? loadMessage1() : undefined;
  const big = workload === 'big256k' || workload === 'big256k-gzip';
  const options = message1
    ? {
        serializeType: phobos.SerializeType.Protobuf,
        protobuf: { 'Hello.Say': { requestType: message1.type, replyType: message1.type } },
      }
    : big
      ? { serializeType: phobos.SerializeType.Raw, compress: workload === 'big256k-gzip' }
      : { serializeType: phobos.SerializeType.MsgPack };
  const [service, method, payload] = message1
    ? ['Hello', 'Say', message1.payload]
    : ['Echo', 'Echo', big ? big256kPayload : echo64Payload];
  const client = values.xclient
    ? (() => {
        const xclient = new phobos.XClient(service, {
          ...options,
          discovery: phobos.p2pDiscovery(address),
          failMode: 'failover',
        });
        return {
          call: (_service: string, name: string, args: unknown) => xclient.call(name, args),
          close: () => xclient.close(),
        };
      })()
    : new phobos.Client(address, options);
  let stop = false;
  let calls = 0;
  const lanes = Array.from({ length: inFlight }, async () => {
    while (!stop) {
      await client.call(service, method, payload);
      calls += 1;
    }
  });
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((done) => lines.once('line', () => done()));
  await new Promise((done) => setTimeout(done, 1_000));
  process.stdout.write('ready\n');
  await go;
  calls = 0;
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  await new Promise((done) => setTimeout(done, seconds * 1_000));
  const measured = calls;
  const elapsedMs = performance.now() - startedAt;
  const cpu = process.cpuUsage(cpuAtStart);
  process.stdout.write(
    `${JSON.stringify({ calls: measured, elapsedMs, cpuMs: (cpu.user + cpu.system) / 1_000 })}\n`,
  );
  stop = true;
  await Promise.allSettled(lanes);
  await client.close();
}
