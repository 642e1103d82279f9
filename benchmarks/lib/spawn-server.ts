import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A server process started for a benchmark. */
export interface ServerProcess {
  readonly address: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node <args...>` the same way for every system compared, waits for the JSON line
 * `{ "address": ... }` on its stdout, and returns it.
 */
export async function spawnServer(args: readonly string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const address = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before it was ready`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { address: string }).address));
  });
  return {
    address,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
