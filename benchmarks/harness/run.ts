import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GATEWAY_WORKLOADS, isRpcWorkload, WORKLOADS, type WorkloadName } from '../workloads/workload.js';
import { type BenchReport, machineInfo, type RunRecord, summarize } from './bench-report.js';
import { formatGenerated } from './format-generated.js';
import { systemExists } from './load-system-client.js';
import { statsBetween } from './process-stats.js';
import { gatewayTargetsLine, measured, renderResults, targetsLine } from './render-results.js';
import { runClient } from './run-client.js';
import { runSoak } from './soak.js';
import { type ProcessStats, SYSTEMS, type SystemName, systemsFor } from './system.js';
import { startSystemServer } from './system-server.js';
import { throughputChart } from './throughput-chart.js';

/** Where results go: `benchmarks/results/`. */
export const RESULTS_DIR = new URL('../results/', import.meta.url);
/** The generated report: `benchmarks/RESULTS.md`. */
export const RESULTS_FILE = new URL('../RESULTS.md', import.meta.url);

/** One workload at one concurrency: every system is measured in it. */
interface Cell {
  readonly workload: WorkloadName;
  readonly concurrency: number;
}

/** The quick run: the main cells only, short windows, one round (under 3 minutes in all). */
const QUICK = {
  cells: [
    { workload: 'message1', concurrency: 1 },
    { workload: 'message1', concurrency: 100 },
    { workload: 'echo64', concurrency: 1 },
    { workload: 'echo64', concurrency: 100 },
    { workload: 'big256k', concurrency: 10 },
    { workload: 'big256k-gzip', concurrency: 10 },
    { workload: 'greet-json', concurrency: 100 },
  ] as readonly Cell[],
  seconds: 2,
  warmupSeconds: 1,
  rounds: 1,
};

/** The full run: every workload at 1, 10, 100 and 1000 in flight, longer windows, two rounds. */
const FULL = {
  cells: WORKLOADS.flatMap((workload) =>
    [1, 10, 100, 1000].map((concurrency) => ({ workload, concurrency })),
  ),
  seconds: 5,
  warmupSeconds: 2,
  rounds: 2,
};

/** The gateway run: greet-json alone (gateway and server-http against http-bare) at 1, 10, 100 and 1000 in flight, three rounds. */
const GATEWAY = {
  cells: GATEWAY_WORKLOADS.flatMap((workload) =>
    [1, 10, 100, 1000].map((concurrency) => ({ workload, concurrency })),
  ),
  seconds: 5,
  warmupSeconds: 2,
  rounds: 3,
};

const USAGE = `usage: npm run bench [-- --full | --gateway | --soak] [options]
  (default)            quick run: message1 and echo64 at 1 and 100 in flight, big256k(-gzip) at 10,
                       greet-json (gateway and server-http against http-bare) at 100
  --full               every workload at 1, 10, 100, 1000 in flight, 2 rounds
  --gateway            greet-json alone at 1, 10, 100, 1000 in flight, 3 rounds: replaces only
                       the Gateway section of RESULTS.md
  --soak               four million calls through an XClient (failover) over three phobos servers
options:
  --seconds N          measured seconds per run        --warmup N   warm-up seconds per run
  --rounds N           rounds per cell                 --systems a,b,...   --workloads a,b,...
  --concurrency a,b    in flight (replaces the mode's concurrencies)
  --calls N            soak: calls in all (default 4000000)
  --render FILE        write RESULTS.md and the chart again from a saved results/*.json`;

/**
 * `npm run bench`: parses the arguments, runs the quick or full benchmark (or the soak), writes
 * `results/<date>-<mode>.json`, `RESULTS.md` and `results/throughput.svg`.
 *
 * @returns the process exit code: 0, or 1 when a run failed or an argument is wrong.
 */
