import {
  BehaviorSubject,
  catchError,
  concat,
  dematerialize,
  finalize,
  firstValueFrom,
  interval,
  lastValueFrom,
  map,
  materialize,
  NEVER,
  type Observable,
  of,
  range,
  Subject,
  switchMap,
  take,
  throwError,
  timer,
  toArray,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../lib/client/client.js';
import { connect } from '../../lib/client/connect.js';
import type { Connection, StreamOptions } from '../../lib/client/connection.js';
import { SerializeType } from '../../lib/codec/index.js';
import { ConnectionClosedError, ResourceExhaustedError, ServiceError } from '../../lib/errors/index.js';
import { MAX_STREAM_CREDIT } from '../../lib/protocol/constants.js';
import type { CallContext } from '../../lib/server/call-context.js';
import { Server } from '../../lib/server/server.js';
import type { ServerEvent } from '../../lib/server/server-event.js';
import type { ServerOptions } from '../../lib/server/server-options.js';
import { MemoryNetwork } from '../../lib/testing/memory-network.js';
import { silentLogger } from '../../lib/util/logger.js';
import { type Deferred, deferred } from '../support/deferred.js';

/**
 * Streams end to end over the in-memory network: a server of ours and a client, frames encoded
 * and decoded as on a socket. In virtual time (TestScheduler) for every timing rule; on the
 * network's default scheduler for handlers that are async generators (promises settle outside
 * virtual time).
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What the streaming handlers of one world did, on the server. */
interface Probe {
  produced: number;
  aborted: number;
  finalized: number;
  /** Resolves when a handler's source was stopped (an Observable's finalize, a generator's finally). */
  readonly stopped: Deferred<void>;
}

let worlds = 0;

/** A server streaming `Ticker` methods on a memory network (default scheduler), and a client. */
async function world(options: ServerOptions = {}) {
  const network = new MemoryNetwork();
  const server = new Server({ logger: silentLogger, ...options });
  const events: ServerEvent[] = [];
  const subscription = server.events$.subscribe((event) => events.push(event));
  const probe: Probe = { produced: 0, aborted: 0, finalized: 0, stopped: deferred() };
  const watch = (ctx: CallContext): void =>
    ctx.signal.addEventListener('abort', () => {
      probe.aborted++;
    });
  const stopped = (): void => {
    probe.finalized++;
    probe.stopped.resolve();
  };
  server.register('Ticker', {
    range: (n: number) => range(0, n),
    async *count(n: number | null, ctx: CallContext) {
      watch(ctx);
      try {
        for (let i = 0; n === null || i < n; i++) {
          probe.produced++;
          yield i;
        }
      } finally {
        stopped();
      }
    },
    one: () => 5,
    failAfter: (n: number) =>
      concat(
        range(0, n),
        throwError(() => new Error('boom after the values')),
      ),
    /** One value, then nothing: stays open until cancelled. */
    hang: (_args: unknown, ctx: CallContext) => {
      watch(ctx);
      return concat(of('first'), NEVER).pipe(finalize(stopped));
    },
    echo: (value: unknown) => value,
  });
  const name = `memory@streams-${++worlds}`;
  await server.listen(name, { transport: network });
  const client = new Client(name, { transport: network, serializeType: SerializeType.JSON });
  cleanups.push(async () => {
    await client.close();
    await server.shutdown({ graceMs: 0 });
    subscription.unsubscribe();
  });
  const calls = () => ({
    started: events.filter((event) => event.type === 'call-started').length,
    finished: events.filter((event) => event.type === 'call-finished'),
  });
  return { network, name, server, client, probe, events, calls };
}

/** A world's connection, opened for the test and closed after it. */
function openConnection(network: MemoryNetwork, name: string): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const subscription = connect(name, { transport: network, serializeType: SerializeType.JSON }).subscribe({
      next: resolve,
      error: reject,
    });
    cleanups.push(() => subscription.unsubscribe());
  });
}

/** What `source` emitted and how it ended. */
async function outcome<T>(source: Observable<T>): Promise<{ values: T[]; error?: unknown }> {
  const values: T[] = [];
  try {
    await lastValueFrom(source.pipe(materialize(), toArray())).then((notifications) => {
      for (const n of notifications) {
        if (n.kind === 'N') values.push(n.value as T);
        if (n.kind === 'E') throw n.error;
      }
    });
  } catch (error) {
    return { values, error };
  }
  return { values };
}

/** The error a stream fails with at once, for bad options. */
function errorOf(source: Observable<unknown>): unknown {
  let caught: unknown;
  source.subscribe({ error: (error: unknown) => (caught = error) }).unsubscribe();
  return caught;
}

