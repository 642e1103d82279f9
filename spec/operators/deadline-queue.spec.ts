import fc from 'fast-check';
import type { Unsubscribable } from 'rxjs';
import { asyncScheduler, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { DeadlineQueue, DeadlineQueues } from '../../lib/operators/deadline-queue.js';
import { advanceTo } from '../support/virtual-time.js';

type Command =
  | { readonly kind: 'add' }
  | { readonly kind: 'cancel'; readonly pick: number }
  | { readonly kind: 'advance'; readonly ms: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.constant({ kind: 'add' as const }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 150 }) }),
);

/** A pending deadline of the models below: when it is due, and how to cancel it. */
interface Pending {
  readonly at: number;
  readonly handle: Unsubscribable;
}

/** Cancels the model's deadline that `pick` designates, if any is pending. */
function cancelPicked(model: Map<number, Pending>, pick: number): void {
  const ids = [...model.keys()];
  if (ids.length === 0) return;
  const id = ids[pick % ids.length] as number;
  model.get(id)?.handle.unsubscribe();
  model.delete(id);
}

/**
 * Moves the model's deadlines due by `upTo` to `expected`, in the order they run: by time, then
 * in the order they were added (ids grow with it).
 */
function expireModel(
  model: Map<number, Pending>,
  upTo: number,
  expected: Array<{ id: number; at: number }>,
): void {
  const due = [...model].filter(([, { at }]) => at <= upTo).sort(([a, x], [b, y]) => x.at - y.at || a - b);
  for (const [id, { at }] of due) {
    expected.push({ id, at });
    model.delete(id);
  }
}

/** Node timers that keep the process alive now. */
function refTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
}

/** `scheduler`, counting the actions scheduled through it. */
function countingScheduler(scheduler: VirtualTimeScheduler) {
  const counting = {
    scheduled: 0,
    now: () => scheduler.now(),
    schedule: ((...args: Parameters<VirtualTimeScheduler['schedule']>) => {
      counting.scheduled += 1;
      return scheduler.schedule(...args);
    }) as VirtualTimeScheduler['schedule'],
  };
  return counting;
}

describe('DeadlineQueue', () => {
  it.each([false, true])(
    'DeadlineQueue - each deadline runs exactly at its time unless cancelled before, in the order added, on at most one scheduled action (model; keepArmed %s)',
    (keepArmed) => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 100 }),
          fc.array(commandArb, { maxLength: 60 }),
          (timeoutMs, commands) => {
            const scheduler = new VirtualTimeScheduler();
            const queue = new DeadlineQueue(timeoutMs, scheduler, keepArmed);
            const ran: Array<{ id: number; at: number }> = [];
            const model = new Map<number, Pending>();
            const expected: Array<{ id: number; at: number }> = [];
            let next = 0;
            for (const command of commands) {
              if (command.kind === 'add') {
                const id = next++;
                const at = scheduler.now() + timeoutMs;
                const handle = queue.add(() => ran.push({ id, at: scheduler.now() }));
                model.set(id, { at, handle });
              } else if (command.kind === 'cancel') {
                cancelPicked(model, command.pick);
              } else {
                const to = scheduler.now() + command.ms;
                expireModel(model, to, expected);
                advanceTo(scheduler, to);
              }
              expect(ran).toEqual(expected);
              expect(queue.size).toBe(model.size);
              // Kept armed, a timer may outlive the last deadline, until its time.
              if (keepArmed && model.size === 0) expect(scheduler.actions.length).toBeLessThanOrEqual(1);
              else expect(scheduler.actions.length).toBe(model.size > 0 ? 1 : 0);
            }
            advanceTo(scheduler, scheduler.now() + timeoutMs);
            expect(scheduler.actions).toEqual([]);
          },
        ),
      );
    },
  );

  it('DeadlineQueue - a deadline added or cancelled while others run is honoured', () => {
    const scheduler = new VirtualTimeScheduler();
    const queue = new DeadlineQueue(10, scheduler);
    const log: string[] = [];
    let late: Unsubscribable | undefined;
    queue.add(() => {
      log.push(`a@${scheduler.now()}`);
      late?.unsubscribe();
      queue.add(() => log.push(`c@${scheduler.now()}`));
    });
    late = queue.add(() => log.push('b'));
    advanceTo(scheduler, 10);
    expect(log).toEqual(['a@10']);
    advanceTo(scheduler, 20);
    expect(log).toEqual(['a@10', 'c@20']);
    expect(scheduler.actions).toEqual([]);
  });

  it('DeadlineQueue - many deadlines cancelled out of order are forgotten: it holds what is pending, not what was added', () => {
    const scheduler = new VirtualTimeScheduler();
    const queue = new DeadlineQueue(1_000, scheduler);
    const stuck = queue.add(() => {});
    for (let i = 0; i < 100_000; i++) queue.add(() => {}).unsubscribe();
    expect(queue.size).toBe(1);
    expect((queue as unknown as { entries: unknown[] }).entries.length).toBeLessThanOrEqual(2_048);
    stuck.unsubscribe();
    expect(queue.size).toBe(0);
    expect(scheduler.actions).toEqual([]);
  });

  it('DeadlineQueue - kept armed, one call at a time schedules one timer per timeout, not one per call', () => {
    const scheduler = new VirtualTimeScheduler();
    const counting = countingScheduler(scheduler);
    const queue = new DeadlineQueue(1_000, counting, true);
    const expired: number[] = [];
    // A call every 10 ms for 3 s, each answered 5 ms later.
    for (let at = 0; at < 3_000; at += 10) {
      advanceTo(scheduler, at);
      const deadline = queue.add(() => expired.push(at));
      advanceTo(scheduler, at + 5);
      deadline.unsubscribe();
    }
    expect(expired).toEqual([]);
    expect(counting.scheduled).toBeLessThanOrEqual(4);
    // The last one is not answered: it expires at its time, kept timer or not.
    advanceTo(scheduler, 3_000);
    queue.add(() => expired.push(scheduler.now()));
    advanceTo(scheduler, 3_999);
    expect(expired).toEqual([]);
    advanceTo(scheduler, 4_000);
    expect(expired).toEqual([4_000]);
    advanceTo(scheduler, 6_000);
    expect(scheduler.actions).toEqual([]);
  });

  it('DeadlineQueue - kept armed on asyncScheduler, the one timer holds the process only while a deadline is pending; disarm() lets it go; deadlines still run on time', async () => {
    const schedule = vi.spyOn(asyncScheduler, 'schedule');
    try {
      const queue = new DeadlineQueue(60_000, asyncScheduler, true);
      const base = refTimers();
      const first = queue.add(() => {});
      expect(refTimers()).toBe(base + 1);
      first.unsubscribe();
      expect(refTimers()).toBe(base);
      // The next deadline reuses the armed timer, held again while it is pending.
      const second = queue.add(() => {});
      expect(refTimers()).toBe(base + 1);
      second.unsubscribe();
      expect(refTimers()).toBe(base);
      expect(schedule).toHaveBeenCalledTimes(1);
      const action = schedule.mock.results[0]?.value as { closed: boolean };
      expect(action.closed).toBe(false);
      queue.disarm();
      expect(action.closed).toBe(true);
      const short = new DeadlineQueue(5, asyncScheduler, true);
      const ran = await new Promise<string>((resolve) => short.add(() => resolve('ran')));
      expect(ran).toBe('ran');
      expect(short.size).toBe(0);
      short.disarm();
    } finally {
      schedule.mockRestore();
    }
  });

  it.each([false, true])(
    'DeadlineQueue - stop() cancels what is pending and leaves no timer; later deadlines run (keepArmed %s)',
    (keepArmed) => {
      const scheduler = new VirtualTimeScheduler();
      const queue = new DeadlineQueue(100, scheduler, keepArmed);
      const ran: string[] = [];
      queue.add(() => ran.push('a'));
      queue.add(() => ran.push('b')).unsubscribe();
      queue.stop();
      expect(queue.size).toBe(0);
      expect(scheduler.actions).toEqual([]);
      advanceTo(scheduler, 50);
      queue.add(() => ran.push(`c@${scheduler.now()}`));
      advanceTo(scheduler, 500);
      expect(ran).toEqual(['c@150']);
      expect(scheduler.actions).toEqual([]);
    },
  );
});