export async function runHarness(argv: readonly string[]): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 1;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const command =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`
      : `npx tsx benchmarks/run.ts${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  if (values.render !== undefined) {
    const report = JSON.parse(readFileSync(values.render, 'utf8')) as BenchReport;
    writeReport(report, []);
    return 0;
  }
  if (values.soak) {
    const calls = values.calls === undefined ? undefined : positive('calls', values.calls);
    return runSoak({ command, calls, resultsDir: RESULTS_DIR, resultsFile: RESULTS_FILE });
  }
  if (values.full && values.gateway) {
    console.error(`--full and --gateway are two different runs\n${USAGE}`);
    return 1;
  }
  const mode = values.full ? 'full' : values.gateway ? 'gateway' : 'quick';
  const preset = { quick: QUICK, full: FULL, gateway: GATEWAY }[mode];
  const workloads = list(values.workloads, mode === 'gateway' ? GATEWAY_WORKLOADS : WORKLOADS, 'workloads');
  const concurrencies = values.concurrency?.split(',').map((text) => positive('concurrency', text));
  const cells: Cell[] = concurrencies
    ? workloads.flatMap((workload) => concurrencies.map((concurrency) => ({ workload, concurrency })))
    : preset.cells.filter((c) => workloads.includes(c.workload));
  const seconds = values.seconds === undefined ? preset.seconds : positive('seconds', values.seconds);
  const warmupSeconds = values.warmup === undefined ? preset.warmupSeconds : Number(values.warmup);
  const rounds = values.rounds === undefined ? preset.rounds : positive('rounds', values.rounds);
  const wanted = list(values.systems, SYSTEMS, 'systems');
  const skipped = wanted.filter((system) => !systemExists(system));
  for (const system of skipped) {
    console.warn(
      `warning: skipping ${system}: benchmarks/systems/${system}/server.ts or client.ts does not exist`,
    );
  }
  const systems = wanted.filter((system) => !skipped.includes(system));

  const date = new Date();
  const cellSystems = (workload: WorkloadName): SystemName[] =>
    systemsFor(workload).filter((system) => systems.includes(system));
  const runsPerRound = cells.reduce((sum, c) => sum + cellSystems(c.workload).length, 0);
  console.log(
    `${mode} run: ${cells.length} cells, ${runsPerRound} runs × ${rounds} round(s), ${warmupSeconds} s warm-up + ${seconds} s each; node ${process.version}`,
  );
  const runs: RunRecord[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const [index, { workload, concurrency }] of cells.entries()) {
      const inCell = cellSystems(workload);
      const shift = inCell.length === 0 ? 0 : (index + round - 1) % inCell.length;
      const order = [...inCell.slice(shift), ...inCell.slice(0, shift)];
      for (const system of order) {
        const run = await runOne(system, workload, concurrency, round, seconds, warmupSeconds);
        runs.push(run);
        console.log(describeRun(run));
      }
    }
  }

  const report: BenchReport = {
    mode,
    command,
    date: date.toISOString(),
    machine: machineInfo(),
    settings: { seconds, warmupSeconds, rounds, cells, systems, skippedSystems: skipped },
    runs,
  };
  const stamp = date.toISOString().slice(0, 19).replace(/:/g, '-');
  const jsonFile = new URL(`${stamp}-${mode}.json`, RESULTS_DIR);
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  writeReport(report, [jsonFile]);
  console.log(`wrote benchmarks/results/${stamp}-${mode}.json`);
  const failed = runs.filter((run) => run.failure !== undefined || (run.client?.errors ?? 0) > 0);
  if (failed.length > 0) console.error(`${failed.length} run(s) failed or had failed calls: see above`);
  return failed.length > 0 ? 1 : 0;
}

/**
 * Writes RESULTS.md for `report` (the parts it did not measure kept as they were) and, when it
 * measured the RPC workloads, the throughput chart; then formats them with `extraFiles`.
 */