describe('streams over the in-memory network', () => {
  it('stream$ - emits every value of an Observable handler, in order, then completes', async () => {
    const { client } = await world();
    const values = await lastValueFrom(
      client.stream$<number>('Ticker', 'range', 300, { window: 8 }).pipe(toArray()),
    );
    expect(values).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('stream$ - emits every value of an async generator handler, in order, then completes', async () => {
    const { client, probe } = await world();
    const values = await lastValueFrom(
      client.stream$<number>('Ticker', 'count', 200, { window: 4 }).pipe(toArray()),
    );
    expect(values).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(probe.produced).toBe(200);
    expect(probe.finalized).toBe(1);
  });

  it('stream$ - a handler that returns one value gives one value, then completion', async () => {
    const { client } = await world();
    expect(await lastValueFrom(client.stream$('Ticker', 'one').pipe(toArray()))).toEqual([5]);
  });

  it('streamWithMetadata$ - each value comes with its frame metadata, marked next', async () => {
    const { network, name } = await world();
    const connection = await openConnection(network, name);
    const replies = await lastValueFrom(
      connection.streamWithMetadata$<number>('Ticker', 'range', 2).pipe(toArray()),
    );
    expect(replies.map((reply) => [reply.data, reply.metadata.get('__phobos_stream')])).toEqual([
      [0, 'next'],
      [1, 'next'],
    ]);
  });

  it('stream$ - a handler that fails after some values: the values, then a ServiceError', async () => {
    const { client } = await world();
    const { values, error } = await outcome(client.stream$('Ticker', 'failAfter', 3, { window: 2 }));
    expect(values).toEqual([0, 1, 2]);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as Error).message).toMatch(/boom after the values/);
  });

  it('stream$ - past maxStreamBacklog the stream fails with ResourceExhaustedError, after the values it was granted', async () => {
    const { client, calls } = await world({ maxStreamBacklog: 4 });
    const { values, error } = await outcome(client.stream$('Ticker', 'range', 100, { window: 2 }));
    expect(values).toEqual([0, 1]);
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect((error as Error).message).toMatch(/maxStreamBacklog/);
    expect(calls().finished.map((event) => (event.type === 'call-finished' ? event.code : ''))).toEqual([
      'RESOURCE_EXHAUSTED',
    ]);
    // The connection goes on.
    expect(await client.call('Ticker', 'echo', 'still here')).toBe('still here');
  });

  it('stream$ - unsubscribing cancels the stream on the server: ctx.signal aborted, the Observable finalized', async () => {
    const { client, probe, calls } = await world();
    expect(await firstValueFrom(client.stream$('Ticker', 'hang'))).toBe('first');
    await probe.stopped.promise;
    expect(probe.aborted).toBe(1);
    expect(probe.finalized).toBe(1);
    expect(calls().finished.map((event) => (event.type === 'call-finished' ? event.code : ''))).toEqual([
      'CANCELLED',
    ]);
  });

  it('stream$ - credit granted while the call waits for authorize is kept for its stream', async () => {
    const allow = deferred<boolean>();
    const { network, name } = await world({ authorize: () => allow.promise });
    const connection = await openConnection(network, name);
    const demand = new Subject<number>();
    const values: number[] = [];
    const three = deferred();
    const subscription = connection
      .stream$<number>('Ticker', 'count', null, { demand })
      .subscribe((value) => {
        values.push(value);
        if (values.length === 3) three.resolve();
      });
    cleanups.push(() => subscription.unsubscribe());
    // No first credit: the grant goes as a notice, while the server still waits for authorize.
    demand.next(3);
    // A heartbeat is answered during the wait, after the notice was read: it has arrived.
    await firstValueFrom(connection.ping$());
    allow.resolve(true);
    await three.promise;
    expect(values).toEqual([0, 1, 2]);
  });

  it('stream$ - with demand, the server produces no more than the demand asked for, and one value ahead', async () => {
    const { network, name, probe } = await world();
    const connection = await openConnection(network, name);
    const demand = new BehaviorSubject(2);
    const values: number[] = [];
    const two = deferred();
    const five = deferred();
    const subscription = connection
      .stream$<number>('Ticker', 'count', null, { demand })
      .subscribe((value) => {
        values.push(value);
        if (values.length === 2) two.resolve();
        if (values.length === 5) five.resolve();
      });
    cleanups.push(() => subscription.unsubscribe());
    await two.promise;
    // A round trip on the same connection: anything the server produced meanwhile would show.
    expect(await firstValueFrom(connection.call$('Ticker', 'echo', 'ping'))).toBe('ping');
    // Two values sent, and one made ahead, held for the next grant.
    expect(probe.produced).toBe(3);
    expect(values).toEqual([0, 1]);
    demand.next(3);
    await five.promise;
    expect(await firstValueFrom(connection.call$('Ticker', 'echo', 'ping'))).toBe('ping');
    expect(probe.produced).toBe(6);
    expect(values).toEqual([0, 1, 2, 3, 4]);
    subscription.unsubscribe();
    await probe.stopped.promise;
    expect(probe.produced).toBe(6);
  });

  it('stream$ - a demand value that is not a positive integer fails the stream with a RangeError and cancels it', async () => {
    const { network, name, probe } = await world();
    const connection = await openConnection(network, name);
    const demand = new Subject<number>();
    const failed = deferred<unknown>();
    const values: number[] = [];
    connection
      .stream$<number>('Ticker', 'count', null, { demand })
      .subscribe({ next: (value) => values.push(value), error: failed.resolve });
    demand.next(1);
    demand.next(0.5);
    expect(await failed.promise).toBeInstanceOf(RangeError);
    await probe.stopped.promise;
    expect(probe.produced).toBeLessThanOrEqual(1);
  });

  it('Client.stream - a for-await loop reads every value; break cancels the stream on the server', async () => {
    const { client, probe, calls } = await world();
    const all: number[] = [];
    for await (const value of client.stream<number>('Ticker', 'count', 50, { window: 4 })) all.push(value);
    expect(all).toEqual(Array.from({ length: 50 }, (_, i) => i));

    const { probe: second, client: other, calls: otherCalls } = await world();
    const read: number[] = [];
    for await (const value of other.stream<number>('Ticker', 'count', null, { window: 4 })) {
      read.push(value);
      if (value === 9) break;
    }
    expect(read).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await second.stopped.promise;
    expect(second.aborted).toBe(1);
    // Never more than a window ahead of what was read.
    expect(second.produced).toBeLessThanOrEqual(10 + 4);
    expect(otherCalls().finished.map((event) => (event.type === 'call-finished' ? event.code : ''))).toEqual([
      'CANCELLED',
    ]);
    expect(probe.aborted).toBe(0);
    expect(calls().finished).toHaveLength(1);
  });

  it('Client.stream - bad options reject the first next(), never throw', async () => {
    const { client } = await world();
    const iterator = client.stream('Ticker', 'count', 3, { window: 0 });
    await expect(iterator.next()).rejects.toBeInstanceOf(RangeError);
    const withDemand = client.stream('Ticker', 'count', 3, { demand: of(1) });
    await expect(withDemand.next()).rejects.toBeInstanceOf(TypeError);
  });

  it('stream$ - bad options are error notifications: oneway, window out of range, window with demand, a demand that is no Observable', async () => {
    const { network, name } = await world();
    const connection = await openConnection(network, name);
    const stream = (options: StreamOptions | Record<string, unknown>) =>
      errorOf(connection.stream$('Ticker', 'count', 3, options as StreamOptions));
    expect(stream({ oneway: true })).toBeInstanceOf(TypeError);
    expect(stream({ window: 0 })).toBeInstanceOf(RangeError);
    expect(stream({ window: 1.5 })).toBeInstanceOf(RangeError);
    expect(stream({ window: MAX_STREAM_CREDIT + 1 })).toBeInstanceOf(RangeError);
    expect(stream({ window: 4, demand: of(1) })).toBeInstanceOf(TypeError);
    expect(stream({ demand: 5 })).toBeInstanceOf(TypeError);
    expect(stream({ demand: of(0) })).toBeInstanceOf(RangeError);
    expect(stream({ oneway: false, window: 1 })).toBeUndefined();
    // Through the client too (its connection is dialled first).
    const { client } = await world();
    await expect(firstValueFrom(client.stream$('Ticker', 'count', 3, { window: -1 }))).rejects.toBeInstanceOf(
      RangeError,
    );
  });

  it('stream$ - a connection that closes mid-stream fails it with ConnectionClosedError; the server keeps no call in flight', async () => {
    const { network, name, probe, calls, server } = await world();
    const connection = await openConnection(network, name);
    const values: unknown[] = [];
    const failed = deferred<unknown>();
    const first = deferred();
    connection.stream$('Ticker', 'hang').subscribe({
      next: (value) => {
        values.push(value);
        first.resolve();
      },
      error: failed.resolve,
    });
    await first.promise;
    network.cut(name);
    expect(await failed.promise).toBeInstanceOf(ConnectionClosedError);
    expect(values).toEqual(['first']);
    await probe.stopped.promise;
    expect(probe.aborted).toBe(1);
    const { started, finished } = calls();
    expect(started).toBe(1);
    expect(finished.map((event) => (event.type === 'call-finished' ? event.code : ''))).toEqual([
      'CANCELLED',
    ]);
    expect(server.connectionCount).toBe(0);
  });
});

