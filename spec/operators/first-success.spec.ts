import fc from 'fast-check';
import { type Observable, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { firstSuccess } from '../../lib/operators/index.js';
import { testScheduler } from './marbles.js';

describe('firstSuccess', () => {
  it('firstSuccess - mirrors the first value, then completes and unsubscribes the others', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const slow = cold('-----a|');
      const fast = cold('--b|');
      const failing = cold('-#');
      expectObservable(firstSuccess([slow, fast, failing])).toBe('--(b|)');
      expectSubscriptions(slow.subscriptions).toBe('^-!');
      expectSubscriptions(fast.subscriptions).toBe('^-!');
      expectSubscriptions(failing.subscriptions).toBe('^!');
    });
  });

  it('firstSuccess - a failure is dropped while another source may still answer', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(firstSuccess([cold('-#'), cold('---#'), cold('----c|')])).toBe('----(c|)');
    });
  });

  it('firstSuccess - fails with the error of the last to fail once every source failed', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const early = new Error('early');
      const late = new Error('late');
      expectObservable(firstSuccess([cold('---#', {}, late), cold('-#', {}, early)])).toBe(
        '---#',
        undefined,
        late,
      );
    });
  });

  it('firstSuccess - completes without a value when sources is empty or none answered and none failed', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(firstSuccess([])).toBe('|');
      expectObservable(firstSuccess([cold('-|'), cold('--|')])).toBe('--|');
      expectObservable(firstSuccess([cold('-|'), cold('--#')])).toBe('--#');
    });
  });

  it('firstSuccess - a source that answers as it is subscribed wins before the others are subscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const second = cold('-b|');
      expectObservable(firstSuccess([of('a'), second])).toBe('(a|)');
      expectSubscriptions(second.subscriptions).toBe([]);
    });
  });

  it('firstSuccess - property: the result is the earliest value, or ends with the last ending when none answers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 1, max: 9 }), answers: fc.boolean() }), {
          minLength: 1,
          maxLength: 6,
        }),
        (plans) => {
          testScheduler().run(({ cold, expectObservable }) => {
            const sources = plans.map(({ at, answers }, index) =>
              cold(`${'-'.repeat(at)}${answers ? 'v|' : '#'}`, { v: index }, new Error(`e${index}`)),
            );
            const answering = plans
              .map((plan, index) => ({ ...plan, index }))
              .filter((plan) => plan.answers)
              .sort((a, b) => a.at - b.at || a.index - b.index);
            const winner = answering[0];
            if (winner) {
              expectObservable(firstSuccess(sources)).toBe(`${'-'.repeat(winner.at)}(v|)`, {
                v: winner.index,
              });
            } else {
              const lastAt = Math.max(...plans.map((plan) => plan.at));
              const lastIndex = plans.map((plan) => plan.at).lastIndexOf(lastAt);
              expectObservable(firstSuccess(sources)).toBe(
                `${'-'.repeat(lastAt)}#`,
                undefined,
                new Error(`e${lastIndex}`),
              );
            }
          });
        },
      ),
    );
  });

  it('firstSuccess - refuses what is not an array of Observables at once, naming what it got', () => {
    expect(() => firstSuccess(of(1) as unknown as Observable<number>[])).toThrow(
      'firstSuccess takes an array of Observables, got an object',
    );
    expect(() => firstSuccess(undefined as unknown as Observable<number>[])).toThrow(TypeError);
    expect(() => firstSuccess([of(1), Promise.resolve(2) as unknown as Observable<number>])).toThrow(
      'firstSuccess takes an array of Observables; sources[1] is an object',
    );
    expect(() => firstSuccess([of(1), 'x' as unknown as Observable<number>])).toThrow('sources[1] is "x"');
  });
});
