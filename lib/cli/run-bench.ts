import { setMaxListeners } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { lastValueFrom } from 'rxjs';
import { CancelledError } from '../errors/errors.js';
import { abortable } from './abortable.js';
import { BENCH_PROGRESS_INTERVAL_MS, type BenchFlags, DEFAULT_BENCH_DURATION_MS } from './bench-command.js';
import type { Caller } from './caller.js';
import type { CliRun } from './cli-io.js';
import { errorSummary } from './error-report.js';
import { ExitCode } from './exit-code.js';
import { LatencyHistogram } from './latency-histogram.js';
import { formatDuration } from './parse-duration.js';
import { type PreparedCall, prepareCall } from './prepare-call.js';
import { UsageError } from './usage-error.js';

/**
 * What a benchmark measured.
 *
 * @example
 * ```ts
 * const summary: BenchSummary = JSON.parse(stdout); // phobos bench ... --json
 * console.log(summary.callsPerSecond, summary.latencyMs.p99);
 * ```
 */
export interface BenchSummary {
  /** Where the calls went. */
  readonly target: string;
  /** `Service.Method`. */
  readonly method: string;
  /** The payload format. */
  readonly codec: string;
  /** Calls in flight. */
  readonly concurrency: number;
  /** Connections (1 through discovery: one per server). */
  readonly connections: number;
  /** Calls finished, successful or not. */
  readonly calls: number;
  /** Calls that succeeded. */
  readonly ok: number;
  /** Calls that failed. */
  readonly errors: number;
  /** From the first call sent to the last one finished, in ms. */
  readonly elapsedMs: number;
  /** Calls finished per second. */
  readonly callsPerSecond: number;
  /** Latency of the successful calls in ms (all NaN-free: null when there were none). */
  readonly latencyMs: Readonly<
    Record<'min' | 'mean' | 'p50' | 'p90' | 'p99' | 'p99.9' | 'max', number | null>
  >;
  /**
   * Failed calls by kind (`DEADLINE_EXCEEDED`, `SERVICE_ERROR/NOT_FOUND`...), with the first
   * message of each and the exit code of the kind.
   */
  readonly errorsByKind: Readonly<
    Record<string, { readonly count: number; readonly message: string; readonly exitCode: number }>
  >;
  /** Whether Ctrl-C ended it early. */
  readonly interrupted: boolean;
}

/**
 * Runs `phobos bench`: connects, keeps `-c` calls in flight until `-d` passed or `-n` calls were
 * made (or Ctrl-C), then prints the summary. Sets the run's exit code: 0 when a call succeeded,
 * else the exit code of the most frequent error.
 *
 * @param positionals - ADDRESS, Service.Method and ARGS (or, with `--etcd`, Service.Method and ARGS).
 * @param codecGiven - whether `--codec` was given rather than defaulted.
 * @throws (rejects) UsageError for bad arguments (`-n` with `-d`, more connections than calls in
 *   flight); `ConnectionError` when the server cannot be reached.
 * @example
 * ```ts
 * await runBench(run, ['tcp@127.0.0.1:8972', 'HelloWorld.Greet', '{}'], flags, false);
 * ```
 */
export async function runBench(
  run: CliRun,
  positionals: readonly (string | undefined)[],
  flags: BenchFlags,
  codecGiven: boolean,
): Promise<void> {
  if (flags.total !== undefined && flags.duration !== undefined) {
    throw new UsageError('give -n (calls in all) or -d (how long), not both');
  }
  if (flags.connections > flags.concurrency) {
    throw new UsageError(
      `--connections ${flags.connections} is more than -c ${flags.concurrency}: some would stay idle`,
    );
  }
  const prepared = await prepareCall(positionals, flags, run.io, codecGiven);
  const caller = await prepared.open(flags.connections);
  let summary: BenchSummary;
  try {
    summary = await measure(run, caller, prepared, flags);
  } finally {
    await caller.close();
  }
  run.io.stdout.write(
    flags.json ? `${JSON.stringify(summary)}\n` : summaryText(summary, prepared.payload.length),
  );
  run.exitCode = summary.ok > 0 ? ExitCode.Ok : exitCodeOfWorst(summary);
}