/** A server with a timed streaming handler and connections to it, all on one TestScheduler. */
function virtualWorld(options: ServerOptions = {}) {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const network = new MemoryNetwork({ scheduler });
  const server = new Server({ logger: silentLogger, scheduler, ...options });
  const seen: string[] = [];
  server.register('Clock', {
    /** 0, 1, 2... every `everyMs` (`count` of them, or forever); notes its abort and its end. */
    tick: (args: { everyMs: number; count?: number }, ctx: CallContext) => {
      ctx.signal.addEventListener('abort', () => seen.push(`aborted at ${scheduler.now()}`));
      const ticks = interval(args.everyMs, scheduler);
      return (args.count === undefined ? ticks : ticks.pipe(take(args.count))).pipe(
        finalize(() => seen.push(`ended at ${scheduler.now()}`)),
      );
    },
  });
  void server.listen('memory@clock', { transport: network });
  /** `use(connection)` on a connection to the server; completes (and closes it) when that does. */
  const over = <T>(use: (connection: Connection) => Observable<T>): Observable<T> =>
    connect('memory@clock', { transport: network, scheduler, serializeType: SerializeType.JSON }).pipe(
      switchMap((connection) => use(connection).pipe(materialize())),
      dematerialize(),
    );
  return { scheduler, seen, over };
}

