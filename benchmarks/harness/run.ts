import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRpcWorkload, type WorkloadName } from '../workloads/workload.js';
import { type BenchReport, machineInfo, type RunRecord, summarize } from './bench-report.js';
import { formatGenerated } from './format-generated.js';
import {
  type HarnessCommand,
  RESULTS_DIR,
  RESULTS_FILE,
  type ResultPaths,
  resultPaths,
  runName,
} from './harness-options.js';
import { systemExists } from './load-system-client.js';
import { statsBetween } from './process-stats.js';
import { gatewayTargetsLine, measured, renderResults, targetsLine } from './render-results.js';
import { runClient } from './run-client.js';
import { runSoak } from './soak.js';
import { type ProcessStats, type SystemName, systemsFor } from './system.js';
import { startSystemServer } from './system-server.js';
import { throughputChart } from './throughput-chart.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A path for messages: relative to the repository's root (`benchmarks/RESULTS.md`). */
function shown(file: URL): string {
  return relative(REPO_ROOT, fileURLToPath(file));
}

/** What {@link runHarness} runs: a parsed command other than `help`. */
export type HarnessRun = Exclude<HarnessCommand, { readonly kind: 'help' }>;

/**
 * `npm run bench` after its arguments were read (`parseHarnessArgs`): runs the quick, full
 * or gateway benchmark (or the soak, or renders a saved run), and writes under
 * `benchmarks/results/` the run's JSON, its report and chart. The tracked `RESULTS.md` and
 * `results/throughput.svg` are rewritten only with `--update-results` (see {@link resultPaths});
 * it prints every file it wrote.
 *
 * @param argv the arguments as given, for the command line the report names.
 * @returns the process exit code: 0; 1 when a run failed or had failed calls; 2 when the file
 *   given to `--render` cannot be read.
 * @example
 * ```ts
 * const command = parseHarnessArgs(argv);
 * if (command.kind !== 'help') process.exitCode = await runHarness(command, argv);
 * ```
 */
export async function runHarness(command: HarnessRun, argv: readonly string[]): Promise<number> {
  const commandLine =
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`
      : `npx tsx benchmarks/run.ts${argv.length > 0 ? ` ${argv.join(' ')}` : ''}`;
  mkdirSync(RESULTS_DIR, { recursive: true });
  const date = new Date();
  if (command.kind === 'render') {
    let report: BenchReport;
    try {
      report = JSON.parse(readFileSync(command.file, 'utf8')) as BenchReport;
    } catch (error) {
      console.error(`bench: cannot read --render ${command.file}: ${(error as Error).message}`);
      return 2;
    }
    const paths = resultPaths(basename(command.file).replace(/\.json$/, ''), command.updateResults);
    sayWritten(writeReport(report, paths, []), paths);
    return 0;
  }
  if (command.kind === 'soak') {
    const paths = resultPaths(runName(date, 'soak'), command.updateResults);
    const code = await runSoak({ command: commandLine, calls: command.calls, paths, previous: RESULTS_FILE });
    sayWritten([paths.json, paths.report], paths);
    return code;
  }
  const { mode, cells, seconds, warmupSeconds, rounds } = command;
  const skipped = command.systems.filter((system) => !systemExists(system));
  for (const system of skipped) {
    console.warn(
      `warning: skipping ${system}: benchmarks/systems/${system}/server.ts or client.ts does not exist`,
    );
  }
  const systems = command.systems.filter((system) => !skipped.includes(system));

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
    command: commandLine,
    date: date.toISOString(),
    machine: machineInfo(),
    settings: { seconds, warmupSeconds, rounds, cells: [...cells], systems, skippedSystems: skipped },
    runs,
  };
  const paths = resultPaths(runName(date, mode), command.updateResults);
  writeFileSync(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  sayWritten(writeReport(report, paths, [paths.json]), paths);
  const failed = runs.filter((run) => run.failure !== undefined || (run.client?.errors ?? 0) > 0);
  if (failed.length > 0) console.error(`${failed.length} run(s) failed or had failed calls: see above`);
  return failed.length > 0 ? 1 : 0;
}

/**
 * Writes the report for `report` at `paths.report` (the parts it did not measure taken from the
 * tracked RESULTS.md) and, when it measured the RPC workloads, the chart; formats them with
 * `extraFiles`. Returns the files written.
 */
function writeReport(report: BenchReport, paths: ResultPaths, extraFiles: readonly URL[]): URL[] {
  const { runs, settings } = report;
  const measuredRpc = measured(report, isRpcWorkload);
  const measuredGateway = measured(report, (workload) => !isRpcWorkload(workload));
  writeFileSync(paths.report, renderResults(report, readOrEmpty(RESULTS_FILE), paths.chartLink));
  const written = [...extraFiles, paths.report];
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
      paths.chart,
      throughputChart('message1 (Hello.Say, 581 B protobuf): calls/s, one connection', series),
    );
    written.push(paths.chart);
  }
  formatGenerated([...extraFiles, paths.report]);
  console.log('');
  if (measuredRpc) console.log(targetsLine(report));
  if (measuredGateway) console.log(gatewayTargetsLine(report));
  if (!measuredRpc && paths.updatesTracked) {
    console.log('only the Gateway section of benchmarks/RESULTS.md is new (the rest is kept)');
  }
  return written;
}

/** Prints the files written and, without --update-results, that the tracked ones were left alone. */
function sayWritten(files: readonly URL[], paths: ResultPaths): void {
  console.log(`wrote ${files.map(shown).join(', ')}`);
  if (!paths.updatesTracked) {
    console.log(
      'benchmarks/RESULTS.md and benchmarks/results/throughput.svg are unchanged (--update-results rewrites them)',
    );
  }
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
