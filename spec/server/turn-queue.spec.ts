import { describe, expect, it } from 'vitest';
import { TurnQueue } from '../../lib/server/turn-queue.js';
import { deferred } from '../support/deferred.js';

describe('TurnQueue', () => {
  it('runs tasks later, round robin across owners, in the order each owner queued them', async () => {
    const ran: string[] = [];
    const done = deferred();
    const queue = new TurnQueue<string>(1_000, () => {});
    for (const [owner, count] of [
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ] as const) {
      for (let n = 1; n <= count; n++) queue.push(owner, () => ran.push(`${owner}${n}`));
    }
    queue.push('a', () => done.resolve());
    expect(ran).toEqual([]);
    await done.promise;
    expect(ran).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
    expect(queue.size).toBe(0);
  });

  it('past its slice it lets the event loop turn: I/O queued meanwhile runs between two tasks', async () => {
    const ran: string[] = [];
    const done = deferred();
    // A slice of 0 ms ends after each task.
    const queue = new TurnQueue<string>(0, () => {});
    queue.push('a', () => {
      ran.push('task 1');
      setImmediate(() => ran.push('other I/O'));
    });
    queue.push('a', () => ran.push('task 2'));
    queue.push('a', () => done.resolve());
    await done.promise;
    expect(ran).toEqual(['task 1', 'other I/O', 'task 2']);
  });

  it('a task that throws is reported, and the next ones still run', async () => {
    const errors: unknown[] = [];
    const done = deferred();
    const queue = new TurnQueue<string>(1_000, (error) => errors.push(error));
    const boom = new Error('boom');
    queue.push('a', () => {
      throw boom;
    });
    queue.push('a', () => done.resolve());
    await done.promise;
    expect(errors).toEqual([boom]);
  });
});
