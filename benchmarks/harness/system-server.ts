import { type ChildProcess, spawn } from 'node:child_process';
import type { WorkloadName } from '../workloads/workload.js';
import { readJsonLines } from './line-reader.js';
import { systemFile } from './load-system-client.js';
import type { ProcessStats, SystemName } from './system.js';

/** A system's server process, started by {@link startSystemServer}. */
export interface SystemServer {
  /** The address it printed. */
  readonly address: string;
  readonly child: ChildProcess;
  /** Asks for the server's {@link ProcessStats} (stdin line `stats`). */
  stats(): Promise<ProcessStats>;
  /** Closes its stdin and waits for it to exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
}

/** The repository's root: children run there so `--import tsx` resolves. */
export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

/**
 * Starts `node --import tsx benchmarks/systems/<system>/server.ts <workload>` as a plain child
 * (the same way for every system: same flags, same process group, stderr inherited) and waits
 * for the `{"address": ...}` line.
 *
 * @throws when the process exits or closes its stdout before printing its address.
 */
export function startSystemServer(system: SystemName, workload: WorkloadName): Promise<SystemServer> {
  return startServerProcess(systemFile(system, 'server.ts'), [workload], `${system} server`);
}

/**
 * Starts `node --import tsx <file> ...args`, a process that follows the server contract of
 * `system.ts` (its address line, `stats` lines, exit on stdin's end), and waits for its address.
 * A system made of several processes starts its others with it.
 *
 * @throws when the process exits or closes its stdout before printing its address.
 */
export async function startServerProcess(
  file: string,
  args: readonly string[],
  label: string,
): Promise<SystemServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: REPO_ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = readJsonLines(child.stdout, label);
  const ready = (await lines.next()) as { address?: unknown };
  if (typeof ready.address !== 'string')
    throw new Error(`${label} printed ${JSON.stringify(ready)}, not its address`);
  // Requests and answers pair up in order: one line each.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    address: ready.address,
    child,
    stats() {
      const answer = queue.then(() => {
        child.stdin.write('stats\n');
        return lines.next();
      });
      queue = answer.catch(() => undefined);
      return answer as Promise<ProcessStats>;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