function named<T>(source: Observable<T>): Observable<T | string> {
  return source.pipe(catchError((error: unknown) => of((error as Error).constructor.name)));
}

describe('streams in virtual time', () => {
  it('stream$ - a timed handler: each value when the server emits it, then completion, even with a window of 1', () => {
    const { scheduler, seen, over } = virtualWorld();
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      const ticks$ = over((c) => c.stream$('Clock', 'tick', { everyMs: 10, count: 5 }, { window: 1 }));
      expectObservable(ticks$).toBe('10ms a 9ms b 9ms c 9ms d 9ms (e|)', { a: 0, b: 1, c: 2, d: 3, e: 4 });
    });
    expect(seen).toEqual(['ended at 50']);
  });

  it('stream$ - unsubscribing stops the handler on the server at that moment, the connection staying open', () => {
    const { scheduler, seen, over } = virtualWorld();
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      // The stream is dropped at 20 ms; the connection lives on until 120 ms.
      const ticks$ = over((c) =>
        concat(
          c.stream$('Clock', 'tick', { everyMs: 10 }).pipe(take(2)),
          timer(100).pipe(map(() => 'later')),
        ),
      );
      expectObservable(ticks$).toBe('10ms a 9ms b 99ms (l|)', { a: 0, b: 1, l: 'later' });
    });
    expect(seen).toEqual(['aborted at 20', 'ended at 20']);
  });

  it('stream$ - timeoutMs bounds the whole stream: DeadlineExceededError then, and the handler stops', () => {
    const { scheduler, seen, over } = virtualWorld();
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      const ticks$ = over((c) => c.stream$('Clock', 'tick', { everyMs: 10 }, { timeoutMs: 35 }));
      expectObservable(named(ticks$)).toBe('10ms a 9ms b 9ms c 4ms (x|)', {
        a: 0,
        b: 1,
        c: 2,
        x: 'DeadlineExceededError',
      });
    });
    expect(seen).toEqual(['aborted at 35', 'ended at 35']);
  });

  it('stream$ - with demand, a value past it waits on the server for the next demand', () => {
    const { scheduler, seen, over } = virtualWorld();
    scheduler.run(({ cold, expectObservable }) => {
      scheduler.maxFrames = 1_000;
      // 2 at once, 3 more at 35 ms: tick 2 (at 30 ms) waits for them; ticks 3 and 4 go as made.
      const demand = cold<number>('a 34ms b', { a: 2, b: 3 });
      const ticks$ = over((c) => c.stream$('Clock', 'tick', { everyMs: 10 }, { demand }));
      expectObservable(ticks$, '^ 99ms !').toBe('10ms a 9ms b 14ms c 4ms d 9ms e', {
        a: 0,
        b: 1,
        c: 2,
        d: 3,
        e: 4,
      });
    });
    expect(seen).toEqual(['aborted at 100', 'ended at 100']);
  });
});
