// Big payloads do not stall small calls: one phobos server process (systems/phobos/server.ts, an
// Echo.Echo) and two client processes on their own connections: one making echo64 calls
// (64-byte MsgPack, --small-in-flight in flight) and recording each call's latency, the other
// making big256k-gzip calls (256 KiB raw bytes, `compress: true`, --big-in-flight in flight).
// Three configurations, in an order rotated round by round, each with processes of its own:
//   alone       the small calls alone;
//   event-loop  with the big calls, `offloadThresholdBytes: Infinity` on the server and the big
//               client: every gzip and gunzip on the event loop (the behaviour before the option);
//   offload     with the big calls, the option not given: payloads past the default threshold
//               gzipped and gunzipped on libuv's thread pool.
// Per configuration, medians over the rounds: the small calls' p50, p99, p99.9, max (ms) and
// calls/s; the big calls' calls/s and MB/s (uncompressed payload sent, as much comes back).
//   npm run build && npx tsx benchmarks/mixed-payloads.ts [--seconds 5] [--rounds 3]
//     [--big-in-flight 4] [--small-in-flight 1] [--warmup 1] [--save]
// --save writes benchmarks/results/<date>-mixed-payloads.json.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { machineInfo } from './harness/bench-report.js';
import { RESULTS_DIR, runName } from './harness/harness-options.js';
import { readJsonLines } from './harness/line-reader.js';
import { systemFile } from './harness/load-system-client.js';
import { REPO_ROOT, type SystemServer, startServerProcess } from './harness/system-server.js';
import type { MixedClientResult } from './systems/phobos/mixed-client.js';
import { BIG_PAYLOAD_BYTES } from './workloads/index.js';

/** A configuration of one run. */
interface Configuration {
  readonly name: 'alone' | 'event-loop' | 'offload';
  readonly description: string;
  /** Whether the big gzip calls run. */
  readonly big: boolean;
  /** Flags of the server and of the big client. */
  readonly flags: readonly string[];
}

const CONFIGURATIONS: readonly Configuration[] = [
  { name: 'alone', description: 'small calls alone', big: false, flags: [] },
  {
    name: 'event-loop',
    description: 'with big gzip calls, offloadThresholdBytes: Infinity',
    big: true,
    flags: ['--offload-threshold-bytes', 'Infinity'],
  },
  { name: 'offload', description: 'with big gzip calls, default offload', big: true, flags: [] },
];

/**
 * How long the big calls run before the small calls' window opens and after it closes, so that
 * the window sees them at their steady rate throughout.
 */
const LEAD_SECONDS = 0.5;

/** One configuration in one round. */
interface MixedRun {
  readonly round: number;
  readonly configuration: Configuration['name'];
  readonly small: MixedClientResult | undefined;
  readonly big: MixedClientResult | undefined;
  /** Why the run failed, if it did. */
  readonly failure?: string;
}

/** One configuration, medians over its rounds. */
interface MixedSummary {
  readonly configuration: Configuration['name'];
  readonly description: string;
  readonly rounds: number;
  readonly small: {
    readonly p50Ms: number;
    readonly p99Ms: number;
    readonly p999Ms: number;
    readonly maxMs: number;
    readonly callsPerSecond: number;
  };
  /** Undefined for `alone`. */
  readonly big: { readonly callsPerSecond: number; readonly megabytesPerSecond: number } | undefined;
}

const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv,
  strict: true,
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    'big-in-flight': { type: 'string', default: '4' },
    'small-in-flight': { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
    save: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);
const rounds = Number(values.rounds);
const bigInFlight = Number(values['big-in-flight']);
const smallInFlight = Number(values['small-in-flight']);
if (!(seconds > 0) || !(warmupSeconds >= 0))
  throw new RangeError('--seconds must be a positive number and --warmup a number >= 0');
