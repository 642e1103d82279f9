// One client of benchmarks/mixed-payloads.ts, as its own process:
//   node --import tsx benchmarks/systems/phobos/mixed-client.ts <address> <echo64|big256k-gzip>
//     <inFlight> <seconds> <warmupSeconds> [--offload-threshold-bytes N]
// The phobos client of the workload (systems/phobos/client.ts, one connection), with
// `offloadThresholdBytes` set when given. Like the harness's client runner: warms up, prints
// {"event":"warmed-up"}, waits for the stdin line `go`, runs the measured closed loop and prints
// one JSON line (MixedClientResult); latencies from when each call was meant to start.
import { parseArgs } from 'node:util';
import { closedLoop, percentile } from '../../harness/closed-loop.js';
import { handshake } from '../../harness/handshake.js';
import type { RunnerResult } from '../../harness/runner-result.js';
import { createPhobosClient, type ExtraClientOptions } from './client.js';

/** What a mixed client prints once its measured window is over: the runner's figures and the maximum latency. */
export type MixedClientResult = Pick<
  RunnerResult,
  'calls' | 'seconds' | 'callsPerSecond' | 'p50Ms' | 'p99Ms' | 'p999Ms' | 'errors'
> & {
  /** The longest call in ms. */
  readonly maxMs: number;
};

const usage =
  'usage: mixed-client.ts <address> <echo64|big256k-gzip> <inFlight> <seconds> <warmupSeconds> [--offload-threshold-bytes N]';
const { values, positionals } = parseArgs({
  options: { 'offload-threshold-bytes': { type: 'string' } },
  allowPositionals: true,
});
const [address, workload, inFlightText, secondsText, warmupText] = positionals;
if (address === undefined || (workload !== 'echo64' && workload !== 'big256k-gzip'))
  throw new RangeError(usage);
const inFlight = Number(inFlightText);
const seconds = Number(secondsText);
const warmupSeconds = Number(warmupText);
if (!(Number.isInteger(inFlight) && inFlight > 0)) throw new RangeError(`bad inFlight; ${usage}`);
if (!(seconds > 0 && warmupSeconds >= 0)) throw new RangeError(`bad seconds; ${usage}`);
const offload = values['offload-threshold-bytes'];
const extra: ExtraClientOptions = offload === undefined ? {} : { offloadThresholdBytes: Number(offload) };
if (!((extra.offloadThresholdBytes ?? 0) >= 0))
  throw new RangeError(`--offload-threshold-bytes must be a number >= 0 or Infinity, got ${offload}`);

const client = await createPhobosClient(address, workload, extra);
try {
  const warmup = await closedLoop(() => client.call(), {
    concurrency: inFlight,
    seconds: warmupSeconds,
    record: false,
  });
  if (warmup.errors > 0) console.error(`${workload}: warm-up call failed:`, warmup.firstError);
  await handshake();
  const run = await closedLoop(() => client.call(), { concurrency: inFlight, seconds, record: true });
  if (run.errors > 0) console.error(`${workload}: call failed:`, run.firstError);
  const result: MixedClientResult = {
    calls: run.calls,
    seconds: run.seconds,
    callsPerSecond: run.calls / run.seconds,
    p50Ms: percentile(run.latenciesMs, 0.5),
    p99Ms: percentile(run.latenciesMs, 0.99),
    p999Ms: percentile(run.latenciesMs, 0.999),
    maxMs: percentile(run.latenciesMs, 1),
    errors: run.errors + warmup.errors,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await client.close();
}
process.exit(0);
