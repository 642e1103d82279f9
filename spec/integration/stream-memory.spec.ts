import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../lib/client/client.js';
import { SerializeType } from '../../lib/codec/index.js';

/**
 * Flow control holds across processes: a server process whose producer could make millions of
 * 1 KiB values a second streams to a reader that takes them one per turn of the event loop, far
 * slower; the server's memory, the bytes it buffers and how far its producer runs ahead of the
 * reader stay flat over 100,000 values. Memory is sampled every 5,000 values (no timing involved).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/streams/flood-server.ts', import.meta.url));
const MiB = 1024 * 1024;

interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly bufferedBytes: number;
  readonly produced: number;
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** Starts the flood server in its own process; resolves with its address. */
async function floodServer(): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  stops.push(async () => {
    child.stdin?.end();
    await exited;
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  return new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /^address (\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    void exited.then(() => reject(new Error('the flood server ended before listening')));
  });
}

describe('stream flow control across processes', { timeout: 120_000 }, () => {
  it('a slow reader of 100,000 values keeps the producing server flat: RSS, heap, buffered bytes, values ahead', async () => {
    const address = await floodServer();
    const client = new Client(address, { serializeType: SerializeType.MsgPack });
    stops.push(() => client.close());
    const window = 32;
    const samples: Memory[] = [];
    let read = 0;
    let maxAhead = 0;
    for await (const value of client.stream<string>('Ticker', 'Flood', undefined, { window })) {
      expect(value).toHaveLength(1_024);
      read++;
      // The reader takes one value per turn of the event loop: the producer waits for it.
      await new Promise((resolve) => setImmediate(resolve));
      if (read % 5_000 === 0) {
        const memory = await client.call<Memory>('Stats', 'Memory');
        samples.push(memory);
        maxAhead = Math.max(maxAhead, memory.produced - read);
      }
      if (read === 100_000) break;
    }
    expect(samples).toHaveLength(20);
    // Never more than the window ahead (and the one value an async iterable is pulled ahead).
    expect(maxAhead).toBeLessThanOrEqual(window + 1);
    // What the server buffers is at most a window of frames, at every sample.
    for (const sample of samples) expect(sample.bufferedBytes).toBeLessThanOrEqual((window + 1) * 2_048);
    // Flat: from the second sample on (the first includes warm-up), RSS and heap grow by no
    // more than a few MiB, though 100 MiB of values went through.
    const settled = samples.slice(1);
    const rss = settled.map((sample) => sample.rss);
    const heap = settled.map((sample) => sample.heapUsed);
    expect(Math.max(...rss) - Math.min(...rss)).toBeLessThan(48 * MiB);
    expect(Math.max(...heap) - Math.min(...heap)).toBeLessThan(32 * MiB);
  });
});
