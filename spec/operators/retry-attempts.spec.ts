import fc from 'fast-check';
import { defer, type Observable, of, retry, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { ConnectionError, ServiceError } from '../../lib/errors/index.js';
import { isRetryable } from '../../lib/operators/index.js';
import { retryAttempts } from '../../lib/operators/retry-attempts.js';
import { countingBudget } from './marbles.js';

/** What one attempt does: answers, or fails with a retryable or a final error, after some frames. */
const outcome = fc.record({
  kind: fc.constantFrom('value', 'retryable', 'final', 'at-once'),
  frames: fc.integer({ min: 1, max: 4 }),
});

/** The retry rule written with rxjs's own `retry`, as the operator once was. */
function reference<T>(
  retries: number,
  backoffMs: number,
  budget: ReturnType<typeof countingBudget>,
  scheduler: TestScheduler,
): (source: Observable<T>) => Observable<T> {
  const retrying = retry<T>({
    count: retries,
    delay: (error: unknown) => {
      if (!isRetryable(error)) return throwError(() => error);
      if (!budget.tryWithdraw()) return throwError(() => error);
      return backoffMs > 0 ? timer(backoffMs, scheduler) : of(0);
    },
  });
  return (source) =>
    defer(() => {
      budget.deposit();
      return source.pipe(retrying);
    });
}

describe('retryAttempts', () => {
  it('retryAttempts - resubscribes exactly as rxjs retry with a delay rule would, for any sequence of attempts', () => {
    fc.assert(
      fc.property(
        fc.array(outcome, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 6 }),
        (outcomes, retries, backoffMs, allowed) => {
          const run = (ours: boolean): { marbles: unknown; subscriptions: unknown; budget: unknown } => {
            const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
            let result: { marbles: unknown; subscriptions: unknown; budget: unknown } | undefined;
            scheduler.run(({ cold }) => {
              const sources = outcomes.map(({ kind, frames }, n) => {
                const pad = '-'.repeat(frames);
                if (kind === 'value') return cold(`${pad}a|`, { a: n });
                if (kind === 'final') return cold(`${pad}#`, undefined, new ServiceError(`final ${n}`));
                if (kind === 'at-once') return cold('#', undefined, new ConnectionError(`at once ${n}`));
                return cold(`${pad}#`, undefined, new ConnectionError(`down ${n}`));
              });
              let next = 0;
              const source = defer(() => {
                const chosen = sources[Math.min(next, sources.length - 1)];
                next += 1;
                return chosen as Observable<number>;
              });
              const budget = countingBudget(allowed);
              const operator = ours
                ? retryAttempts<number>('test', {
                    retries,
                    budget,
                    scheduler,
                    ...(backoffMs > 0 ? { backoff: () => backoffMs } : {}),
                  })
                : reference<number>(retries, backoffMs, budget, scheduler);
              const marbles: unknown[] = [];
              source.pipe(operator).subscribe({
                next: (value) => marbles.push({ at: scheduler.now(), value }),
                error: (error: unknown) => marbles.push({ at: scheduler.now(), error: String(error) }),
                complete: () => marbles.push({ at: scheduler.now(), complete: true }),
              });
              scheduler.flush();
              result = {
                marbles,
                subscriptions: sources.map((s) => s.subscriptions),
                budget: { deposits: budget.deposits, withdrawals: budget.withdrawals },
              };
            });
            return result as { marbles: unknown; subscriptions: unknown; budget: unknown };
          };
          expect(run(true)).toEqual(run(false));
        },
      ),
      { numRuns: 300 },
    );
  });
});
