import { Command, Option } from 'commander';
import { addCallOptions, type CallFlags } from './call-options.js';
import type { CliRun } from './cli-io.js';
import { EXIT_CODE_HELP } from './exit-code.js';
import { durationArg, integerArg } from './option-parsers.js';
import { addTransportOptions } from './transport-options.js';

/**
 * Default of `bench -c`: 10 calls in flight.
 *
 * @example
 * ```ts
 * new Option('-c, --concurrency <n>').default(DEFAULT_BENCH_CONCURRENCY);
 * ```
 */
export const DEFAULT_BENCH_CONCURRENCY = 10;

/**
 * Most calls `bench -c` keeps in flight.
 *
 * @example
 * ```ts
 * integerArg(1, MAX_BENCH_CONCURRENCY)('20000'); // throws: at most 10000
 * ```
 */
export const MAX_BENCH_CONCURRENCY = 10_000;

/**
 * Default of `bench -d` when `-n` is not given: 10 seconds.
 *
 * @example
 * ```ts
 * const durationMs = flags.duration ?? DEFAULT_BENCH_DURATION_MS;
 * ```
 */
export const DEFAULT_BENCH_DURATION_MS = 10_000;

/**
 * Most calls `bench -n` makes.
 *
 * @example
 * ```ts
 * integerArg(1, MAX_BENCH_CALLS)('100000'); // 100000
 * ```
 */
export const MAX_BENCH_CALLS = 1_000_000_000;

/**
 * Most connections `bench --connections` opens.
 *
 * @example
 * ```ts
 * integerArg(1, MAX_BENCH_CONNECTIONS)('4'); // 4
 * ```
 */
export const MAX_BENCH_CONNECTIONS = 100;

/**
 * How often the progress line is redrawn.
 *
 * @example
 * ```ts
 * setInterval(drawProgress, BENCH_PROGRESS_INTERVAL_MS);
 * ```
 */
export const BENCH_PROGRESS_INTERVAL_MS = 1_000;

/**
 * The flags of `phobos bench`.
 *
 * @example
 * ```ts
 * const flags = command.opts<BenchFlags>(); // { concurrency: 10, total: 1000, connections: 1, ... }
 * ```
 */
export interface BenchFlags extends CallFlags {
  /** `-c`: calls in flight. */
  readonly concurrency: number;
  /** `-n`: calls in all. */
  readonly total?: number;
  /** `-d`: how long to run, in ms. */
  readonly duration?: number;
  /** `--connections`. */
  readonly connections: number;
  /** `--progress`. */
  readonly progress?: boolean;
  /** `--json`. */
  readonly json?: boolean;
}

const BENCH_HELP = `
Runs -c calls at a time, each sending the next call as soon as its last one answered, for -d
(default 10s) or until -n calls were made, then prints calls/s, latency quantiles of the
successful calls and the failed calls by kind. A progress line is drawn on stderr when it is a
terminal (or with --progress). Ctrl-C stops early and still prints the summary. Exits 0 when
at least one call succeeded, else with the exit code of the most frequent error.
ARGS, codecs and the other flags are those of 'phobos call'.

Examples:
  $ phobos bench tcp@127.0.0.1:8972 HelloWorld.Greet '{"First":"budei"}' -c 100 -d 10s
  $ phobos bench localhost:8972 Arith.Mul '{"A":7,"B":8}' --codec msgpack -n 100000 -c 50 --connections 4
  $ phobos bench --etcd http://127.0.0.1:2379 HelloWorld.Greet '{"First":"a"}' -d 1m --json
${EXIT_CODE_HELP}`;

/**
 * Builds `phobos bench`: a load test of one method, like hey or ghz. Its work is loaded when it
 * runs (`runBench`).
 *
 * @example
 * ```ts
 * program.addCommand(benchCommand(run));
 * ```
 */
export function benchCommand(run: CliRun): Command {
  const command = new Command('bench')
    .description('load-test a method: calls/s, latency quantiles, errors by kind')
    .usage(
      '[options] ADDRESS Service.Method [ARGS]\n       phobos bench [options] --etcd URL Service.Method [ARGS]',
    )
    .argument('<target>', 'ADDRESS, or Service.Method with --etcd')
    .argument('[method]', 'Service.Method, or ARGS with --etcd')
    .argument('[args]', 'ARGS: JSON, @file or @-')
    .addOption(
      new Option('-c, --concurrency <n>', `calls in flight (at most ${MAX_BENCH_CONCURRENCY})`)
        .default(DEFAULT_BENCH_CONCURRENCY)
        .argParser(integerArg(1, MAX_BENCH_CONCURRENCY)),
    )
    .addOption(
      new Option('-n, --total <n>', 'calls to make in all (instead of -d)').argParser(
        integerArg(1, MAX_BENCH_CALLS),
      ),
    )
    .addOption(
      new Option(
        '-d, --duration <time>',
        'how long to send calls (10s, 500ms, 1m); default 10s without -n',
      ).argParser(durationArg(1)),
    )
    .addOption(
      new Option('--connections <n>', 'connections to one ADDRESS to spread the calls over')
        .default(1)
        .argParser(integerArg(1, MAX_BENCH_CONNECTIONS)),
    )
    .option('--progress', 'draw the progress line on stderr even when it is not a terminal')
    .option('--json', 'print the summary as one JSON object');
  addCallOptions(command);
  addTransportOptions(command);
  command.addHelpText('after', BENCH_HELP);
  command.action(
    async (first: string, second: string | undefined, third: string | undefined, flags: BenchFlags) => {
      const { runBench } = await import('./run-bench.js');
      await runBench(run, [first, second, third], flags, command.getOptionValueSource('codec') === 'cli');
    },
  );
  return command;
}
