import { spawn } from 'node:child_process';
import type { WorkloadName } from '../workloads/workload.js';
import { readJsonLines } from './line-reader.js';
import type { RunnerResult } from './runner-result.js';
import type { SystemName } from './system.js';
import { REPO_ROOT } from './system-server.js';

/** One client run's settings. */
export interface ClientRun {
  readonly system: SystemName;
  readonly address: string;
  readonly workload: WorkloadName;
  readonly concurrency: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  /** Called after the warm-up, before the measured window starts (the window waits for it). */
  readonly beforeWindow: () => Promise<void>;
  /** Called as soon as the result arrives, before the client closes its connection. */
  readonly afterWindow: () => Promise<void>;
  /** Kill the runner if it has not finished after this long. */
  readonly timeoutMs: number;
}

const RUNNER = new URL('./client-runner.ts', import.meta.url).pathname;

/**
 * Runs the client runner process for one run and resolves to its result.
 *
 * @throws when the runner exits without a result (its stderr is inherited, so the cause shows).
 */
export async function runClient(run: ClientRun): Promise<RunnerResult> {
  const args = [
    '--import',
    'tsx',
    RUNNER,
    run.system,
    run.address,
    run.workload,
    String(run.concurrency),
    String(run.seconds),
    String(run.warmupSeconds),
    '--handshake',
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = readJsonLines(child.stdout, `${run.system} client`);
  const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs);
  try {
    const warmedUp = (await lines.next()) as { event?: unknown };
    if (warmedUp.event !== 'warmed-up') throw new Error(`unexpected line ${JSON.stringify(warmedUp)}`);
    await run.beforeWindow();
    child.stdin.write('go\n');
    const result = (await lines.next()) as RunnerResult;
    await run.afterWindow();
    child.stdin.end();
    await exited;
    return result;
  } catch (error) {
    child.kill('SIGKILL');
    const code = await exited;
    throw new Error(`${run.system} client runner failed (exit ${code}): ${String(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
