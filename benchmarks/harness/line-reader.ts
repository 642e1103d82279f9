import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

/** Reads a child's stdout one JSON line at a time. */
export interface LineReader {
  /** The next JSON line, parsed; rejects when the stream ends first. */
  next(): Promise<unknown>;
}

/**
 * Queues the JSON lines of a stream so they can be awaited in order. Lines that are not JSON
 * objects (stray logging) are passed to stderr and skipped.
 *
 * @example
 * ```ts
 * const lines = readJsonLines(child.stdout, 'phobos server');
 * const { address } = (await lines.next()) as { address: string };
 * ```
 */
export function readJsonLines(stream: Readable, name: string): LineReader {
  const queued: unknown[] = [];
  const waiting: { resolve: (value: unknown) => void; reject: (error: Error) => void }[] = [];
  let ended = false;
  const lines = createInterface({ input: stream });
  lines.on('line', (line) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      process.stderr.write(`[${name}] ${line}\n`);
      return;
    }
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(value);
    else queued.push(value);
  });
  lines.once('close', () => {
    ended = true;
    for (const waiter of waiting.splice(0)) waiter.reject(new Error(`${name} ended its output`));
  });
  return {
    next() {
      if (queued.length > 0) return Promise.resolve(queued.shift());
      if (ended) return Promise.reject(new Error(`${name} ended its output`));
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
  };
}
