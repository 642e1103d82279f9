// Runs an attacker in its own process when it needs a core of its own: the child gets its
// config as JSON in argv[2] and sends one message, its result, before it exits.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Forks `main` (a .ts file, run with tsx) and resolves with the one message it sends.
 *
 * @throws when the child exits without sending it, or runs past `timeoutMs` (it is killed then).
 */
export function runAttackerChild<T>(main: URL, config: unknown, timeoutMs: number): Promise<T> {
  const child = fork(fileURLToPath(main), [JSON.stringify(config)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<T>((resolve, reject) => {
    let result: { value: T } | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('message', (message: T) => {
      result = { value: message };
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (result) resolve(result.value);
      else
        reject(
          new Error(`attacker ${fileURLToPath(main)} ended (${signal ?? `exit ${code}`}) without a result`),
        );
    });
  });
}

/** In the child: its config. */
export function attackerConfig<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

/** In the child: sends the result and lets the process end. */
export function reportResult(result: unknown): void {
  process.send?.(result, undefined, {}, () => process.disconnect());
}
