import { NEVER, type Observable, of, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { heartbeat } from '../../lib/client/heartbeat.js';
import { ConnectionClosedError, ConnectionError } from '../../lib/errors/index.js';

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A ping function that returns the given observables in turn (the last one from then on). */
function pingsInTurn(...pings: Observable<unknown>[]): () => Observable<unknown> {
  let next = 0;
  return () => {
    const ping = pings[Math.min(next, pings.length - 1)] as Observable<unknown>;
    next += 1;
    return ping;
  };
}

function silenceError(maxMisses: number, intervalMs: number): ConnectionError {
  const silenceMs = maxMisses * intervalMs;
  return new ConnectionError(
    `no heartbeat echo for ${silenceMs} ms (${maxMisses} intervals of ${intervalMs} ms)`,
    {
      details: { maxMisses, intervalMs, silenceMs },
    },
  );
}

describe('heartbeat', () => {
  it('heartbeat - pings at once, then every interval, each ping window ending at its echo', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const ping = cold('-e|');
      const beats = heartbeat(() => ping, { intervalMs: 10, scheduler }).pipe(take(3));
      expectObservable(beats).toBe('-a 9ms b 9ms (c|)', { a: 1, b: 1, c: 1 });
      expectSubscriptions(ping.subscriptions).toBe(['^!', '10ms ^!', '20ms ^!']);
    });
  });

  it('heartbeat - emits the round-trip time measured on the scheduler clock', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const fast = cold('-e|');
      const slow = cold('----e|');
      const medium = cold('--e|');
      const beats = heartbeat(pingsInTurn(fast, slow, medium), { intervalMs: 10, scheduler }).pipe(take(3));
      expectObservable(beats).toBe('-a 12ms b 7ms (c|)', { a: 1, b: 4, c: 2 });
      expectSubscriptions(fast.subscriptions).toBe('^!');
      expectSubscriptions(slow.subscriptions).toBe('10ms ^---!');
      expectSubscriptions(medium.subscriptions).toBe('20ms ^-!');
    });
  });

  it('heartbeat - without any echo it errors maxMisses intervals after subscription', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const silent = cold('-');
      const beats = heartbeat(() => silent, { intervalMs: 10, maxMisses: 3, scheduler });
      expectObservable(beats).toBe('30ms #', undefined, silenceError(3, 10));
      // Pings at 0, 10 and 20 ms, all dropped when the heartbeat errors at 30 ms.
      expectSubscriptions(silent.subscriptions).toBe(['^ 29ms !', '10ms ^ 19ms !', '20ms ^ 9ms !']);
    });
  });

  it('heartbeat - an echo resets the silence: the error comes maxMisses intervals after the last echo', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const echo = cold('-e|');
      const silent = cold('-');
      // Echo at 1 ms, then silence: dead at 1 + 30 = 31 ms.
      const beats = heartbeat(pingsInTurn(echo, silent), { intervalMs: 10, maxMisses: 3, scheduler });
      expectObservable(beats).toBe('-a 29ms #', { a: 1 }, silenceError(3, 10));
    });
  });

  it('heartbeat - a slow echo still counts as a sign of life', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // Each echo takes 25 ms, longer than the interval but shorter than the 30 ms of silence.
      const slow = cold('25ms e|');
      const beats = heartbeat(() => slow, { intervalMs: 10, maxMisses: 3, scheduler }).pipe(take(3));
      expectObservable(beats).toBe('25ms a 9ms b 9ms (c|)', { a: 25, b: 25, c: 25 });
    });
  });

  it('heartbeat - maxMisses defaults to 3', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const beats = heartbeat(() => cold('-'), { intervalMs: 5, scheduler });
      expectObservable(beats).toBe('15ms #', undefined, silenceError(3, 5));
    });
  });

  it('heartbeat - maxMisses 1 errors one interval after the last echo', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const beats = heartbeat(pingsInTurn(cold('e|'), cold('-')), {
        intervalMs: 10,
        maxMisses: 1,
        scheduler,
      });
      expectObservable(beats).toBe('a 9ms #', { a: 0 }, silenceError(1, 10));
    });
  });

  it('heartbeat - a ping that errors (connection closed) is passed on at once', () => {
    const scheduler = testScheduler();
    const closed = new ConnectionClosedError('connection to tcp@127.0.0.1:1 closed: the server closed it');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const ok = cold('-e|');
      const failing = cold('--#', undefined, closed);
      const beats = heartbeat(pingsInTurn(ok, failing), { intervalMs: 10, maxMisses: 5, scheduler });
      expectObservable(beats).toBe('-a 10ms #', { a: 1 }, closed);
      expectSubscriptions(failing.subscriptions).toBe('10ms ^-!');
    });
  });

  it('heartbeat - unsubscribing stops pinging and drops the ping in flight', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const ping = cold('----e|');
      const beats = heartbeat(() => ping, { intervalMs: 10, scheduler });
      expectObservable(beats, '^ 11ms !').toBe('----a', { a: 4 });
      // No ping at 20 ms: the second one, in flight at 12 ms, is unsubscribed there.
      expectSubscriptions(ping.subscriptions).toBe(['^---!', '10ms ^-!']);
    });
  });

  it('heartbeat - is cold: nothing is pinged until subscribed, and each subscription times its silence anew', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const silent = cold('-');
      const beats = heartbeat(() => silent, { intervalMs: 10, maxMisses: 2, scheduler });
      expectObservable(beats, '5ms ^').toBe('5ms 20ms #', undefined, silenceError(2, 10));
      expectObservable(beats, '12ms ^').toBe('12ms 20ms #', undefined, silenceError(2, 10));
      expectSubscriptions(silent.subscriptions).toBe([
        '5ms ^ 19ms !',
        '12ms ^ 19ms !',
        '15ms ^ 9ms !',
        '22ms ^ 9ms !',
      ]);
    });
  });

  it('heartbeat - an echo that arrives at once gives a round-trip time of 0', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      expectObservable(heartbeat(() => of('echo'), { intervalMs: 10, scheduler }).pipe(take(2))).toBe(
        'a 9ms (b|)',
        {
          a: 0,
          b: 0,
        },
      );
    });
  });

  describe('bad options throw a RangeError naming the option at creation', () => {
    const ping = (): Observable<unknown> => NEVER;

    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number])(
      'heartbeat - intervalMs %s',
      (intervalMs) => {
        expect(() => heartbeat(ping, { intervalMs })).toThrow(RangeError);
        expect(() => heartbeat(ping, { intervalMs })).toThrow(/intervalMs/);
      },
    );

    it.each([0, -1, 2.5])('heartbeat - maxMisses %s', (maxMisses) => {
      expect(() => heartbeat(ping, { intervalMs: 10, maxMisses })).toThrow(RangeError);
      expect(() => heartbeat(ping, { intervalMs: 10, maxMisses })).toThrow(/maxMisses/);
    });

    it.each([undefined, null, 'ping', NEVER])('heartbeat - ping %s is not a function', (notAFunction) => {
      const create = () =>
        heartbeat(notAFunction as unknown as () => Observable<unknown>, { intervalMs: 10 });
      expect(create).toThrow(RangeError);
      expect(create).toThrow(/ping must be a function/);
    });

    it('heartbeat - options that are not an object throw a TypeError', () => {
      expect(() => heartbeat(ping, 5 as never)).toThrow(TypeError);
      expect(() => heartbeat(ping, 5 as never)).toThrow(/heartbeat options/);
    });
  });
});
