// What observability costs: echo64 at 100 calls in flight through an XClient (failover) to one
// phobos server process, with nothing installed ("off"), with phobos/metrics on both sides
// ("metrics": serverMetrics, clientMetrics, a prom-client Registry scraped as Prometheus would,
// once a second), and with tracing too: otelServer and otelClient with 1% of traces sampled
// ("sampled", as services run it) or every span sampled ("traced"), spans exported in batches;
// the modes take turns round by round, each with a server process of its own started the same
// way; calls/s, p99 and the CPU per call of client and server.
//   npm run build && npx tsx benchmarks/observability-overhead.ts [--seconds 5] [--rounds 3] [--modes off,sampled]
//     [--cpu-prof DIR: a CPU profile of every server and client process, named by pid, in DIR]
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { metrics } from './lib/metrics.js';
import { chosenModes } from './lib/modes.js';
import { otel, setUpTracing } from './lib/otel.js';
import { phobos } from './lib/phobos.js';
import { echo64Payload } from './workloads/index.js';

const IN_FLIGHT = 100;
const SCRAPE_EVERY_MS = 1_000;
type Mode = 'off' | 'metrics' | 'sampled' | 'traced';
const MODES: readonly Mode[] = ['off', 'metrics', 'sampled', 'traced'];
/** The share of traces each mode samples. */
const SAMPLED: Record<Mode, number> = { off: 0, metrics: 0, sampled: 0.01, traced: 1 };

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    role: { type: 'string' },
    mode: { type: 'string' },
    address: { type: 'string' },
    modes: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});

const roleMode = (MODES.find((mode) => mode === values.mode) ?? 'off') as Mode;
if (values.role === 'server') await serve(roleMode);
else if (values.role === 'client') await drive(roleMode, values.address ?? '', Number(values.seconds));
else await compare();

/** The server process: Echo.Echo over MsgPack, observed or not; prints its address, answers `stats`. */
async function serve(mode: Mode): Promise<void> {
  const server = new phobos.Server({ logger: phobos.silentLogger });
  server.register('Echo', { Echo: (args: unknown) => args });
  const registry = new Registry();
  let scraper: NodeJS.Timeout | undefined;
  if (mode !== 'off') {
    metrics.serverMetrics(server, { registry });
    scraper = setInterval(() => void registry.metrics(), SCRAPE_EVERY_MS);
  }
  if (SAMPLED[mode] > 0) {
    setUpTracing(SAMPLED[mode]);
    otel.otelServer(server);
  }
  const address = await server.listen('tcp@127.0.0.1:0');
  process.stdout.write(`${JSON.stringify({ address })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', () => {
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1_000 })}\n`);
  });
  lines.once('close', () => {
    clearInterval(scraper);
    void server.shutdown({ graceMs: 0 }).then(() => process.exit(0));
  });
}

async function compare(): Promise<void> {
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  if (!(seconds > 0) || !(rounds > 0))
    throw new RangeError('--seconds and --rounds must be positive numbers');
  console.log(
    `echo64, XClient (failover), ${IN_FLIGHT} in flight, ${seconds} s per run, node ${process.version}`,
  );
  const empty = () => ({
    calls: 0,
    seconds: 0,
    clientUs: [] as number[],
    serverUs: [] as number[],
    p99: [] as number[],
  });
  const totals: Record<Mode, ReturnType<typeof empty>> = {
    off: empty(),
    metrics: empty(),
    sampled: empty(),
    traced: empty(),
  };
  const modes = chosenModes(MODES, values.modes);
  for (let round = 1; round <= rounds; round++) {
    const turn = (round - 1) % modes.length;
    const order = [...modes.slice(turn), ...modes.slice(0, turn)];
    for (const mode of order) {
      const run = await measure(mode, seconds);
      const total = totals[mode];
      total.calls += run.calls;
      total.seconds += run.seconds;
      total.clientUs.push(run.clientUs);
      total.serverUs.push(run.serverUs);
      total.p99.push(run.p99Ms);
      console.log(
        `${mode.padEnd(7)} ${Math.round(run.calls / run.seconds)
          .toLocaleString('en-US')
          .padStart(
            8,
          )} calls/s  p99 ${run.p99Ms.toFixed(2)} ms  client ${run.clientUs.toFixed(2)} us  server ${run.serverUs.toFixed(2)} us CPU per call`,
      );
    }
  }
  const rate = (mode: Mode): number => totals[mode].calls / totals[mode].seconds;
  const mean = (list: number[]): number => list.reduce((a, b) => a + b, 0) / list.length;
  for (const mode of modes) {
    if (mode === 'off') continue;
    const cost = 1 - rate(mode) / rate('off');
    console.log(
      `${mode} / off: calls/s ${(rate(mode) / rate('off')).toFixed(3)}x (cost ${(100 * cost).toFixed(1)}%), ` +
        `client CPU per call ${(mean(totals[mode].clientUs) / mean(totals.off.clientUs)).toFixed(3)}x, ` +
        `server CPU per call ${(mean(totals[mode].serverUs) / mean(totals.off.serverUs)).toFixed(3)}x, ` +
        `p99 ${(mean(totals[mode].p99) / mean(totals.off.p99)).toFixed(3)}x`,
    );
  }
}

