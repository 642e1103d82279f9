import { parseArgs } from 'node:util';
import { GATEWAY_WORKLOADS, WORKLOADS, type WorkloadName } from '../workloads/workload.js';
import { SYSTEMS, type SystemName } from './system.js';

/** Where results go: `benchmarks/results/`. */
export const RESULTS_DIR = new URL('../results/', import.meta.url);
/** The tracked report: `benchmarks/RESULTS.md`, rewritten only with `--update-results`. */
export const RESULTS_FILE = new URL('../RESULTS.md', import.meta.url);
/** The tracked chart: `benchmarks/results/throughput.svg`, rewritten only with `--update-results`. */
export const CHART_FILE = new URL('throughput.svg', RESULTS_DIR);

/** One workload at one concurrency: every system is measured in it. */
export interface Cell {
  readonly workload: WorkloadName;
  readonly concurrency: number;
}

/** The benchmark runs: quick (the default), full and gateway. */
export type BenchMode = 'quick' | 'full' | 'gateway';

interface Preset {
  readonly cells: readonly Cell[];
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly rounds: number;
}

const everyConcurrency = (workloads: readonly WorkloadName[]): Cell[] =>
  workloads.flatMap((workload) => [1, 10, 100, 1000].map((concurrency) => ({ workload, concurrency })));

/** The presets of each mode (cells, windows, rounds), before `--seconds` and the like. */
export const PRESETS: Readonly<Record<BenchMode, Preset>> = {
  // The main cells only, short windows, one round (under 3 minutes in all).
  quick: {
    cells: [
      { workload: 'message1', concurrency: 1 },
      { workload: 'message1', concurrency: 100 },
      { workload: 'echo64', concurrency: 1 },
      { workload: 'echo64', concurrency: 100 },
      { workload: 'big256k', concurrency: 10 },
      { workload: 'big256k-gzip', concurrency: 10 },
      { workload: 'greet-json', concurrency: 100 },
    ],
    seconds: 2,
    warmupSeconds: 1,
    rounds: 1,
  },
  // Every workload at 1, 10, 100 and 1000 in flight, longer windows, two rounds.
  full: { cells: everyConcurrency(WORKLOADS), seconds: 5, warmupSeconds: 2, rounds: 2 },
  // greet-json alone (gateway and server-http against http-bare), three rounds.
  gateway: { cells: everyConcurrency(GATEWAY_WORKLOADS), seconds: 5, warmupSeconds: 2, rounds: 3 },
};

/** The usage of `npm run bench`. */
export const HARNESS_USAGE = `Usage: npm run bench [-- --full | --gateway | --soak | --render FILE] [flags]

Runs the benchmarks (each server and client in its own process on loopback) and writes the
results under benchmarks/results/: <date>-<mode>.json (every run's numbers), <date>-<mode>.md
(what RESULTS.md would be) and <date>-<mode>-throughput.svg (the chart). benchmarks/RESULTS.md
and benchmarks/results/throughput.svg, which are tracked, are rewritten only with
--update-results. Exit status 1 when a run failed, 2 for a bad command line.

Runs:
  (default)              quick: message1 and echo64 at 1 and 100 in flight, big256k(-gzip) at 10,
                         greet-json at 100; 1 s warm-up, 2 s measured, 1 round (under 3 minutes)
  --full                 every workload at 1, 10, 100, 1000 in flight; 2 s + 5 s, 2 rounds
  --gateway              greet-json alone at 1, 10, 100, 1000 in flight; 2 s + 5 s, 3 rounds;
                         replaces only the Gateway section of the report
  --soak                 four million calls through an XClient (failover) over three servers
  --render FILE          render the report and chart again from a saved results/*.json

Flags:
  --update-results       also rewrite benchmarks/RESULTS.md and results/throughput.svg
  --seconds S            measured seconds per run (default: the run's)
  --warmup S             warm-up seconds per run, 0 or more (default: the run's)
  --rounds N             rounds per cell (default: the run's)
  --systems A,B,...      systems to measure (default all: ${SYSTEMS.join(', ')})
  --workloads A,B,...    workloads to run (default the run's: ${WORKLOADS.join(', ')})
  --concurrency A,B,...  calls in flight, replacing the run's concurrencies
  --calls N              soak: calls in all (default 4000000)
  -h, --help             print this help and exit

Examples:
  npm run bench -- --workloads echo64 --systems phobos,raw-tcp --concurrency 100 --seconds 1
  npm run bench -- --full --update-results`;

