import {
  catchError,
  concat,
  defer,
  distinctUntilChanged,
  filter,
  map,
  type Observable,
  of,
  switchMap,
  take,
  timer,
  toArray,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { XClient } from '../../lib/client/xclient.js';
import type { XClientOptions } from '../../lib/client/xclient-options.js';
import { SerializeType } from '../../lib/codec/index.js';
import { multipleServersDiscovery } from '../../lib/discovery/multiple-servers-discovery.js';
import { retryBudget } from '../../lib/operators/retry-budget.js';
import { Server } from '../../lib/server/server.js';
import { MemoryNetwork } from '../../lib/testing/memory-network.js';
import { silentLogger } from '../../lib/util/logger.js';

/**
 * XClient governance over the in-memory network, in virtual time: servers, connections, frames,
 * deadlines, breakers and heartbeats all run on one TestScheduler, so every timing rule is
 * asserted exactly (in virtual milliseconds), with no socket and no wall-clock wait.
 */

/** A service that names the server it runs on. */
function echo(name: string, scheduler: TestScheduler) {
  return {
    Who: () => name,
    Slow: (args: { ms: number }) => timer(args.ms, scheduler).pipe(map(() => name)),
    Fail: () => {
      throw new Error(`${name} failed`);
    },
  };
}

/** Servers `names` on a memory network, and an XClient of them; everything on one TestScheduler. */
function world(names: readonly string[], options: Omit<XClientOptions, 'discovery'> = {}) {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const network = new MemoryNetwork({ scheduler });
  const servers = names.map((name) => {
    const server = new Server({ logger: silentLogger, scheduler });
    server.register('Echo', echo(name, scheduler));
    void server.listen(`memory@${name}`, { transport: network });
    return server;
  });
  const discovery = multipleServersDiscovery(names.map((name) => ({ address: `memory@${name}` })));
  const client = new XClient('Echo', {
    discovery,
    transport: network,
    scheduler,
    serializeType: SerializeType.JSON,
    selectMode: 'roundRobin',
    ...options,
  });
  return { scheduler, network, servers, discovery, client };
}

/** The class name of what `source` fails with, as a value (marble errors compare poorly). */
function failure<T>(source: Observable<T>): Observable<T | string> {
  return source.pipe(catchError((error: unknown) => of(`${(error as Error).constructor.name}`)));
}

/** `count` calls of `method` one after another, each reply (or error class) a value. */
function inTurn(client: XClient, count: number, method = 'Who', args: unknown = {}): Observable<unknown> {
  return concat(...Array.from({ length: count }, () => failure(defer(() => client.call$(method, args)))));
}

describe('XClient in virtual time over the in-memory network', () => {
  it('roundRobin - successive calls go to each server in turn, all at time 0', () => {
    const { scheduler, client } = world(['a', 'b', 'c']);
    scheduler.run(({ expectObservable }) => {
      expectObservable(inTurn(client, 4)).toBe('(abca|)', { a: 'a', b: 'b', c: 'c' });
    });
  });

  it('failover - a call to a server that is gone is retried at once on the next, and answered', () => {
    const { scheduler, network, client } = world(['a', 'b'], { failMode: 'failover' });
    network.crash('memory@a');
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      expectObservable(failure(client.call$('Who'))).toBe('(b|)', { b: 'b' });
    });
  });

  it('failover - with a backoff, the retry waits it out: the reply comes after the backoff', () => {
    const { scheduler, network, client } = world(['a', 'b'], { failMode: 'failover', backoff: () => 40 });
    network.crash('memory@a');
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      expectObservable(failure(client.call$('Who'))).toBe('40ms (b|)', { b: 'b' });
    });
  });

  it('failfast - a call to a server that is gone fails at once with ConnectionError, with no retry', () => {
    const { scheduler, network, client } = world(['a', 'b'], { failMode: 'failfast' });
    network.crash('memory@a');
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      expectObservable(failure(client.call$('Who'))).toBe('(x|)', { x: 'ConnectionError' });
    });
  });

  it('failtry - retries the same server, then fails with what it failed with, naming every attempt', () => {
    const { scheduler, network, client } = world(['a', 'b'], {
      failMode: 'failtry',
      retries: 2,
      backoff: () => 10,
    });
    network.crash('memory@a');
    let attempts: unknown;
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      const call$ = client.call$('Who').pipe(
        catchError((error: { constructor: { name: string }; details: { attempts?: unknown[] } }) => {
          attempts = error.details.attempts;
          return of(error.constructor.name);
        }),
      );
      // Two retries, each after its 10 ms backoff, all on a; never on b.
      expectObservable(call$).toBe('20ms (x|)', { x: 'ConnectionError' });
    });
    expect(attempts).toHaveLength(3);
    expect((attempts as { address: string }[]).map((attempt) => attempt.address)).toEqual([
      'memory@a',
      'memory@a',
      'memory@a',
    ]);
  });

  it('failbackup - when the first server says nothing for backupDelayMs, a backup to another answers', () => {
    const { scheduler, network, client } = world(['a', 'b'], { failMode: 'failbackup', backupDelayMs: 10 });
    network.stall('memory@a');
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      expectObservable(failure(client.call$('Who'))).toBe('10ms (b|)', { b: 'b' });
    });
  });

  it('failbackup - a first server that answers within backupDelayMs is the only one called', () => {
    const { scheduler, client } = world(['a', 'b'], { failMode: 'failbackup', backupDelayMs: 10 });
    scheduler.run(({ expectObservable }) => {
      expectObservable(failure(client.call$('Slow', { ms: 9 }))).toBe('9ms (a|)', { a: 'a' });
    });
  });

  it('deadline - a call slower than its timeoutMs fails with DeadlineExceededError at the deadline, not before', () => {
    const { scheduler, client } = world(['a'], { failMode: 'failfast' });
    scheduler.run(({ expectObservable }) => {
      expectObservable(failure(client.call$('Slow', { ms: 100 }, { timeoutMs: 50 }))).toBe('50ms (x|)', {
        x: 'DeadlineExceededError',
      });
    });
  });

  it('deadline - the deadline covers every attempt together: retries stop when it passes', () => {
    const { scheduler, network, client } = world(['a', 'b'], {
      failMode: 'failover',
      retries: 5,
      timeoutMs: 30,
    });
    network.stall('memory@a');
    network.stall('memory@b');
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      expectObservable(failure(client.call$('Who'))).toBe('30ms (x|)', { x: 'DeadlineExceededError' });
    });
  });

  it('breaker - consecutive failures open a server breaker, and calls then skip that server', () => {
    const { scheduler, network, client } = world(['a', 'b'], {
      failMode: 'failfast',
      timeoutMs: 10,
      breaker: { kind: 'consecutive', failureThreshold: 1, openMs: 1_000 },
    });
    network.stall('memory@a');
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 500;
      const transitions$ = client.events$.pipe(
        filter((event) => event.type === 'breaker'),
        map((event) => (event.type === 'breaker' ? `${event.instance} ${event.from}>${event.to}` : '')),
      );
      expectObservable(transitions$).toBe('20ms o', { o: 'memory@a closed>open' });
      // a (times out at 10), b, a (times out at 20: a second failure, more than the threshold of
      // 1, opens it), then b, b:
      // roundRobin would pick a for the fifth call, but its breaker is open.
      expectObservable(inTurn(client, 5)).toBe('10ms (xb) 6ms (xbb|)', {
        x: 'DeadlineExceededError',
        b: 'b',
      });
    });
    expect(client.instanceStates().map((state) => [state.key, state.breaker, state.usable])).toEqual([
      ['memory@a', 'open', false],
      ['memory@b', 'closed', true],
    ]);
  });

  it('discovery - a server discovery drops is called no more, from the next call on', () => {
    const { scheduler, discovery, client } = world(['a', 'b']);
    scheduler.run(({ expectObservable }) => {
      scheduler.schedule(() => discovery.update([{ address: 'memory@b' }]), 10);
      const calls$ = concat(
        failure(client.call$('Who')),
        timer(20, scheduler).pipe(switchMap(() => inTurn(client, 2))),
      );
      expectObservable(calls$).toBe('a 19ms (bb|)', { a: 'a', b: 'b' });
    });
    expect(client.instanceStates().map((state) => state.key)).toEqual(['memory@b']);
  });

  it('heartbeat - a server silent for intervalMs * maxMisses after its last echo is left for the others', () => {
    const { scheduler, network, client } = world(['a', 'b'], {
      failMode: 'failfast',
      heartbeat: { intervalMs: 100, maxMisses: 2 },
    });
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 2_000;
      // A call opens the connection to a (heartbeats at 0, 100, 200...); a goes silent at 150.
      client.call$('Who').subscribe();
      scheduler.schedule(() => network.stall('memory@a'), 150);
      const usable$ = timer(25, 50, scheduler).pipe(
        take(8),
        map(() => client.instanceStates().find((state) => state.key === 'memory@a')?.usable),
        distinctUntilChanged(),
      );
      // Last echo at 100: declared dead at 100 + 2 * 100 = 300 (seen by the sample at 325).
      expectObservable(usable$).toBe('25ms t 299ms f 49ms |', { t: true, f: false });
      // From then on every call goes to b.
      expectObservable(timer(400, scheduler).pipe(switchMap(() => inTurn(client, 3)))).toBe('400ms (bbb|)', {
        b: 'b',
      });
    });
  });

  it('retry budget - a retry the budget refuses is not made: the call fails with its first error, and events$ says why', () => {
    const { scheduler, network, client } = world(['a', 'b'], {
      failMode: 'failover',
      retryBudget: retryBudget({ ratio: 0, minRetriesPerSecond: 0 }),
    });
    network.crash('memory@a');
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      const exhausted$ = client.events$.pipe(
        filter((event) => event.type === 'retry-budget-exhausted'),
        map(() => 'e'),
      );
      expectObservable(exhausted$).toBe('e');
      expectObservable(failure(client.call$('Who'))).toBe('(x|)', { x: 'ConnectionError' });
    });
  });

  it('consistentHash - calls with the same first argument go to the same server', () => {
    const { scheduler, client } = world(['a', 'b', 'c'], { selectMode: 'consistentHash' });
    scheduler.run(({ expectObservable }) => {
      const same$ = concat(
        ...Array.from({ length: 6 }, () => failure(defer(() => client.call$('Who', { key: 'user-42' })))),
      ).pipe(
        distinctUntilChanged(),
        toArray(),
        map((servers) => servers.length),
      );
      expectObservable(same$).toBe('(n|)', { n: 1 });
    });
  });

  it('random - the random select mode draws from the injected source, so a test can pin its picks', () => {
    const first = world(['a', 'b', 'c'], { selectMode: 'random', random: () => 0 });
    first.scheduler.run(({ expectObservable }) => {
      expectObservable(inTurn(first.client, 3)).toBe('(aaa|)', { a: 'a' });
    });
    const last = world(['a', 'b', 'c'], { selectMode: 'random', random: () => 0.999 });
    last.scheduler.run(({ expectObservable }) => {
      expectObservable(inTurn(last.client, 3)).toBe('(ccc|)', { c: 'c' });
    });
  });

  it('random - a random source that is not a function is refused at construction', () => {
    expect(() => world(['a'], { random: 0.5 as never })).toThrow(/random/);
  });
});
