// Starts server-main.ts in its own process and speaks to it over IPC: its address, its stats,
// and how it ended if it did. A server that exits during a scenario is a FAIL, so the exit is
// recorded from the moment the process starts.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromChild, ServerConfig, ServerStats, ToChild } from './messages.js';

const MAIN = fileURLToPath(new URL('./server-main.ts', import.meta.url));
/**
 * How long a child may take to answer `stats`: past it, its event loop is taken as blocked (a
 * stuck child would otherwise hang the scenario that waits on it).
 */
export const STATS_TIMEOUT_MS = 10_000;

/** A child process that serves (a server, a gateway), as its parent sees it. */
export interface ServingChild<Stats> {
  /** Where it listens: a phobos address, or a gateway's URL. */
  readonly address: string;
  readonly process: ChildProcess;
  /**
   * Its figures; with `gc`, the live heap after a full GC. Rejects once the process is gone, or
   * when it has not answered within {@link STATS_TIMEOUT_MS}.
   */
  stats(options?: { readonly gc?: boolean }): Promise<Stats>;
  /** How the process ended (`exit 70: TypeError...`, `signal SIGKILL`), or undefined while it runs. */
  readonly ended: string | undefined;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Asks it to exit (SIGKILL after 3 s) and waits for it. */
  stop(): Promise<void>;
}

/** A server child process, started by {@link startServer}. */
export type ServerChild = ServingChild<ServerStats>;

/**
 * Forks a server child with `node --expose-gc --import tsx` and waits for its address.
 *
 * @throws when the process exits before it listens.
 */
export function startServer(config: ServerConfig): Promise<ServerChild> {
  return forkServingChild<ServerStats>(MAIN, [JSON.stringify(config)], 'server');
}

/**
 * Forks `main` with `node --expose-gc --import tsx` and `args`, speaking {@link ToChild} and
 * {@link FromChild} over IPC, and waits for the address it listens on. `label` names it in errors.
 *
 * @throws when the process exits before it listens.
 */
export async function forkServingChild<Stats>(
  main: string,
  args: readonly string[],
  label: string,
): Promise<ServingChild<Stats>> {
  const child = fork(main, [...args], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ended: string | undefined;
  let crash = '';
  const pending = new Map<number, { resolve: (stats: Stats) => void; reject: (error: Error) => void }>();
  let nextId = 0;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      ended = signal ? `signal ${signal}` : `exit ${code}${crash}`;
      for (const waiter of pending.values()) waiter.reject(new Error(`${label} ${ended}`));
      pending.clear();
      resolve();
    });
  });
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (message: FromChild<Stats>) => {
      if (message.type === 'ready') resolve(message.address);
      else if (message.type === 'crash') crash = `: ${message.error}`;
      else {
        pending.get(message.id)?.resolve(message.stats);
        pending.delete(message.id);
      }
    });
    void exited.then(() => reject(new Error(`${label} ${ended} before it listened`)));
  });
  const address = await ready;
  const tell = (message: ToChild): void => {
    if (child.connected) child.send(message);
  };
  return {
    address,
    process: child,
    get ended() {
      return ended;
    },
    exited,
    stats(options = {}) {
      if (ended) return Promise.reject(new Error(`${label} ${ended}`));
      nextId += 1;
      const id = nextId;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(
            new Error(
              `${label} did not answer stats within ${STATS_TIMEOUT_MS / 1_000} s (its event loop is blocked)`,
            ),
          );
        }, STATS_TIMEOUT_MS);
        pending.set(id, {
          resolve: (stats) => {
            clearTimeout(timer);
            resolve(stats);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        tell({ type: 'stats', id, gc: options.gc ?? false });
      });
    },
    async stop() {
      if (ended) return;
      tell({ type: 'exit' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
