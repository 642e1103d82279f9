import type { VirtualTimeScheduler } from 'rxjs';

/** Lets pending promise chains run (a few rounds of microtasks), without any timer. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/**
 * Runs what `scheduler` has due up to `frame` (virtual milliseconds) and sets its clock there
 * (`flush` alone leaves `now()` at the last action it ran).
 */
export function advanceTo(scheduler: VirtualTimeScheduler, frame: number): void {
  scheduler.maxFrames = frame;
  scheduler.flush();
  scheduler.frame = Math.max(scheduler.frame, frame);
}
