// What the micro-benchmarks share: the --time-ms option, and turning a tinybench run of batched
// tasks into per-item results, a console table and benchmarks/results/<file>.
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Bench } from 'tinybench';

/** One result, per item (a frame, a message). */
export interface MicroResult {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly meanNs: number;
  /** p99 of the per-item time of a batch. */
  readonly p99Ns: number;
}

/**
 * The measuring time per task from `--time-ms` (default 1000).
 *
 * @throws RangeError when it is not a positive number.
 */
export function timeMsOption(): number {
  const { values } = parseArgs({ options: { 'time-ms': { type: 'string', default: '1000' } } });
  const timeMs = Number(values['time-ms']);
  if (!(timeMs > 0)) throw new RangeError(`--time-ms must be a positive number, got ${values['time-ms']}`);
  return timeMs;
}

/**
 * Per-item results of a finished run whose every sample handled `batch` items; prints them
 * under `title` with `rateLabel` as the rate's column and writes them to results/`file`.
 *
 * @throws Error when a task did not complete.
 */
export function reportMicro(
  bench: Bench,
  options: {
    readonly batch: number;
    readonly title: string;
    readonly rateLabel: string;
    readonly file: string;
  },
): MicroResult[] {
  const { batch } = options;
  const results = bench.tasks.map((task) => {
    const result = task.result;
    if (!('latency' in result)) throw new Error(`${task.name}: ${result.state}`);
    return {
      name: task.name,
      opsPerSecond: Math.round((1_000 / result.latency.mean) * batch),
      meanNs: Math.round((result.latency.mean * 1e6) / batch),
      p99Ns: Math.round((result.latency.p99 * 1e6) / batch),
    };
  });
  console.log(options.title);
  console.table(
    results.map(({ name, opsPerSecond, meanNs, p99Ns }) => ({
      task: name,
      [options.rateLabel]: opsPerSecond.toLocaleString('en-US'),
      'mean ns': meanNs,
      'p99 ns': p99Ns,
    })),
  );
  const resultsDirectory = new URL('../results/', import.meta.url);
  mkdirSync(resultsDirectory, { recursive: true });
  const output = new URL(options.file, resultsDirectory);
  writeFileSync(
    output,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2)}\n`,
  );
  console.log(`wrote ${output.pathname}`);
  return results;
}
