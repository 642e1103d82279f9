import { catchError, finalize, map, merge, type Observable, of, switchMap, take, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { connect } from '../../lib/client/connect.js';
import type { Connection } from '../../lib/client/connection.js';
import { SerializeType } from '../../lib/codec/index.js';
import type { CallContext } from '../../lib/server/call-context.js';
import { Server } from '../../lib/server/server.js';
import type { ServerOptions } from '../../lib/server/server-options.js';
import { MemoryNetwork } from '../../lib/testing/memory-network.js';
import { silentLogger } from '../../lib/util/logger.js';

/**
 * The server's timing rules in virtual time: a server and a connection to it on the in-memory
 * network, all on one TestScheduler; no socket, no wall clock.
 */
function world(options: ServerOptions = {}) {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const network = new MemoryNetwork({ scheduler });
  const server = new Server({ logger: silentLogger, scheduler, ...options });
  const seen: string[] = [];
  server.register('Clock', {
    /** Answers after `ms`; notes when it was aborted or unsubscribed. */
    Slow: (args: { ms: number }, ctx: CallContext) => {
      ctx.signal.addEventListener('abort', () => seen.push(`aborted at ${scheduler.now()}`));
      return timer(args.ms, scheduler).pipe(
        map(() => 'done'),
        finalize(() => seen.push(`ended at ${scheduler.now()}`)),
      );
    },
    Now: () => 'now',
  });
  void server.listen('memory@clock', { transport: network });
  const connection$ = (auth?: string): Observable<Connection> =>
    connect('memory@clock', {
      transport: network,
      scheduler,
      serializeType: SerializeType.JSON,
      ...(auth === undefined ? {} : { auth }),
    });
  return { scheduler, network, server, seen, connection$ };
}

function outcome<T>(source: Observable<T>): Observable<T | string> {
  return source.pipe(catchError((error: unknown) => of((error as Error).constructor.name)));
}

describe('Server in virtual time over the in-memory network', () => {
  it('deadline - a deadline the caller tells ends the handler at that moment on the server, and the caller gets DeadlineExceededError then', () => {
    const { scheduler, seen, connection$ } = world();
    scheduler.run(({ expectObservable }) => {
      const call$ = connection$().pipe(
        switchMap((connection) => connection.call$('Clock', 'Slow', { ms: 100 }, { timeoutMs: 50 })),
        take(1),
      );
      expectObservable(outcome(call$)).toBe('50ms (x|)', { x: 'DeadlineExceededError' });
    });
    expect(seen).toEqual(['aborted at 50', 'ended at 50']);
  });

  it('cancel - a caller that unsubscribes stops the handler on the server at that moment (cancel notice)', () => {
    const { scheduler, seen, connection$ } = world();
    scheduler.run(({ expectObservable }) => {
      const call$ = connection$().pipe(
        switchMap((connection) => connection.call$('Clock', 'Slow', { ms: 100 })),
      );
      expectObservable(call$, '^ 19ms !').toBe('');
    });
    expect(seen).toEqual(['aborted at 20', 'ended at 20']);
  });

  it('idle - a connection with no call for idleTimeoutMs is closed by the server then, not before', () => {
    const { scheduler, connection$ } = world({ idleTimeoutMs: 1_000 });
    scheduler.run(({ expectObservable }) => {
      const states$ = connection$().pipe(switchMap((connection) => connection.state$));
      expectObservable(states$.pipe(catchError(() => of('dropped')))).toBe('o 999ms (cd|)', {
        o: 'open',
        c: 'closed',
        d: 'dropped',
      });
    });
  });

  it('idle - a call keeps the connection open: the idle time counts from when it ended', () => {
    const { scheduler, connection$ } = world({ idleTimeoutMs: 1_000 });
    scheduler.run(({ expectObservable }) => {
      const states$ = connection$().pipe(
        switchMap((connection) => {
          connection.call$('Clock', 'Slow', { ms: 500 }).subscribe();
          return connection.state$;
        }),
      );
      // The call ends at 500: closed at 1,500.
      expectObservable(states$.pipe(catchError(() => of('dropped')))).toBe('o 1499ms (cd|)', {
        o: 'open',
        c: 'closed',
        d: 'dropped',
      });
    });
  });

  it('auth - a connection that shows no valid token within authTimeoutMs is closed then; one that shows it stays', () => {
    const options: ServerOptions = {
      authorize: (token) => token === 'secret',
      authTimeoutMs: 300,
      idleTimeoutMs: 0,
    };
    const anonymous = world(options);
    anonymous.scheduler.run(({ expectObservable }) => {
      const states$ = anonymous.connection$().pipe(switchMap((connection) => connection.state$));
      expectObservable(states$.pipe(catchError(() => of('dropped')))).toBe('o 299ms (cd|)', {
        o: 'open',
        c: 'closed',
        d: 'dropped',
      });
    });
    const known = world(options);
    known.scheduler.run(({ expectObservable }) => {
      known.scheduler.maxFrames = 5_000;
      const states$ = known.connection$('secret').pipe(switchMap((connection) => connection.state$));
      expectObservable(states$).toBe('o', { o: 'open' });
    });
  });

  it('heartbeat - the server echoes at once: round trips of 0 virtual ms, one per interval', () => {
    const { scheduler, connection$ } = world();
    scheduler.run(({ expectObservable }) => {
      const beats$ = connection$().pipe(
        switchMap((connection) => connection.heartbeat$({ intervalMs: 100 })),
        take(3),
      );
      expectObservable(beats$).toBe('a 99ms b 99ms (c|)', { a: 0, b: 0, c: 0 });
    });
  });

  it('busy - past maxConcurrentRequests with no queue, a call is refused at once as busy; the one in flight finishes', () => {
    const { scheduler, connection$ } = world({ maxConcurrentRequests: 1, maxQueuedRequests: 0 });
    scheduler.run(({ expectObservable }) => {
      const both$ = connection$().pipe(
        switchMap((connection) =>
          // The slow call is sent first and takes the only slot; the quick one finds none.
          merge(
            connection.call$('Clock', 'Slow', { ms: 100 }),
            connection
              .call$('Clock', 'Now')
              .pipe(
                catchError((error: unknown) =>
                  of(/server busy/.test((error as Error).message) ? 'busy' : String(error)),
                ),
              ),
          ),
        ),
        take(2),
      );
      expectObservable(both$).toBe('b 99ms (d|)', { b: 'busy', d: 'done' });
    });
  });
});
