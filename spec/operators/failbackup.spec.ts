import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  ConnectionClosedError,
  ConnectionError,
  ServiceError,
} from '../../lib/errors/index.js';
import { callTimeout, failbackup } from '../../lib/operators/index.js';
import { attempts, errorLike, testScheduler } from './marbles.js';

const closed = new ConnectionClosedError('gone');
const refused = new ConnectionError('refused');

describe('failbackup', () => {
  it('failbackup - a first reply before the delay sends no backup', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('--a|');
      const backup = cold('-b|');
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 5 }))).toBe('--a|');
      expectSubscriptions(first.subscriptions).toBe('^--!');
      expectSubscriptions(backup.subscriptions).toBe([]);
    });
  });

  it('failbackup - sends a backup at the delay; the backup wins and the first is cancelled then', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('----------a|');
      const backup = cold('----b|');
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 3 }))).toBe('-------b|');
      expectSubscriptions(first.subscriptions).toBe('^------!');
      expectSubscriptions(backup.subscriptions).toBe('---^----!');
    });
  });

  it('failbackup - the first still wins after the backup was sent; the backup is cancelled then', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-----a|');
      const backup = cold('------b|');
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 3 }))).toBe('-----a|');
      expectSubscriptions(first.subscriptions).toBe('^-----!');
      expectSubscriptions(backup.subscriptions).toBe('---^-!');
    });
  });

  it('failbackup - a first attempt that fails before the delay starts the backup at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-#', undefined, closed);
      const backup = cold('--b|');
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 5 }))).toBe('---b|');
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(backup.subscriptions).toBe('-^--!');
    });
  });

  it('failbackup - errors with the last error when both attempts error (first fails last)', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('------#', undefined, closed);
      const backup = cold('-#', undefined, refused);
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 2 }))).toBe(
        '------#',
        undefined,
        closed,
      );
      expectSubscriptions(first.subscriptions).toBe('^-----!');
      expectSubscriptions(backup.subscriptions).toBe('--^!');
    });
  });

  it('failbackup - errors with the last error when both attempts error (backup fails last)', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-#', undefined, closed);
      const backup = cold('---#', undefined, refused);
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 2 }))).toBe(
        '----#',
        undefined,
        refused,
      );
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(backup.subscriptions).toBe('-^--!');
    });
  });

  it('failbackup - an errored backup leaves the call to the first attempt', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('------a|');
      const backup = cold('-#', undefined, refused);
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 2 }))).toBe('------a|');
      expectSubscriptions(first.subscriptions).toBe('^------!');
      expectSubscriptions(backup.subscriptions).toBe('--^!');
    });
  });

  it.each([
    ['a ServiceError', new ServiceError('divide by zero')],
    ['a CancelledError', new CancelledError('aborted')],
  ])('failbackup - %s from the first attempt fails at once, with no backup', (_, error) => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-#', undefined, error);
      const backup = cold('-b|');
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 5 }))).toBe('-#', undefined, error);
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(backup.subscriptions).toBe([]);
    });
  });

  it('failbackup - a ServiceError after the backup was sent fails at once and cancels the backup', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const error = new ServiceError('divide by zero');
      const first = cold('----#', undefined, error);
      const backup = cold('-----b|');
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 2 }))).toBe(
        '----#',
        undefined,
        error,
      );
      expectSubscriptions(first.subscriptions).toBe('^---!');
      expectSubscriptions(backup.subscriptions).toBe('--^-!');
    });
  });

  it('failbackup - unsubscribing cancels both attempts', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('--------a|');
      const backup = cold('--------b|');
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 2 })), '^---!').toBe('-----');
      expectSubscriptions(first.subscriptions).toBe('^---!');
      expectSubscriptions(backup.subscriptions).toBe('--^-!');
    });
  });

  it('failbackup - delayMs 0 sends both attempts at once', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('---a|');
      const backup = cold('-b|');
      expectObservable(attempts(first, backup).pipe(failbackup({ delayMs: 0 }))).toBe('-b|');
      expectSubscriptions(first.subscriptions).toBe('^!');
      expectSubscriptions(backup.subscriptions).toBe('^-!');
    });
  });

  it('failbackup - with a deadline per attempt, fails with DeadlineExceededError when both time out', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const first = cold('-----------a|');
      const backup = cold('----------b|');
      const reply = attempts(first, backup).pipe(callTimeout({ timeoutMs: 4 }), failbackup({ delayMs: 2 }));
      expectObservable(reply).toBe(
        '------#',
        undefined,
        errorLike('DeadlineExceededError', { timeoutMs: 4 }),
      );
      expectSubscriptions(first.subscriptions).toBe('^---!');
      expectSubscriptions(backup.subscriptions).toBe('--^---!');
    });
  });

  it.each([
    [{}, /delayMs/],
    [{ delayMs: -1 }, /delayMs/],
    [{ delayMs: 2.5 }, /delayMs/],
    [{ delayMs: 1, shouldRetry: 'yes' }, /shouldRetry/],
    [{ delayMs: 1, scheduler: {} }, /scheduler/],
  ])('failbackup - rejects %o at creation', (options, message) => {
    expect(() => failbackup(options as never)).toThrow(RangeError);
    expect(() => failbackup(options as never)).toThrow(message);
  });
});
