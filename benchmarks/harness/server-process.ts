import { createInterface } from 'node:readline';
import { processStats } from './process-stats.js';

/**
 * The server side of the contract in `system.ts`, for a server that is listening: prints
 * `{"address": ...}` on stdout, answers each stdin line `stats` with one {@link ProcessStats}
 * line, and on stdin's end (or SIGTERM/SIGINT) calls `close` and exits. A `close` that fails or
 * hangs past 5 s still exits (with code 1), so a server never outlives its harness.
 *
 * @example
 * ```ts
 * const address = await server.listen('tcp@127.0.0.1:0');
 * runServerProcess(address, () => server.shutdown({ graceMs: 1_000 }));
 * ```
 */
export function runServerProcess(address: string, close: () => Promise<void>): void {
  process.stdout.write(`${JSON.stringify({ address })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify(processStats())}\n`);
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(1), 5_000).unref();
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('server close failed:', error);
        process.exit(1);
      },
    );
  };
  lines.once('close', stop);
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
