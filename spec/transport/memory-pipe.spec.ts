import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { memoryPipe } from '../../lib/transport/memory-pipe.js';

describe('memoryPipe', () => {
  it('memoryPipe - what one end writes, the other reads, in order, both ways', async () => {
    const [a, b] = memoryPipe();
    const got: string[] = [];
    b.on('data', (chunk: Buffer) => got.push(chunk.toString()));
    a.write('one');
    a.write('two');
    b.write('back');
    const [back] = (await once(a, 'data')) as [Buffer];
    expect(back.toString()).toBe('back');
    expect(got.join('')).toBe('onetwo');
    a.destroy();
    await once(b, 'close');
  });

  it('memoryPipe - a writer waits while the reader does not read (backpressure), then goes on', async () => {
    const [a, b] = memoryPipe();
    b.pause();
    const chunk = Buffer.alloc(64 * 1024);
    let accepted = 0;
    while (a.write(chunk)) accepted++;
    expect(a.writableNeedDrain).toBe(true);
    // The reader holds at most its high-water mark; the rest waits in the writer.
    expect(b.readableLength).toBeLessThanOrEqual(b.readableHighWaterMark + chunk.length);
    let read = 0;
    b.on('data', (data: Buffer) => {
      read += data.length;
    });
    b.resume();
    await once(a, 'drain');
    expect(read).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(64);
    a.destroy();
    await once(b, 'close');
  });

  it('memoryPipe - ending one end ends the other (no half-open), and both close', async () => {
    const [a, b] = memoryPipe();
    b.resume();
    a.resume();
    const closedA = once(a, 'close');
    const closedB = once(b, 'close');
    a.end();
    await Promise.all([closedA, closedB]);
    expect([a.destroyed, b.destroyed]).toEqual([true, true]);
  });

  it('memoryPipe - a write after the other end is gone fails with an error, not a crash', async () => {
    const [a, b] = memoryPipe();
    b.destroy();
    await once(a, 'close');
    expect(a.destroyed).toBe(true);
    expect(a.write('late', () => {})).toBe(false);
  });
});