/**
 * Bad command-line input to the harness: `runHarness` prints it on one line and exits with
 * status 2.
 */
export class HarnessUsageError extends Error {
  override readonly name = 'HarnessUsageError';
}

/**
 * What `npm run bench` was asked to do, every value checked: print the usage, render a saved
 * report, soak, or run benchmarks.
 */
export type HarnessCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'render'; readonly file: string; readonly updateResults: boolean }
  | { readonly kind: 'soak'; readonly calls: number | undefined; readonly updateResults: boolean }
  | {
      readonly kind: 'bench';
      readonly mode: BenchMode;
      readonly cells: readonly Cell[];
      readonly seconds: number;
      readonly warmupSeconds: number;
      readonly rounds: number;
      readonly systems: readonly SystemName[];
      readonly updateResults: boolean;
    };

/**
 * Reads the harness's arguments strictly: unknown flags, positional arguments, flags of another
 * run (`--calls` without `--soak`), two runs at once and bad values are refused.
 *
 * @throws HarnessUsageError saying what is wrong, in one line.
 * @example
 * ```ts
 * parseHarnessArgs(['--workloads', 'echo64', '--seconds', '1']); // { kind: 'bench', mode: 'quick', ... }
 * ```
 */
export function parseHarnessArgs(argv: readonly string[]): HarnessCommand {
  let values: ReturnType<typeof parse>;
  try {
    values = parse(argv);
  } catch (error) {
    throw new HarnessUsageError(parseErrorText(error));
  }
  if (values.help) return { kind: 'help' };
  const updateResults = values['update-results'];
  const runs = [
    values.full ? '--full' : '',
    values.gateway ? '--gateway' : '',
    values.soak ? '--soak' : '',
    values.render === undefined ? '' : '--render',
  ].filter((run) => run !== '');
  if (runs.length > 1) throw new HarnessUsageError(`${runs.join(' and ')} are different runs: give one`);
  const benchFlags = (['seconds', 'warmup', 'rounds', 'systems', 'workloads', 'concurrency'] as const).filter(
    (flag) => values[flag] !== undefined,
  );
  if (values.render !== undefined) {
    const others = [...benchFlags, ...(values.calls === undefined ? [] : ['calls'])];
    if (others.length > 0) throw new HarnessUsageError(`--render takes no --${others.join(', --')}`);
    return { kind: 'render', file: values.render, updateResults };
  }
  if (values.soak) {
    if (benchFlags.length > 0) throw new HarnessUsageError(`--soak takes no --${benchFlags.join(', --')}`);
    const calls = values.calls === undefined ? undefined : positiveInteger('calls', values.calls);
    return { kind: 'soak', calls, updateResults };
  }
  if (values.calls !== undefined) throw new HarnessUsageError('--calls is for --soak');
  const mode: BenchMode = values.full ? 'full' : values.gateway ? 'gateway' : 'quick';
  const preset = PRESETS[mode];
  const workloads = list(values.workloads, mode === 'gateway' ? GATEWAY_WORKLOADS : WORKLOADS, 'workloads');
  const concurrencies = values.concurrency?.split(',').map((text) => positiveInteger('concurrency', text));
  const cells = concurrencies
    ? workloads.flatMap((workload) => concurrencies.map((concurrency) => ({ workload, concurrency })))
    : preset.cells.filter((c) => workloads.includes(c.workload));
  if (cells.length === 0) {
    throw new HarnessUsageError(
      `the ${mode} run has no cell of --workloads ${values.workloads}; give --concurrency too`,
    );
  }
  return {
    kind: 'bench',
    mode,
    cells,
    seconds: values.seconds === undefined ? preset.seconds : positiveNumber('seconds', values.seconds),
    warmupSeconds:
      values.warmup === undefined ? preset.warmupSeconds : nonNegativeNumber('warmup', values.warmup),
    rounds: values.rounds === undefined ? preset.rounds : positiveInteger('rounds', values.rounds),
    systems: list(values.systems, SYSTEMS, 'systems'),
    updateResults,
  };
}

