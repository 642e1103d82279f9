import { createInterface } from 'node:readline';

/**
 * The runner's side of the harness handshake: prints `{"event":"warmed-up"}` and waits for the
 * stdin line `go`, so that the harness can sample the server's CPU before the measured window.
 *
 * @throws when stdin closes before `go`.
 */
export async function handshake(): Promise<void> {
  process.stdout.write(`${JSON.stringify({ event: 'warmed-up' })}\n`);
  const lines = createInterface({ input: process.stdin });
  await new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      if (line.trim() === 'go') resolve();
    });
    lines.once('close', () => reject(new Error('stdin closed before `go`')));
  });
  lines.close();
}
