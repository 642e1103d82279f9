import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RetryBudget, retryBudget } from '../../lib/operators/index.js';

/** A budget on a clock the test moves by hand. */
function manual(options: { ratio?: number; minRetriesPerSecond?: number; ttlMs?: number } = {}) {
  const clock = { now: 0 };
  const budget = retryBudget({ ...options, clock: () => clock.now });
  return { clock, budget };
}

function withdrawAll(budget: RetryBudget): number {
  let granted = 0;
  while (budget.tryWithdraw()) granted += 1;
  return granted;
}

/** Moves the clock by `permille` thousandths of ttlMs (a few go back). */
type Command = { kind: 'deposit' } | { kind: 'withdraw' } | { kind: 'advance'; permille: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'deposit' as const }) },
  { weight: 4, arbitrary: fc.constant({ kind: 'withdraw' as const }) },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: -20, max: 1_200 })
      .map((permille) => ({ kind: 'advance' as const, permille })),
  },
);

describe('retryBudget', () => {
  it('retryBudget - with no calls allows the reserve: minRetriesPerSecond × ttlMs / 1000', () => {
    const { budget } = manual();
    expect(budget.balance).toBe(100);
    expect(withdrawAll(budget)).toBe(100);
    expect(budget.balance).toBe(0);
  });

  it('retryBudget - allows ratio × calls on top of the reserve', () => {
    const { budget } = manual({ ratio: 0.25, minRetriesPerSecond: 1, ttlMs: 2_000 });
    for (let i = 0; i < 40; i++) budget.deposit();
    expect(withdrawAll(budget)).toBe(12);
  });

  it('retryBudget - calls and retries older than ttlMs stop counting', () => {
    const { clock, budget } = manual({ ratio: 0.5, minRetriesPerSecond: 0, ttlMs: 1_000 });
    for (let i = 0; i < 10; i++) budget.deposit();
    expect(withdrawAll(budget)).toBe(5);
    clock.now = 950;
    for (let i = 0; i < 4; i++) budget.deposit();
    expect(withdrawAll(budget)).toBe(2); // 14 calls within ttlMs: 7 retries
    clock.now = 1_000;
    expect(budget.balance).toBe(0); // the first 10 calls are out: 4 calls, 7 retries
    clock.now = 1_100;
    for (let i = 0; i < 2; i++) budget.deposit();
    expect(withdrawAll(budget)).toBe(1); // the first 5 retries are out: 6 calls, 2 retries
    clock.now = 2_200; // everything is out
    expect(budget.balance).toBe(0);
    for (let i = 0; i < 6; i++) budget.deposit();
    expect(withdrawAll(budget)).toBe(3);
  });

  it('retryBudget - a retry counts for a full ttlMs, even late in its time slice', () => {
    const { clock, budget } = manual({ ratio: 0, minRetriesPerSecond: 1, ttlMs: 1_000 });
    clock.now = 50;
    expect(budget.tryWithdraw()).toBe(true);
    clock.now = 1_000; // the retry at 50 is 950 ms old: still within ttlMs
    expect(budget.tryWithdraw()).toBe(false);
    clock.now = 1_100;
    expect(budget.tryWithdraw()).toBe(true);
  });

  it('retryBudget - ratio 0 and no reserve never allows a retry', () => {
    const { budget } = manual({ ratio: 0, minRetriesPerSecond: 0 });
    for (let i = 0; i < 1_000; i++) budget.deposit();
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('retryBudget - reads a clock that goes back as standing still', () => {
    const { clock, budget } = manual({ ratio: 1, minRetriesPerSecond: 0, ttlMs: 1_000 });
    clock.now = 5_000;
    budget.deposit();
    clock.now = 0;
    expect(budget.tryWithdraw()).toBe(true);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('retryBudget - never allows more retries within ttlMs than the formula, and refuses only when it must', () => {
    const cases = fc.record({
      ratioPercent: fc.integer({ min: 0, max: 300 }),
      minRetriesPerSecond: fc.integer({ min: 0, max: 5 }),
      ttlMs: fc.integer({ min: 10, max: 3_000 }),
      start: fc.integer({ min: 0, max: 1e12 }),
      commands: fc.array(command, { maxLength: 200 }),
    });
    fc.assert(
      fc.property(cases, ({ ratioPercent, minRetriesPerSecond, ttlMs, start, commands }) => {
        let now = start;
        // The budget's time: the latest clock reading it made (it reads a clock gone back as standing still).
        let time = Number.NEGATIVE_INFINITY;
        const budget = retryBudget({
          ratio: ratioPercent / 100,
          minRetriesPerSecond,
          ttlMs,
          clock: () => now,
        });
        const deposits: number[] = [];
        const withdrawals: number[] = [];
        // retries allowed for `calls` calls: ratio × calls + reserve, rounded down, in integers
        const allowed = (calls: number) =>
          Math.floor((10 * ratioPercent * calls + minRetriesPerSecond * ttlMs) / 1000);
        // how many events happened within `window` tenths of ttlMs before now
        const within = (events: number[], tenths: number) =>
          events.filter((at) => 10 * (time - at) < tenths * ttlMs).length;
        for (const c of commands) {
          if (c.kind === 'advance') {
            now += Math.floor((c.permille * ttlMs) / 1000);
          } else if (c.kind === 'deposit') {
            time = Math.max(time, now);
            budget.deposit();
            deposits.push(time);
          } else {
            time = Math.max(time, now);
            // sure to pass: retries of the last 1.1 × ttlMs against calls of the last 0.9 × ttlMs
            const sure = within(withdrawals, 11) + 1 <= allowed(within(deposits, 9));
            const granted = budget.tryWithdraw();
            if (sure) expect(granted).toBe(true);
            if (granted) {
              withdrawals.push(time);
              // the guarantee: a retry is granted only if, with it, the retries of the last ttlMs
              // are at most ratio × the calls of the last ttlMs + the reserve
              expect(within(withdrawals, 10)).toBeLessThanOrEqual(allowed(within(deposits, 10)));
            }
          }
        }
      }),
      {
        numRuns: 1000,
        // A clock gone back before the first reading: the model once counted from the start.
        examples: [
          [
            {
              ratioPercent: 100,
              minRetriesPerSecond: 0,
              ttlMs: 13,
              start: 705_541_125_252,
              commands: [
                { kind: 'advance', permille: -1 },
                { kind: 'deposit' },
                { kind: 'advance', permille: 924 },
                { kind: 'withdraw' },
              ],
            },
          ],
        ],
      },
    );
  });

  it.each([
    [{ ratio: -0.1 }, /ratio/],
    [{ ratio: 1001 }, /ratio/],
    [{ ratio: Number.POSITIVE_INFINITY }, /ratio/],
    [{ minRetriesPerSecond: 1.5 }, /minRetriesPerSecond/],
    [{ minRetriesPerSecond: -1 }, /minRetriesPerSecond/],
    [{ ttlMs: 0 }, /ttlMs/],
    [{ clock: 5 }, /clock/],
  ])('retryBudget - rejects %o at creation', (bad, message) => {
    expect(() => retryBudget(bad as never)).toThrow(RangeError);
    expect(() => retryBudget(bad as never)).toThrow(message);
  });
});