function writeReport(report: BenchReport, extraFiles: readonly URL[]): void {
  const { runs, settings } = report;
  const measuredRpc = measured(report, isRpcWorkload);
  const measuredGateway = measured(report, (workload) => !isRpcWorkload(workload));
  writeFileSync(RESULTS_FILE, renderResults(report, readOrEmpty(RESULTS_FILE)));
  if (measuredRpc) {
    const series = settings.systems
      .filter((system) => systemsFor('message1').includes(system))
      .map((system) => ({
        name: system,
        points: settings.cells
          .filter((c) => c.workload === 'message1')
          .flatMap((c) => {
            const summary = summarize(runs, 'message1', c.concurrency, system);
            return summary ? [{ concurrency: c.concurrency, callsPerSecond: summary.callsPerSecond }] : [];
          }),
      }));
    writeFileSync(
      new URL('throughput.svg', RESULTS_DIR),
      throughputChart('message1 (Hello.Say, 581 B protobuf): calls/s, one connection', series),
    );
  }
  formatGenerated([...extraFiles, RESULTS_FILE]);
  console.log('');
  if (measuredRpc) console.log(targetsLine(report));
  if (measuredGateway) console.log(gatewayTargetsLine(report));
  console.log(
    measuredRpc
      ? 'wrote benchmarks/RESULTS.md, benchmarks/results/throughput.svg'
      : 'wrote the Gateway section of benchmarks/RESULTS.md (the rest is kept)',
  );
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: {
      full: { type: 'boolean', default: false },
      gateway: { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      systems: { type: 'string' },
      workloads: { type: 'string' },
      concurrency: { type: 'string' },
      calls: { type: 'string' },
      render: { type: 'string' },
    },
  }).values;
}

function positive(name: string, text: string): number {
  const value = Number(text);
  if (!(value > 0)) throw new RangeError(`--${name} must be a positive number, got ${text}`);
  return value;
}

function list<T extends string>(text: string | undefined, all: readonly T[], name: string): T[] {
  if (text === undefined) return [...all];
  const picked = text.split(',');
  for (const item of picked) {
    if (!all.includes(item as T))
      throw new RangeError(`--${name}: unknown ${item}; one of ${all.join(', ')}`);
  }
  return picked as T[];
}

function readOrEmpty(file: URL): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Starts the system's server, runs its client runner, samples the server around the window. */
async function runOne(
  system: SystemName,
  workload: WorkloadName,
  concurrency: number,
  round: number,
  seconds: number,
  warmupSeconds: number,
): Promise<RunRecord> {
  const base = { workload, concurrency, system, round };
  let server: Awaited<ReturnType<typeof startSystemServer>> | undefined;
  try {
    server = await startSystemServer(system, workload);
    const started = server;
    let before: ProcessStats | undefined;
    let after: ProcessStats | undefined;
    const client = await runClient({
      system,
      address: started.address,
      workload,
      concurrency,
      seconds,
      warmupSeconds,
      timeoutMs: (seconds + warmupSeconds) * 1_000 + 600_000,
      beforeWindow: async () => {
        before = await started.stats();
      },
      afterWindow: async () => {
        after = await started.stats();
      },
    });
    if (!before || !after) throw new Error('the server did not answer `stats`');
    return { ...base, client, server: statsBetween(before, after) };
  } catch (error) {
    return { ...base, client: undefined, server: undefined, failure: String(error) };
  } finally {
    await server?.stop();
  }
}

function describeRun(run: RunRecord): string {
  const head = `${run.workload.padEnd(13)} ${String(run.concurrency).padStart(4)} in flight  ${run.system.padEnd(9)}`;
  if (!run.client || !run.server) return `${head} FAILED: ${run.failure}`;
  const c = run.client;
  const cpu = (ms: number): string => ((ms / 1_000 / c.calls) * 10_000).toFixed(2);
  return `${head} ${Math.round(c.callsPerSecond).toLocaleString('en-US').padStart(9)} calls/s  p50 ${c.p50Ms.toFixed(2)} ms  p99 ${c.p99Ms.toFixed(2)} ms  p99.9 ${c.p999Ms.toFixed(2)} ms  CPU s/10k ${cpu(c.cpuUserMs + c.cpuSystemMs)} client ${cpu(run.server.cpuUserMs + run.server.cpuSystemMs)} server${c.errors > 0 ? `  ${c.errors} errors` : ''}`;
}
