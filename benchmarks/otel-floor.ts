// What tracing costs before phobos/otel does anything, against what it costs in all: one process
// runs a phobos server and an XClient (failover) over loopback, echo64 at 100 calls in flight, and
// reports the CPU per call (client and server together) of each mode, each in a process of its
// own, the modes taking turns round by round:
//   off      nothing installed;
//   context  an OpenTelemetry SDK registered (1% of traces sampled) and its async-hooks context
//            manager enabled (as an SDK does for any instrumentation), no interceptor;
//   noop     a pass-through interceptor at each stage of the client and on the server (what any
//            interceptor costs);
//   metadata nothing installed, each call sending one metadata entry (a traceparent, what otelClient
//            adds to a call);
//   server   otelServer only;  client  otelClient only;  both  otelServer and otelClient.
//   npm run build && npx tsx benchmarks/otel-floor.ts [--calls 300000] [--rounds 3] [--modes off,both]

import { AsyncLocalStorage } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { chosenModes } from './lib/modes.js';
import { otel, setUpTracing } from './lib/otel.js';
import { phobos } from './lib/phobos.js';
import { echo64Payload } from './workloads/index.js';

const MODES = ['off', 'context', 'noop', 'metadata', 'server', 'client', 'both'] as const;
type Mode = (typeof MODES)[number];
const IN_FLIGHT = 100;

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '300000' },
    rounds: { type: 'string', default: '3' },
    mode: { type: 'string' },
    modes: { type: 'string' },
  },
});
const calls = Number(values.calls);
const rounds = Number(values.rounds);
if (!(calls > 0) || !(rounds > 0)) throw new RangeError('--calls and --rounds must be positive numbers');

const mode = MODES.find((known) => known === values.mode);
if (mode === undefined) compare();
else await measure(mode);

function compare(): void {
  console.log(
    `echo64, XClient (failover) and server in one process, ${IN_FLIGHT} in flight, node ${process.version}`,
  );
  const modes = chosenModes(MODES, values.modes);
  const results = new Map<Mode, number[]>(modes.map((known) => [known, []]));
  for (let round = 0; round < rounds; round++) {
    const order = [...modes.slice(round % modes.length), ...modes.slice(0, round % modes.length)];
    for (const known of order) {
      const run = spawnSync(
        process.execPath,
        ['--import', 'tsx', new URL(import.meta.url).pathname, '--mode', known, '--calls', String(calls)],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
      );
      if (run.status !== 0) throw new Error(`the ${known} run failed`);
      const us = Number(run.stdout.trim());
      results.get(known)?.push(us);
      console.log(`${known.padEnd(8)} ${us.toFixed(2)} us CPU per call`);
    }
  }
  const median = (list: number[]): number =>
    [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)] ?? 0;
  const off = median(results.get('off') ?? []);
  for (const known of modes) {
    const us = median(results.get(known) ?? []);
    console.log(
      `${known.padEnd(8)} median ${us.toFixed(2)} us (${(us / off).toFixed(2)}x off, ${us >= off ? '+' : ''}${(us - off).toFixed(2)} us)`,
    );
  }
}

/** One run of `mode`: warms up, then prints the CPU microseconds per call of `calls` calls. */
async function measure(mode: Mode): Promise<void> {
  if (mode !== 'off' && mode !== 'metadata') {
    setUpTracing(0.01);
    // The context manager hooks promises once it is first used: any instrumentation does that.
    new AsyncLocalStorage().run(undefined, () => {});
  }
  const server = new phobos.Server({ logger: phobos.silentLogger });
  server.register('Echo', { Echo: (args: unknown) => args });
  if (mode === 'server' || mode === 'both') otel.otelServer(server);
  const address = await server.listen('tcp@127.0.0.1:0');
  const discovery = phobos.p2pDiscovery(address);
  const client = new phobos.XClient('Echo', {
    discovery,
    failMode: 'failover',
    serializeType: phobos.SerializeType.MsgPack,
  });
  if (mode === 'client' || mode === 'both') otel.otelClient(client);
  if (mode === 'noop') {
    client.use((next) => (call) => next(call));
    client.use((next) => (call) => next(call), { stage: 'attempt' });
    server.use((next) => (call) => next(call));
  }
  const options =
    mode === 'metadata'
      ? { metadata: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00' } }
      : undefined;
  const run = async (count: number): Promise<void> => {
    let left = count;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (left-- > 0) await client.call('Echo', echo64Payload, options);
      }),
    );
  };
  await run(Math.min(50_000, calls));
  const cpuAtStart = process.cpuUsage();
  await run(calls);
  const cpu = process.cpuUsage(cpuAtStart);
  process.stdout.write(`${((cpu.user + cpu.system) / calls).toFixed(3)}\n`);
  await client.close();
  discovery.close?.();
  await server.shutdown({ graceMs: 0 });
  process.exit(0);
}
