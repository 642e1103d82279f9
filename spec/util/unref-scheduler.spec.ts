import { firstValueFrom, take, timeout, timer, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { unrefScheduler } from '../../lib/util/unref-scheduler.js';
import { trackHandles } from '../support/handles.js';

trackHandles();

/** Timers that keep the process alive now. */
function refTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

describe('unrefScheduler', () => {
  it('unrefScheduler - runs what it schedules, with its state, on the clock of Date.now()', async () => {
    const before = Date.now();
    expect(unrefScheduler.now()).toBeGreaterThanOrEqual(before);
    const state = await new Promise<string>((resolve) => {
      unrefScheduler.schedule((given) => resolve(given as string), 1, 'state');
    });
    expect(state).toBe('state');
  });

  it('unrefScheduler - its timers do not keep the process alive, those of asyncScheduler do', () => {
    const base = refTimers();
    const background = unrefScheduler.schedule(() => {}, 60_000);
    expect(refTimers()).toBe(base);
    const held = setTimeout(() => {}, 60_000);
    expect(refTimers()).toBe(base + 1);
    clearTimeout(held);
    background.unsubscribe();
  });

  it('unrefScheduler - a periodic timer reschedules itself, and unsubscribing stops it', async () => {
    const ticks = await firstValueFrom(timer(0, 1, unrefScheduler).pipe(take(3), toArray()));
    expect(ticks).toEqual([0, 1, 2]);
  });

  it('unrefScheduler - drives RxJS time operators (timeout) like asyncScheduler', async () => {
    const error = await firstValueFrom(
      timer(60_000, unrefScheduler).pipe(timeout({ each: 1, scheduler: unrefScheduler })),
    ).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
  });

  it('unrefScheduler - work unsubscribed before its time never runs', async () => {
    let ran = false;
    const action = unrefScheduler.schedule(() => {
      ran = true;
    }, 1);
    action.unsubscribe();
    expect(action.closed).toBe(true);
    // Scheduled after it for the same time: it fires after the cancelled one would have.
    await new Promise<void>((resolve) => unrefScheduler.schedule(() => resolve(), 1));
    expect(ran).toBe(false);
  });
});