/** A child process of this script in `role` and `mode`, read line by line. */
function child(role: 'server' | 'client', mode: Mode, extra: readonly string[] = []) {
  const process_ = spawn(
    process.execPath,
    [
      ...(values['cpu-prof'] === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']]),
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      '--role',
      role,
      '--mode',
      mode,
      ...extra,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: process_.stdout })[Symbol.asyncIterator]();
  return {
    process: process_,
    async next(): Promise<string> {
      const { value, done } = await lines.next();
      if (done) throw new Error(`the ${role} process ended early`);
      return value as string;
    },
    async end(): Promise<void> {
      process_.stdin.end();
      if (process_.exitCode === null)
        await new Promise<void>((resolve) => process_.once('exit', () => resolve()));
    },
  };
}

/**
 * One run: a server process and a client process of the mode (so that tracing's context manager,
 * once enabled, is in no other mode's processes); the server's CPU is sampled around the client's
 * measured window.
 */
async function measure(
  mode: Mode,
  seconds: number,
): Promise<{ calls: number; seconds: number; clientUs: number; serverUs: number; p99Ms: number }> {
  const server = child('server', mode);
  const { address } = JSON.parse(await server.next()) as { address: string };
  const serverCpu = async (): Promise<number> => {
    server.process.stdin.write('stats\n');
    return (JSON.parse(await server.next()) as { cpuMs: number }).cpuMs;
  };
  const client = child('client', mode, ['--address', address, '--seconds', String(seconds)]);
  await client.next(); // warmed up
  const serverAtStart = await serverCpu();
  client.process.stdin.write('go\n');
  const result = JSON.parse(await client.next()) as {
    calls: number;
    seconds: number;
    cpuUs: number;
    p99Ms: number;
  };
  const serverMs = (await serverCpu()) - serverAtStart;
  await client.end();
  await server.end();
  return {
    calls: result.calls,
    seconds: result.seconds,
    clientUs: result.cpuUs / result.calls,
    serverUs: (serverMs * 1_000) / result.calls,
    p99Ms: result.p99Ms,
  };
}

/** The client process: warms up, says so, waits for `go`, measures, prints the result. */
async function drive(mode: Mode, address: string, seconds: number): Promise<void> {
  if (SAMPLED[mode] > 0) setUpTracing(SAMPLED[mode]);
  const discovery = phobos.p2pDiscovery(address);
  const client = new phobos.XClient('Echo', {
    discovery,
    failMode: 'failover',
    serializeType: phobos.SerializeType.MsgPack,
  });
  const registry = new Registry();
  let scraper: NodeJS.Timeout | undefined;
  if (mode !== 'off') {
    metrics.clientMetrics(client, { registry });
    scraper = setInterval(() => void registry.metrics(), SCRAPE_EVERY_MS);
  }
  if (SAMPLED[mode] > 0) otel.otelClient(client);
  const call = (): Promise<unknown> => client.call('Echo', echo64Payload);
  // Warm up: connections, JIT.
  const warmUntil = performance.now() + 1_000;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < warmUntil) await call();
    }),
  );
  process.stdout.write('warm\n');
  await new Promise<void>((resolve) =>
    createInterface({ input: process.stdin }).once('line', () => resolve()),
  );
  const latencies: number[] = [];
  let stop = false;
  const timer = setTimeout(() => {
    stop = true;
  }, seconds * 1_000);
  const cpuAtStart = process.cpuUsage();
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (!stop) {
        const at = performance.now();
        await call();
        latencies.push(performance.now() - at);
      }
    }),
  );
  const elapsed = (performance.now() - startedAt) / 1_000;
  const cpu = process.cpuUsage(cpuAtStart);
  clearTimeout(timer);
  clearInterval(scraper);
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({
      calls: latencies.length,
      seconds: elapsed,
      cpuUs: cpu.user + cpu.system,
      p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    })}\n`,
  );
  await client.close();
  discovery.close?.();
  process.exit(0);
}
