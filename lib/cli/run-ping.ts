import {
  defer,
  identity,
  lastValueFrom,
  map,
  mergeMap,
  type Observable,
  of,
  take,
  takeUntil,
  tap,
  timeout,
  timer,
} from 'rxjs';
import type { Connection } from '../client/connection.js';
import { parseAddress } from '../transport/address.js';
import { aborted$ } from './abortable.js';
import { openConnection } from './caller.js';
import type { CliRun } from './cli-io.js';
import { ExitCode } from './exit-code.js';
import { formatDuration } from './parse-duration.js';
import type { PingFlags } from './ping-command.js';
import { connectOptionsOf } from './transport-options.js';
import { UsageError } from './usage-error.js';

/**
 * One heartbeat's outcome: its round-trip time, or `undefined` when no echo came in time.
 *
 * @example
 * ```ts
 * const lost: PingResult = { seq: 3, rttMs: undefined };
 * ```
 */
export interface PingResult {
  /** 0 for the first heartbeat. */
  readonly seq: number;
  /** Round-trip time in ms, or `undefined` when lost. */
  readonly rttMs: number | undefined;
}

/**
 * Runs `phobos ping`: connects, sends the heartbeats, prints each round trip and the summary.
 * Sets the run's exit code: 0 when an echo came back (or none was sent), 4 when none did.
 *
 * @throws (rejects) UsageError for a bad address; `ConnectionError` when the server cannot be
 *   reached; `ConnectionClosedError` (after the summary) when it closes the connection.
 * @example
 * ```ts
 * await runPing(run, 'tcp@127.0.0.1:8972', flags);
 * ```
 */
export async function runPing(run: CliRun, address: string, flags: PingFlags): Promise<void> {
  try {
    parseAddress(address);
  } catch (error) {
    throw new UsageError(`bad ADDRESS: ${(error as Error).message}`, { cause: error });
  }
  const { io } = run;
  const options = await connectOptionsOf(flags);
  const open = await openConnection(address, options, io.signal);
  const started = performance.now();
  const results: PingResult[] = [];
  let failure: unknown;
  if (!flags.json) io.stdout.write(`PING ${address}: heartbeats every ${formatDuration(flags.interval)}\n`);
  try {
    await lastValueFrom(
      pings$(open.connection, flags).pipe(
        takeUntil(aborted$(io.signal)),
        tap((result) => {
          results.push(result);
          if (!flags.json) io.stdout.write(`${pingLine(address, result, flags.timeout)}\n`);
        }),
      ),
      { defaultValue: undefined },
    );
  } catch (error) {
    failure = error;
  } finally {
    await open.close();
  }
  const summary = pingSummary(results, performance.now() - started);
  if (flags.json)
    io.stdout.write(
      `${JSON.stringify({ address, ...summary, rtts: results.map((r) => r.rttMs ?? null) })}\n`,
    );
  else io.stdout.write(summaryText(address, summary));
  if (failure !== undefined) throw failure;
  run.exitCode = summary.received > 0 || summary.sent === 0 ? ExitCode.Ok : ExitCode.DeadlineExceeded;
}

/** Sends `count` heartbeats (0: forever), one each `interval`, each waited for `timeout`. */
function pings$(connection: Connection, flags: PingFlags): Observable<PingResult> {
  const one = (seq: number): Observable<PingResult> =>
    defer(() => {
      const sentAt = performance.now();
      return connection.ping$().pipe(map((): PingResult => ({ seq, rttMs: performance.now() - sentAt })));
    }).pipe(timeout({ first: flags.timeout, with: () => of<PingResult>({ seq, rttMs: undefined }) }));
  return timer(0, flags.interval).pipe(flags.count > 0 ? take(flags.count) : identity, mergeMap(one));
}

/**
 * What `ping` says at the end.
 *
 * @example
 * ```ts
 * const { sent, received, rttMs }: PingSummary = pingSummary(results, elapsedMs);
 * ```
 */
export interface PingSummary {
  /** Heartbeats whose outcome is known (echoed or lost). */
  readonly sent: number;
  /** Echoes received. */
  readonly received: number;
  /** Percentage lost, 0..100. */
  readonly lossPercent: number;
  /** How long it ran, in ms. */
  readonly timeMs: number;
  /** Fastest, mean and slowest round trip in ms (undefined with no echo). */
  readonly rttMs: { readonly min: number; readonly avg: number; readonly max: number } | undefined;
}

/**
 * Summarises heartbeat results: counts, loss and min/avg/max round trip. Pure.
 *
 * @example
 * ```ts
 * pingSummary([{ seq: 0, rttMs: 1 }, { seq: 1, rttMs: undefined }], 1_000);
 * // { sent: 2, received: 1, lossPercent: 50, timeMs: 1000, rttMs: { min: 1, avg: 1, max: 1 } }
 * ```
 */
export function pingSummary(results: readonly PingResult[], timeMs: number): PingSummary {
  const rtts = results.map((result) => result.rttMs).filter((rtt): rtt is number => rtt !== undefined);
  const sent = results.length;
  return {
    sent,
    received: rtts.length,
    lossPercent: sent === 0 ? 0 : round(((sent - rtts.length) / sent) * 100),
    timeMs: Math.round(timeMs),
    rttMs:
      rtts.length === 0
        ? undefined
        : {
            min: round(rtts.reduce((a, b) => Math.min(a, b))),
            avg: round(rtts.reduce((sum, rtt) => sum + rtt, 0) / rtts.length),
            max: round(rtts.reduce((a, b) => Math.max(a, b))),
          },
  };
}

function pingLine(address: string, result: PingResult, timeoutMs: number): string {
  return result.rttMs === undefined
    ? `no echo from ${address}: seq=${result.seq} (lost: none within ${timeoutMs} ms)`
    : `echo from ${address}: seq=${result.seq} time=${round(result.rttMs)} ms`;
}

function summaryText(address: string, summary: PingSummary): string {
  const lines = [
    `--- ${address} ping statistics ---`,
    `${summary.sent} heartbeats sent, ${summary.received} echoed, ${summary.lossPercent}% lost, time ${summary.timeMs} ms`,
  ];
  if (summary.rttMs !== undefined) {
    const { min, avg, max } = summary.rttMs;
    lines.push(`rtt min/avg/max = ${min}/${avg}/${max} ms`);
  }
  return `${lines.join('\n')}\n`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
