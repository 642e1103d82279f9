import { createInterface } from 'node:readline';
import { processStats } from './process-stats.js';
import type { ProcessStats } from './system.js';

/**
 * The server side of the contract in `system.ts`, for a server that is listening: prints
 * `{"address": ...}` on stdout, answers each stdin line `stats` with one {@link ProcessStats}
 * line (`stats`, by default this process's own; a server of several processes sums them), and on stdin's end (or SIGTERM/SIGINT) calls `close` and exits. A `close` that fails or
 * hangs past 5 s still exits (with code 1), so a server never outlives its harness.
 *
 * @example
 * ```ts
 * const address = await server.listen('tcp@127.0.0.1:0');
 * runServerProcess(address, () => server.shutdown({ graceMs: 1_000 }));
 * ```
 */
export function runServerProcess(
  address: string,
  close: () => Promise<void>,
  stats: () => Promise<ProcessStats> = async () => processStats(),
): void {
  process.stdout.write(`${JSON.stringify({ address })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'stats')
      stats().then(
        (sample) => process.stdout.write(`${JSON.stringify(sample)}\n`),
        (error: unknown) => {
          console.error('server stats failed:', error);
          process.exit(1);
        },
      );
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
