// The client side of one benchmark run, as its own process:
//   node --import tsx benchmarks/harness/client-runner.ts <system> <address> <workload> <concurrency>
//     <seconds> <warmupSeconds> [--handshake]
// Creates the system's client, warms up, runs the measured closed loop and prints one JSON line
// (RunnerResult). With --handshake (the harness), it prints {"event":"warmed-up"} after the
// warm-up and waits for the stdin line `go`, so the harness can sample the server's CPU first.
import { WORKLOADS, type WorkloadName } from '../workloads/workload.js';
import { closedLoop, percentile } from './closed-loop.js';
import { handshake } from './handshake.js';
import { loadSystemClient } from './load-system-client.js';
import { processStats, statsBetween } from './process-stats.js';
import type { RunnerResult } from './runner-result.js';
import { SYSTEMS, type SystemName } from './system.js';

const [system, address, workload, concurrencyText, secondsText, warmupText, flag] = process.argv.slice(2);
const usage =
  'usage: client-runner.ts <system> <address> <workload> <concurrency> <seconds> <warmupSeconds> [--handshake]';
if (!SYSTEMS.includes(system as SystemName)) throw new RangeError(`unknown system ${system}; ${usage}`);
if (!WORKLOADS.includes(workload as WorkloadName))
  throw new RangeError(`unknown workload ${workload}; ${usage}`);
if (address === undefined) throw new RangeError(usage);
const concurrency = Number(concurrencyText);
const seconds = Number(secondsText);
const warmupSeconds = Number(warmupText);
if (!(Number.isInteger(concurrency) && concurrency > 0)) throw new RangeError(`bad concurrency; ${usage}`);
if (!(seconds > 0 && warmupSeconds >= 0)) throw new RangeError(`bad seconds; ${usage}`);

const createClient = await loadSystemClient(system as SystemName);
const client = await createClient(address, workload as WorkloadName);
try {
  const warmup = await closedLoop(() => client.call(), {
    concurrency,
    seconds: warmupSeconds,
    record: false,
  });
  if (warmup.errors > 0) console.error(`${system} ${workload}: warm-up call failed:`, warmup.firstError);
  if (flag === '--handshake') await handshake();
  const before = processStats();
  const run = await closedLoop(() => client.call(), { concurrency, seconds, record: true });
  const cpu = statsBetween(before, processStats());
  if (run.errors > 0) console.error(`${system} ${workload}: call failed:`, run.firstError);
  const result: RunnerResult = {
    calls: run.calls,
    seconds: run.seconds,
    callsPerSecond: run.calls / run.seconds,
    p50Ms: percentile(run.latenciesMs, 0.5),
    p99Ms: percentile(run.latenciesMs, 0.99),
    p999Ms: percentile(run.latenciesMs, 0.999),
    errors: run.errors + warmup.errors,
    cpuUserMs: cpu.cpuUserMs,
    cpuSystemMs: cpu.cpuSystemMs,
    maxRssKb: cpu.maxRssKb,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await client.close();
}
process.exit(0);
