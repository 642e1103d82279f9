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

function missError(misses: number, intervalMs: number, timeoutMs: number): ConnectionError {
  return new ConnectionError(
    `no heartbeat echo for ${misses} consecutive pings (interval ${intervalMs} ms, timeout ${timeoutMs} ms)`,
    { details: { misses, intervalMs, timeoutMs } },
  );
}

describe('heartbeat', () => {
  it('heartbeat - pings at once, then every interval, each ping window ending at its echo', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const ping = cold('-e|');
      const beats = heartbeat(() => ping, 10, { scheduler }).pipe(take(3));
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
      const beats = heartbeat(pingsInTurn(fast, slow, medium), 10, { scheduler }).pipe(take(3));
      expectObservable(beats).toBe('-a 12ms b 7ms (c|)', { a: 1, b: 4, c: 2 });
      expectSubscriptions(fast.subscriptions).toBe('^!');
      expectSubscriptions(slow.subscriptions).toBe('10ms ^---!');
      expectSubscriptions(medium.subscriptions).toBe('20ms ^-!');
    });
  });

  it('heartbeat - a ping without an echo within timeoutMs is a miss, and its late echo is ignored', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const late = cold('-------e|');
      const prompt = cold('-e|');
      const beats = heartbeat(pingsInTurn(late, prompt), 10, { timeoutMs: 5, scheduler }).pipe(take(1));
      // The first ping is dropped at 5 ms (a miss, nothing emitted); the second echoes at 11 ms.
      expectObservable(beats).toBe('11ms (a|)', { a: 1 });
      expectSubscriptions(late.subscriptions).toBe('^ 4ms !');
      expectSubscriptions(prompt.subscriptions).toBe('10ms ^!');
    });
  });

  it('heartbeat - maxMisses consecutive misses error with a ConnectionError that says why', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const silent = cold('-');
      const beats = heartbeat(() => silent, 10, { maxMisses: 3, scheduler });
      // timeoutMs defaults to the interval: misses at 10, 20 and 30 ms.
      expectObservable(beats).toBe('30ms #', undefined, missError(3, 10, 10));
      expectSubscriptions(silent.subscriptions).toBe(['^ 9ms !', '10ms ^ 9ms !', '20ms ^ 9ms !']);
    });
  });

  it('heartbeat - maxMisses defaults to 3 and timeoutMs may be shorter than the interval', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const beats = heartbeat(() => NEVER, 10, { timeoutMs: 4, scheduler });
      expectObservable(beats).toBe('24ms #', undefined, missError(3, 10, 4));
    });
  });

  it('heartbeat - maxMisses 1 errors at the first miss', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const beats = heartbeat(() => NEVER, 10, { maxMisses: 1, timeoutMs: 3, scheduler });
      expectObservable(beats).toBe('3ms #', undefined, missError(1, 10, 3));
    });
  });

  it('heartbeat - an echo resets the miss count (miss, echo, miss, miss with maxMisses 3 goes on)', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const silent = cold('-');
      const echo = cold('-e|');
      const beats = heartbeat(pingsInTurn(silent, echo, silent, silent, echo), 10, {
        maxMisses: 3,
        timeoutMs: 5,
        scheduler,
      }).pipe(take(2));
      // Misses at 5, 25 and 35 ms: never three in a row, so the echo at 41 ms still comes.
      expectObservable(beats).toBe('11ms a 29ms (b|)', { a: 1, b: 1 });
    });
  });

  it('heartbeat - without the echo in between, the same misses error', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const silent = cold('-');
      const beats = heartbeat(() => silent, 10, { maxMisses: 3, timeoutMs: 5, scheduler });
      expectObservable(beats).toBe('25ms #', undefined, missError(3, 10, 5));
    });
  });

  it('heartbeat - a ping that errors (connection closed) is passed on at once', () => {
    const scheduler = testScheduler();
    const closed = new ConnectionClosedError('connection to tcp@127.0.0.1:1 closed: the server closed it');
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const ok = cold('-e|');
      const failing = cold('--#', undefined, closed);
      const beats = heartbeat(pingsInTurn(ok, failing), 10, { maxMisses: 5, scheduler });
      expectObservable(beats).toBe('-a 10ms #', { a: 1 }, closed);
      expectSubscriptions(failing.subscriptions).toBe('10ms ^-!');
    });
  });

  it('heartbeat - unsubscribing stops pinging and drops the ping in flight', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const ping = cold('----e|');
      const beats = heartbeat(() => ping, 10, { scheduler });
      expectObservable(beats, '^ 11ms !').toBe('----a', { a: 4 });
      // No ping at 20 ms: the second one, in flight at 12 ms, is unsubscribed there.
      expectSubscriptions(ping.subscriptions).toBe(['^---!', '10ms ^-!']);
    });
  });

  it('heartbeat - is cold: nothing is pinged until subscribed, and each subscription counts misses anew', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const silent = cold('-');
      const beats = heartbeat(() => silent, 10, { maxMisses: 2, timeoutMs: 5, scheduler });
      expectObservable(beats, '5ms ^').toBe('5ms 15ms #', undefined, missError(2, 10, 5));
      expectObservable(beats, '12ms ^').toBe('12ms 15ms #', undefined, missError(2, 10, 5));
      expectSubscriptions(silent.subscriptions).toBe([
        '5ms ^ 4ms !',
        '12ms ^ 4ms !',
        '15ms ^ 4ms !',
        '22ms ^ 4ms !',
      ]);
    });
  });

  it('heartbeat - an echo that arrives at once gives a round-trip time of 0', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      expectObservable(heartbeat(() => of('echo'), 10, { scheduler }).pipe(take(2))).toBe('a 9ms (b|)', {
        a: 0,
        b: 0,
      });
    });
  });

  describe('bad options throw a RangeError naming the option at creation', () => {
    const ping = (): Observable<unknown> => NEVER;

    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number])(
      'heartbeat - intervalMs %s',
      (intervalMs) => {
        expect(() => heartbeat(ping, intervalMs)).toThrow(RangeError);
        expect(() => heartbeat(ping, intervalMs)).toThrow(/intervalMs/);
      },
    );

    it.each([0, -1, 2.5])('heartbeat - maxMisses %s', (maxMisses) => {
      expect(() => heartbeat(ping, 10, { maxMisses })).toThrow(RangeError);
      expect(() => heartbeat(ping, 10, { maxMisses })).toThrow(/maxMisses/);
    });

    it.each([0, -5, 0.5])('heartbeat - timeoutMs %s', (timeoutMs) => {
      expect(() => heartbeat(ping, 10, { timeoutMs })).toThrow(RangeError);
      expect(() => heartbeat(ping, 10, { timeoutMs })).toThrow(/timeoutMs/);
    });

    it.each([undefined, null, 'ping', NEVER])('heartbeat - ping %s is not a function', (notAFunction) => {
      const create = () => heartbeat(notAFunction as unknown as () => Observable<unknown>, 10);
      expect(create).toThrow(RangeError);
      expect(create).toThrow(/ping must be a function/);
    });

    it('heartbeat - options that are not an object throw a TypeError', () => {
      expect(() => heartbeat(ping, 10, 5 as never)).toThrow(TypeError);
      expect(() => heartbeat(ping, 10, 5 as never)).toThrow(/heartbeat options/);
    });
  });
});
