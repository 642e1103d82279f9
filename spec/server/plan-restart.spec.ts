import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planRestart, serveCluster } from '../../lib/server/serve-cluster.js';

describe('planRestart (the restart budget of serveCluster, on the scheduler clock)', () => {
  it('planRestart - within the budget a restart waits restartDelayMs', () => {
    const restarts: number[] = [];
    expect(planRestart(restarts, 0, 1_000, 3)).toBe(1_000);
    expect(planRestart(restarts, 10, 1_000, 3)).toBe(1_000);
    expect(planRestart(restarts, 20, 1_000, 3)).toBe(1_000);
    expect(restarts).toEqual([1_000, 1_010, 1_020]);
  });

  it('planRestart - past the budget a restart waits until the oldest of the minute is a minute old', () => {
    const restarts: number[] = [];
    for (const now of [0, 10, 20]) planRestart(restarts, now, 1_000, 3);
    // The 4th within the minute: the first restart (at 1,000) must be a minute old first.
    expect(planRestart(restarts, 30, 1_000, 3)).toBe(61_000 - 30);
  });

  it('planRestart - restarts a minute old no longer count', () => {
    const restarts: number[] = [];
    for (const now of [0, 10, 20]) planRestart(restarts, now, 1_000, 3);
    expect(planRestart(restarts, 61_000, 1_000, 3)).toBe(1_000);
  });

  it('planRestart - no minute ever sees more than maxPerMinute restarts, and none waits less than restartDelayMs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 30_000 }), { maxLength: 40 }),
        (restartDelayMs, maxPerMinute, gaps) => {
          const restarts: number[] = [];
          const planned: number[] = [];
          let now = 0;
          for (const gap of gaps) {
            now += gap;
            const delay = planRestart(restarts, now, restartDelayMs, maxPerMinute);
            expect(delay).toBeGreaterThanOrEqual(restartDelayMs);
            planned.push(now + delay);
          }
          const sorted = [...planned].sort((a, b) => a - b);
          for (let i = maxPerMinute; i < sorted.length; i++) {
            // any maxPerMinute + 1 restarts in a row span a minute or more
            expect((sorted[i] as number) - (sorted[i - maxPerMinute] as number)).toBeGreaterThanOrEqual(
              60_000,
            );
          }
        },
      ),
    );
  });

  it('serveCluster - a scheduler that is not a SchedulerLike is refused before anything is forked', () => {
    expect(() =>
      serveCluster({ address: 'tcp@127.0.0.1:0', setup: () => {}, scheduler: {} as never }),
    ).toThrow(/scheduler must be an RxJS SchedulerLike/);
  });
});