for (const [flag, value] of [
  ['--rounds', rounds],
  ['--big-in-flight', bigInFlight],
  ['--small-in-flight', smallInFlight],
] as const) {
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${flag} must be a positive integer`);
}

const MIXED_CLIENT = new URL('./systems/phobos/mixed-client.ts', import.meta.url).pathname;

/** A mixed-client process, warming up as soon as it starts. */
interface ClientProcess {
  /** Resolves once it has warmed up and waits for {@link go}. */
  readonly warmedUp: Promise<void>;
  /** Opens its measured window. */
  go(): void;
  /** Its result, once the window is over. */
  readonly result: Promise<MixedClientResult>;
  /** Closes its stdin and waits for it to exit (SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/**
 * Starts `node --import tsx benchmarks/systems/phobos/mixed-client.ts ...` the way the harness
 * starts its client runner (plain `spawn`, same flags, same process group, stderr inherited).
 */
function startClient(
  address: string,
  workload: 'echo64' | 'big256k-gzip',
  inFlight: number,
  windowSeconds: number,
  flags: readonly string[],
): ClientProcess {
  const args = [address, workload, String(inFlight), String(windowSeconds), String(warmupSeconds), ...flags];
  const child = spawn(process.execPath, ['--import', 'tsx', MIXED_CLIENT, ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGKILL'), (warmupSeconds + windowSeconds + 60) * 1_000);
  const lines = readJsonLines(child.stdout, `${workload} client`);
  const warmedUp = lines.next().then((line) => {
    if ((line as { event?: unknown }).event !== 'warmed-up')
      throw new Error(`${workload} client printed ${JSON.stringify(line)}, not warmed-up`);
  });
  const result = warmedUp.then(() => lines.next() as Promise<MixedClientResult>);
  // A client that fails before its result is awaited must not be an unhandled rejection.
  result.catch(() => undefined);
  return {
    warmedUp,
    go: () => child.stdin.write('go\n'),
    result,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin.end();
        const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(killer);
      }
      clearTimeout(timer);
    },
  };
}

/** One run: a server of its own, the small client and, but for `alone`, the big client. */
async function runOne(configuration: Configuration, round: number): Promise<MixedRun> {
  let server: SystemServer | undefined;
  const clients: ClientProcess[] = [];
  try {
    // The workload argument only names the server's Echo.Echo, which answers both workloads.
    server = await startServerProcess(
      systemFile('phobos', 'server.ts'),
      ['echo64', ...configuration.flags],
      'phobos server',
    );
    const big = configuration.big
      ? startClient(
          server.address,
          'big256k-gzip',
          bigInFlight,
          seconds + 2 * LEAD_SECONDS,
          configuration.flags,
        )
      : undefined;
    if (big !== undefined) clients.push(big);
    const small = startClient(server.address, 'echo64', smallInFlight, seconds, []);
    clients.push(small);
    await Promise.all(clients.map((client) => client.warmedUp));
    if (big !== undefined) {
      big.go();
      await sleep(LEAD_SECONDS * 1_000);
    }
    small.go();
    const smallResult = await small.result;
    const bigResult = await big?.result;
    return { round, configuration: configuration.name, small: smallResult, big: bigResult };
  } catch (error) {
    return {
      round,
      configuration: configuration.name,
      small: undefined,
      big: undefined,
      failure: String(error),
    };
  } finally {
    await Promise.all(clients.map((client) => client.stop()));
    await server?.stop();
  }
}

const megabytesPerSecond = (callsPerSecond: number): number => (callsPerSecond * BIG_PAYLOAD_BYTES) / 1e6;

function describeRun(run: MixedRun): string {
  const head = `round ${run.round} ${run.configuration.padEnd(10)}`;
  if (run.small === undefined) return `${head} failed: ${run.failure}`;
  const { small, big } = run;
  return (
    `${head} small ${Math.round(small.callsPerSecond).toLocaleString('en-US').padStart(6)} calls/s ` +
    `p50 ${small.p50Ms.toFixed(2)} p99 ${small.p99Ms.toFixed(2)} p99.9 ${small.p999Ms.toFixed(2)} ` +
    `max ${small.maxMs.toFixed(2)} ms` +
    (big === undefined
      ? ''
      : `; big ${big.callsPerSecond.toFixed(0)} calls/s ${megabytesPerSecond(big.callsPerSecond).toFixed(1)} MB/s`) +
    (small.errors + (big?.errors ?? 0) > 0 ? `; ${small.errors + (big?.errors ?? 0)} failed calls` : '')
  );
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function summarize(runs: readonly MixedRun[], configuration: Configuration): MixedSummary {
  const done = runs.filter(
    (run): run is MixedRun & { small: MixedClientResult } =>
      run.configuration === configuration.name && run.small !== undefined,
  );
  const of = (pick: (result: MixedClientResult) => number): number =>
    median(done.map((run) => pick(run.small)));
  const bigRates = done.flatMap((run) => (run.big === undefined ? [] : [run.big.callsPerSecond]));
  return {
    configuration: configuration.name,
    description: configuration.description,
    rounds: done.length,
    small: {
      p50Ms: of((result) => result.p50Ms),
      p99Ms: of((result) => result.p99Ms),
      p999Ms: of((result) => result.p999Ms),
      maxMs: of((result) => result.maxMs),
      callsPerSecond: of((result) => result.callsPerSecond),
    },
    big: configuration.big
      ? { callsPerSecond: median(bigRates), megabytesPerSecond: megabytesPerSecond(median(bigRates)) }
      : undefined,
  };
}

function table(summaries: readonly MixedSummary[]): string {
  // A configuration whose every run failed has no numbers.
  const ms = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : '-');
  const rate = (value: number): string =>
    Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';
  return [
    '| configuration | small p50 ms | small p99 ms | small p99.9 ms | small max ms | small calls/s | big calls/s | big MB/s |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...summaries.map(
      ({ configuration, description, small, big }) =>
        `| ${[
          `\`${configuration}\`: ${description}`,
          ms(small.p50Ms),
          ms(small.p99Ms),
          ms(small.p999Ms),
          ms(small.maxMs),
          rate(small.callsPerSecond),
          big === undefined ? '-' : rate(big.callsPerSecond),
          big === undefined || !Number.isFinite(big.megabytesPerSecond)
            ? '-'
            : big.megabytesPerSecond.toFixed(1),
        ].join(' | ')} |`,
    ),
  ].join('\n');
}

const date = new Date();
console.log(
  `small: echo64, ${smallInFlight} in flight; big: big256k-gzip, ${bigInFlight} in flight; ` +
    `${warmupSeconds} s warm-up, ${seconds} s measured, ${rounds} round(s), node ${process.version}`,
);
const runs: MixedRun[] = [];
for (let round = 1; round <= rounds; round++) {
  const turn = (round - 1) % CONFIGURATIONS.length;
  for (const configuration of [...CONFIGURATIONS.slice(turn), ...CONFIGURATIONS.slice(0, turn)]) {
    const run = await runOne(configuration, round);
    runs.push(run);
    console.log(describeRun(run));
  }
}
const summaries = CONFIGURATIONS.map((configuration) => summarize(runs, configuration));
console.log(`\nMedians over ${rounds} round(s):\n\n${table(summaries)}`);

if (values.save) {
  const output = new URL(`${runName(date, 'mixed-payloads')}.json`, RESULTS_DIR);
  const report = {
    command: `npx tsx benchmarks/mixed-payloads.ts${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`,
    date: date.toISOString(),
    machine: machineInfo(),
    settings: { seconds, warmupSeconds, rounds, bigInFlight, smallInFlight, leadSeconds: LEAD_SECONDS },
    runs,
    summaries,
  };
  writeFileSync(output, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${output.pathname}`);
}
const failed = runs.filter(
  (run) => run.failure !== undefined || (run.small?.errors ?? 0) + (run.big?.errors ?? 0) > 0,
);
if (failed.length > 0) {
  console.error(`${failed.length} run(s) failed or had failed calls: see above`);
  process.exitCode = 1;
}