type LengthCommand =
  | { readonly kind: 'add'; readonly length: number }
  | { readonly kind: 'cancel'; readonly pick: number }
  | { readonly kind: 'advance'; readonly ms: number };

const lengthCommandArb: fc.Arbitrary<LengthCommand> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), length: fc.constantFrom(5, 20, 21, 100) }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 60 }) }),
);

describe('DeadlineQueues', () => {
  it.each([1, 2, 64])(
    'DeadlineQueues - deadlines of any length each run exactly at their time unless cancelled before, on at most one scheduled action per length pending (model; maxLengths %i)',
    (maxLengths) => {
      fc.assert(
        fc.property(fc.array(lengthCommandArb, { maxLength: 60 }), (commands) => {
          const scheduler = new VirtualTimeScheduler();
          const queues = new DeadlineQueues(scheduler, maxLengths);
          const ran: Array<{ id: number; at: number }> = [];
          const model = new Map<number, Pending & { readonly length: number }>();
          const expected: Array<{ id: number; at: number }> = [];
          let next = 0;
          for (const command of commands) {
            if (command.kind === 'add') {
              const id = next++;
              const at = scheduler.now() + command.length;
              const handle = queues.add(command.length, () => ran.push({ id, at: scheduler.now() }));
              model.set(id, { at, length: command.length, handle });
            } else if (command.kind === 'cancel') {
              cancelPicked(model, command.pick);
            } else {
              const to = scheduler.now() + command.ms;
              expireModel(model, to, expected);
              advanceTo(scheduler, to);
            }
            expect(ran).toEqual(expected);
            const pendingLengths = new Set([...model.values()].map(({ length }) => length)).size;
            // Lengths past maxLengths get a timer per deadline instead of a shared one.
            expect(queues.lengths).toBeLessThanOrEqual(Math.min(pendingLengths, maxLengths));
            if (maxLengths >= 4) {
              expect(queues.lengths).toBe(pendingLengths);
              expect(scheduler.actions.length).toBe(pendingLengths);
            } else expect(scheduler.actions.length).toBeLessThanOrEqual(model.size);
          }
          advanceTo(scheduler, scheduler.now() + 100);
          expect(ran.length).toBe(expected.length + [...model.keys()].length);
          expect(scheduler.actions).toEqual([]);
          expect(queues.lengths).toBe(0);
        }),
      );
    },
  );

  it('DeadlineQueues - a thousand calls told the same deadline share one timer, and a length no call waits on any more is forgotten', () => {
    const scheduler = new VirtualTimeScheduler();
    const counting = countingScheduler(scheduler);
    const queues = new DeadlineQueues(counting);
    const handles = Array.from({ length: 1_000 }, () => queues.add(30_000, () => {}));
    expect(counting.scheduled).toBe(1);
    expect(queues.lengths).toBe(1);
    for (const handle of handles) handle.unsubscribe();
    expect(queues.lengths).toBe(0);
    expect(scheduler.actions).toEqual([]);
  });
});
