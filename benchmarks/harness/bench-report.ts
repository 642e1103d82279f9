import { cpus, release, totalmem, type } from 'node:os';
import type { WorkloadName } from '../workloads/workload.js';
import type { RunnerResult } from './runner-result.js';
import type { ProcessStats, SystemName } from './system.js';

/** The machine a report was measured on. */
export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly totalMemoryBytes: number;
  readonly os: string;
  readonly node: string;
}

/** One run: one system's client and server processes in one cell, one round. */
export interface RunRecord {
  readonly workload: WorkloadName;
  readonly concurrency: number;
  readonly system: SystemName;
  readonly round: number;
  /** The client runner's result, or undefined when the run failed. */
  readonly client: RunnerResult | undefined;
  /** The server's CPU in the measured window and its peak RSS. */
  readonly server: ProcessStats | undefined;
  /** Why the run failed, if it did. */
  readonly failure?: string;
}

/** What `results/<date>-<mode>.json` holds. */
export interface BenchReport {
  readonly mode: 'quick' | 'full' | 'gateway';
  readonly command: string;
  readonly date: string;
  readonly machine: Machine;
  readonly settings: {
    readonly seconds: number;
    readonly warmupSeconds: number;
    readonly rounds: number;
    readonly cells: readonly { readonly workload: WorkloadName; readonly concurrency: number }[];
    readonly systems: readonly SystemName[];
    readonly skippedSystems: readonly SystemName[];
  };
  readonly runs: readonly RunRecord[];
}

/** One system in one cell, its rounds combined. */
export interface CellSummary {
  readonly workload: WorkloadName;
  readonly concurrency: number;
  readonly system: SystemName;
  /** Rounds that produced a result. */
  readonly rounds: number;
  /** Total calls over total seconds of the rounds. */
  readonly callsPerSecond: number;
  /** Means over the rounds. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** CPU seconds (user + system) per 10,000 calls, over the rounds. */
  readonly clientCpuSecondsPer10k: number;
  readonly serverCpuSecondsPer10k: number;
  /** Largest peak RSS of any round, in KB. */
  readonly clientMaxRssKb: number;
  readonly serverMaxRssKb: number;
  readonly errors: number;
}

/** The machine this process runs on. */
export function machineInfo(): Machine {
  const all = cpus();
  return {
    cpu: all[0]?.model.trim() ?? 'unknown',
    cores: all.length,
    totalMemoryBytes: totalmem(),
    os: `${type()} ${release()}`,
    node: process.version,
  };
}

/**
 * Combines the rounds of one system in one cell, or undefined when none produced a result.
 *
 * @example
 * ```ts
 * summarize(report.runs, 'message1', 100, 'phobos')?.callsPerSecond;
 * ```
 */
export function summarize(
  runs: readonly RunRecord[],
  workload: WorkloadName,
  concurrency: number,
  system: SystemName,
): CellSummary | undefined {
  const done = runs.filter(
    (run): run is RunRecord & { client: RunnerResult; server: ProcessStats } =>
      run.workload === workload &&
      run.concurrency === concurrency &&
      run.system === system &&
      run.client !== undefined &&
      run.server !== undefined,
  );
  if (done.length === 0) return undefined;
  const sum = (f: (run: (typeof done)[number]) => number): number => done.reduce((s, run) => s + f(run), 0);
  const mean = (f: (run: (typeof done)[number]) => number): number => sum(f) / done.length;
  const calls = sum((run) => run.client.calls);
  const per10k = (ms: number): number => (calls === 0 ? Number.NaN : ms / 1_000 / (calls / 10_000));
  return {
    workload,
    concurrency,
    system,
    rounds: done.length,
    callsPerSecond: calls / sum((run) => run.client.seconds),
    p50Ms: mean((run) => run.client.p50Ms),
    p99Ms: mean((run) => run.client.p99Ms),
    p999Ms: mean((run) => run.client.p999Ms),
    clientCpuSecondsPer10k: per10k(sum((run) => run.client.cpuUserMs + run.client.cpuSystemMs)),
    serverCpuSecondsPer10k: per10k(sum((run) => run.server.cpuUserMs + run.server.cpuSystemMs)),
    clientMaxRssKb: Math.max(...done.map((run) => run.client.maxRssKb)),
    serverMaxRssKb: Math.max(...done.map((run) => run.server.maxRssKb)),
    errors: sum((run) => run.client.errors),
  };
}