/**
 * Where one run writes, from {@link resultPaths}. The JSON always goes to `results/`; the
 * report and the chart replace the tracked `RESULTS.md` and `results/throughput.svg` only with
 * `--update-results`, and go beside the JSON otherwise.
 */
export interface ResultPaths {
  /** The run's raw numbers: `results/<name>.json`. */
  readonly json: URL;
  /** The report: `RESULTS.md`, or `results/<name>.md`. */
  readonly report: URL;
  /** The message1 chart: `results/throughput.svg`, or `results/<name>-throughput.svg`. */
  readonly chart: URL;
  /** How the report links the chart, relative to the report. */
  readonly chartLink: string;
  /** Whether the tracked RESULTS.md and chart are the ones written. */
  readonly updatesTracked: boolean;
}

/**
 * Decides where a run named `name` (`2026-12-03T12-00-00-quick`, `soak-...`) writes: the
 * tracked RESULTS.md and chart only when `updateResults`, else files of its own under
 * `results/`.
 *
 * @example
 * ```ts
 * resultPaths('2026-12-03T12-00-00-quick', false).report; // .../benchmarks/results/2026-12-03T12-00-00-quick.md
 * ```
 */
export function resultPaths(name: string, updateResults: boolean): ResultPaths {
  const json = new URL(`${name}.json`, RESULTS_DIR);
  if (updateResults) {
    return {
      json,
      report: RESULTS_FILE,
      chart: CHART_FILE,
      chartLink: 'results/throughput.svg',
      updatesTracked: true,
    };
  }
  return {
    json,
    report: new URL(`${name}.md`, RESULTS_DIR),
    chart: new URL(`${name}-throughput.svg`, RESULTS_DIR),
    chartLink: `${name}-throughput.svg`,
    updatesTracked: false,
  };
}

/**
 * The name a run's files take: its start time and what it ran.
 *
 * @example
 * ```ts
 * runName(new Date('2026-12-03T12:00:00Z'), 'quick'); // '2026-12-03T12-00-00-quick'
 * ```
 */
export function runName(date: Date, what: string): string {
  const stamp = date.toISOString().slice(0, 19).replace(/:/g, '-');
  return what === 'soak' ? `soak-${stamp}` : `${stamp}-${what}`;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      full: { type: 'boolean', default: false },
      gateway: { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      'update-results': { type: 'boolean', default: false },
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

function parseErrorText(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  const quoted = /'([^' ]*)/.exec(text)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown flag ${quoted}`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL')
    return `unexpected argument "${quoted}": give flags only`;
  return text.split('\n')[0] ?? text;
}

function positiveNumber(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new HarnessUsageError(`--${name} must be a positive number, got "${text}"`);
  }
  return value;
}

function nonNegativeNumber(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new HarnessUsageError(`--${name} must be a number >= 0, got "${text}"`);
  }
  return value;
}

function positiveInteger(name: string, text: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new HarnessUsageError(`--${name} must be a positive integer, got "${text}"`);
  }
  return value;
}

function list<T extends string>(text: string | undefined, all: readonly T[], name: string): T[] {
  if (text === undefined) return [...all];
  const picked = text.split(',').map((item) => item.trim());
  for (const item of picked) {
    if (!all.includes(item as T)) {
      throw new HarnessUsageError(`--${name}: unknown "${item}"; one of ${all.join(', ')}`);
    }
  }
  return picked as T[];
}