async function measure(
  run: CliRun,
  caller: Caller,
  prepared: PreparedCall,
  flags: BenchFlags,
): Promise<BenchSummary> {
  const { service, method } = prepared.target;
  const histogram = new LatencyHistogram();
  const errors = new Map<string, { count: number; message: string; exitCode: number }>();
  const total = flags.total;
  const durationMs = total === undefined ? (flags.duration ?? DEFAULT_BENCH_DURATION_MS) : undefined;
  let issued = 0;
  let finished = 0;
  let stopped = false;
  const signal = run.io.signal;
  const onAbort = (): void => {
    stopped = true;
  };
  // Every call in flight listens to the signal, besides this run: as many listeners as calls.
  if (signal !== undefined) setMaxListeners(flags.concurrency + 16, signal);
  signal?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  const stopAt = durationMs === undefined ? Number.POSITIVE_INFINITY : started + durationMs;
  const stopTimer = durationMs === undefined ? undefined : setTimeout(onAbort, durationMs);

  const worker = async (): Promise<void> => {
    while (!stopped && (total === undefined || issued < total) && performance.now() < stopAt) {
      issued++;
      const sentAt = performance.now();
      try {
        // Ctrl-C cancels the calls in flight (on the server too); the end of -d lets them finish.
        await lastValueFrom(
          abortable(caller.call$(service, method, prepared.payload, prepared.callOptions), signal),
        );
        histogram.record(performance.now() - sentAt);
      } catch (error) {
        if (signal?.aborted && error instanceof CancelledError) break;
        const { kind, message, exitCode } = errorSummary(error);
        const seen = errors.get(kind);
        if (seen === undefined) errors.set(kind, { count: 1, message, exitCode });
        else seen.count++;
        // A call that fails at once (the connection is gone) must not keep the event loop from
        // timers and signals.
        await nextTurn();
      }
      finished++;
    }
  };

  const showProgress = flags.progress === true || run.io.stderr.isTTY === true;
  const tty = run.io.stderr.isTTY === true;
  const progress = showProgress
    ? setInterval(() => {
        const elapsedMs = performance.now() - started;
        const failed = finished - histogram.count;
        const line = `${formatDuration(elapsedMs)}: ${finished} calls, ${Math.round((finished * 1000) / elapsedMs)} calls/s, ${failed} failed`;
        run.io.stderr.write(tty ? `\r\u001b[K${line}` : `${line}\n`);
      }, BENCH_PROGRESS_INTERVAL_MS)
    : undefined;
  try {
    await Promise.all(Array.from({ length: flags.concurrency }, worker));
  } finally {
    clearTimeout(stopTimer);
    clearInterval(progress);
    signal?.removeEventListener('abort', onAbort);
    if (progress !== undefined && tty) run.io.stderr.write('\r\u001b[K');
  }
  const elapsedMs = performance.now() - started;
  const quantile = (q: number): number | null => nullIfNaN(histogram.quantile(q));
  return {
    target: caller.description,
    method: `${service}.${method}`,
    codec: prepared.codec.name,
    concurrency: flags.concurrency,
    connections: prepared.target.destination.kind === 'address' ? flags.connections : 1,
    calls: finished,
    ok: histogram.count,
    errors: finished - histogram.count,
    elapsedMs: round(elapsedMs),
    callsPerSecond: elapsedMs > 0 ? round((finished * 1000) / elapsedMs) : 0,
    latencyMs: {
      min: nullIfNaN(histogram.min),
      mean: nullIfNaN(histogram.mean),
      p50: quantile(0.5),
      p90: quantile(0.9),
      p99: quantile(0.99),
      'p99.9': quantile(0.999),
      max: nullIfNaN(histogram.max),
    },
    errorsByKind: Object.fromEntries(errors),
    interrupted: signal?.aborted === true,
  };
}

function exitCodeOfWorst(summary: BenchSummary): number {
  const worst = Object.values(summary.errorsByKind).sort((a, b) => b.count - a.count)[0];
  if (worst !== undefined) return worst.exitCode;
  return summary.interrupted ? ExitCode.Cancelled : ExitCode.Ok;
}

function summaryText(summary: BenchSummary, payloadBytes: number): string {
  const l = summary.latencyMs;
  const ms = (value: number | null): string => (value === null ? '-' : value.toFixed(3).padStart(10));
  const lines = [
    'Summary:',
    `  Target:       ${summary.target}  ${summary.method} (${summary.codec}, ${payloadBytes} bytes)`,
    `  Concurrency:  ${summary.concurrency} on ${summary.connections} connection${summary.connections === 1 ? '' : 's'}`,
    `  Elapsed:      ${(summary.elapsedMs / 1000).toFixed(3)} s${summary.interrupted ? ' (interrupted)' : ''}`,
    `  Calls:        ${summary.calls} (${summary.ok} ok, ${summary.errors} failed)`,
    `  Rate:         ${summary.callsPerSecond.toFixed(1)} calls/s`,
    '',
    'Latency of successful calls (ms):',
    `  min   ${ms(l.min)}`,
    `  mean  ${ms(l.mean)}`,
    `  p50   ${ms(l.p50)}`,
    `  p90   ${ms(l.p90)}`,
    `  p99   ${ms(l.p99)}`,
    `  p99.9 ${ms(l['p99.9'])}`,
    `  max   ${ms(l.max)}`,
  ];
  const kinds = Object.entries(summary.errorsByKind).sort((a, b) => b[1].count - a[1].count);
  if (kinds.length > 0) {
    lines.push('', 'Errors:');
    for (const [kind, { count, message }] of kinds)
      lines.push(`  ${String(count).padStart(8)}  ${kind}  ${message}`);
  }
  return `${lines.join('\n')}\n`;
}

function nullIfNaN(value: number): number | null {
  return Number.isNaN(value) ? null : round(value);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
