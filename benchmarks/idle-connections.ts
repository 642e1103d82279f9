// Memory and CPU of many idle connections: one phobos server process (the benchmark's echo64
// server, defaults: maxConnections 10,000), and this process opening --connections connections
// to it, a batch at a time. Reports the server's peak RSS before and after (per connection), its
// CPU while the connections sit idle, and its CPU while every connection sends a heartbeat every
// --heartbeat-ms (per heartbeat answered).
//   npm run build && npx tsx benchmarks/idle-connections.ts [--connections 10000] [--heartbeat-ms 1000] [--seconds 10]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { firstValueFrom, type Subscription } from 'rxjs';
import type { Connection } from '../lib/client/connection.js';
import type { ProcessStats } from './harness/system.js';
import { phobos } from './lib/phobos.js';

const USAGE =
  'usage: npx tsx benchmarks/idle-connections.ts [--connections N (1..10000)] [--heartbeat-ms MS (100..60000)] [--seconds S (1..600)]';

function fail(message: string): never {
  console.error(`idle-connections: ${message}\n${USAGE}`);
  process.exit(2);
}

function integer(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    fail(`--${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      connections: { type: 'string', default: '10000' },
      'heartbeat-ms': { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '10' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const connections = integer('connections', String(values.connections), 1, 10_000);
const heartbeatMs = integer('heartbeat-ms', String(values['heartbeat-ms']), 100, 60_000);
const seconds = integer('seconds', String(values.seconds), 1, 600);
/** Connections dialled at once: enough to be quick, few enough for the listen backlog. */
const BATCH = 250;

const server = spawn(process.execPath, ['--import', 'tsx', 'benchmarks/systems/phobos/server.ts', 'echo64'], {
  stdio: ['pipe', 'pipe', 'inherit'],
});
const lines = createInterface({ input: server.stdout });
const waiting: Array<(line: string) => void> = [];
lines.on('line', (line) => waiting.shift()?.(line));
const nextLine = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));

async function stats(): Promise<ProcessStats> {
  const line = nextLine();
  server.stdin.write('stats\n');
  return JSON.parse(await line) as ProcessStats;
}

const cpuMs = (s: ProcessStats): number => s.cpuUserMs + s.cpuSystemMs;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const { address } = JSON.parse(await nextLine()) as { address: string };
await pause(1_000);
const before = await stats();

const subscriptions: Subscription[] = [];
const opened: Connection[] = [];
for (let start = 0; start < connections; start += BATCH) {
  const count = Math.min(BATCH, connections - start);
  await Promise.all(
    Array.from({ length: count }, async () => {
      const connection$ = phobos.connect(address, { timeoutMs: 0 });
      let resolve: (connection: Connection) => void = () => undefined;
      const connected = new Promise<Connection>((r) => {
        resolve = r;
      });
      subscriptions.push(connection$.subscribe({ next: resolve, error: (error) => fail(String(error)) }));
      opened.push(await connected);
    }),
  );
}
// Every connection answers one call, so each is fully set up on the server's side.
await Promise.all(opened.map((connection) => firstValueFrom(connection.call$('Echo', 'Echo', 'x'))));
await pause(2_000);
const connected = await stats();
await pause(seconds * 1_000);
const idle = await stats();
const heartbeats = opened.map((connection) => connection.heartbeat$({ intervalMs: heartbeatMs }).subscribe());
await pause(heartbeatMs + 1_000);
const heartbeatStart = await stats();
await pause(seconds * 1_000);
const heartbeatEnd = await stats();
for (const subscription of [...heartbeats, ...subscriptions]) subscription.unsubscribe();
server.stdin.end();

const rssPerConnectionKb = (connected.maxRssKb - before.maxRssKb) / connections;
const idleCpuMsPerSecond = (cpuMs(idle) - cpuMs(connected)) / seconds;
const heartbeatCpuMsPerSecond = (cpuMs(heartbeatEnd) - cpuMs(heartbeatStart)) / seconds;
const heartbeatsPerSecond = (connections * 1_000) / heartbeatMs;
console.log(`${connections} idle connections to one phobos server (node ${process.version})`);
console.log(
  `server peak RSS: ${(before.maxRssKb / 1024).toFixed(1)} MiB before, ${(connected.maxRssKb / 1024).toFixed(1)} MiB with them: ${rssPerConnectionKb.toFixed(2)} KiB per connection`,
);
console.log(`server CPU while idle: ${idleCpuMsPerSecond.toFixed(1)} ms per second`);
console.log(
  `server CPU with a heartbeat every ${heartbeatMs} ms on each (${heartbeatsPerSecond.toFixed(0)}/s): ${heartbeatCpuMsPerSecond.toFixed(1)} ms per second, ${((heartbeatCpuMsPerSecond * 1_000) / heartbeatsPerSecond).toFixed(1)} µs per heartbeat`,
);
