import {
  catchError,
  concat,
  dematerialize,
  finalize,
  firstValueFrom,
  from,
  interval,
  lastValueFrom,
  map,
  materialize,
  NEVER,
  type Observable,
  of,
  range,
  reduce,
  Subject,
  switchMap,
  take,
  takeUntil,
  throwError,
  timer,
  toArray,
} from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../lib/client/client.js';
import { connect } from '../../lib/client/connect.js';
import type { Connection } from '../../lib/client/connection.js';
import { SerializeType } from '../../lib/codec/index.js';
import { ResourceExhaustedError, RpcError } from '../../lib/errors/index.js';
import { DEFAULT_STREAM_WINDOW } from '../../lib/protocol/constants.js';
import type { CallContext } from '../../lib/server/call-context.js';
import { Server } from '../../lib/server/server.js';
import type { ServerEvent } from '../../lib/server/server-event.js';
import { MemoryNetwork } from '../../lib/testing/memory-network.js';
import { silentLogger } from '../../lib/util/logger.js';
import { type Deferred, deferred, turns } from '../support/deferred.js';
import { advanceTo } from '../support/virtual-time.js';

/**
 * Client and bidirectional streams end to end over the in-memory network: the request's
 * arguments are a stream (an Observable or an async iterable) that the handler gets as an
 * Observable, sent as the server grants credit. On the network's default scheduler where
 * handlers return promises; in virtual time for the timing rules.
 */

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** What the handlers of one world saw, on the server. */
interface Probe {
  /** Values that reached a handler through its input Observable. */
  delivered: number;
  /** Resolves when a handler's `ctx.signal` aborted. */
  readonly aborted: Deferred<void>;
  /** Resolves when a handler subscribed its input. */
  readonly subscribed: Deferred<void>;
  /** Lets the `late` handler subscribe its input. */
  readonly gate: Deferred<void>;
}

/** How an input Observable ended on the server, as a handler reports it to its caller. */
interface InputOutcome {
  readonly values: unknown[];
  readonly error?: { readonly name: string; readonly message: string; readonly rpc: boolean };
}

function outcomeOf(values: Observable<unknown>): Promise<InputOutcome> {
  const seen: unknown[] = [];
  return new Promise((resolve) =>
    values.subscribe({
      next: (value) => seen.push(value),
      error: (error: Error) =>
        resolve({
          values: seen,
          error: { name: error.name, message: error.message, rpc: error instanceof RpcError },
        }),
      complete: () => resolve({ values: seen }),
    }),
  );
}

let worlds = 0;

/** A server with methods taking input streams on a memory network (default scheduler), and a client. */
async function world() {
  const network = new MemoryNetwork();
  const server = new Server({ logger: silentLogger });
  const events: ServerEvent[] = [];
  const subscription = server.events$.subscribe((event) => events.push(event));
  const probe: Probe = { delivered: 0, aborted: deferred(), subscribed: deferred(), gate: deferred() };
  const watch = (ctx: CallContext): void =>
    ctx.signal.addEventListener('abort', () => probe.aborted.resolve());
  server.register('Files', {
    /** Client streaming, one result (a promise). */
    sum: (values: Observable<number>) => lastValueFrom(values.pipe(reduce((total, n) => total + n, 0))),
    /** Bidirectional: every value times ten, as it comes. */
    echo: (values: Observable<number>, ctx: CallContext) => {
      watch(ctx);
      return values.pipe(map((n) => n * 10));
    },
    /** Reads two values and answers them. */
    firstTwo: (values: Observable<number>) => values.pipe(take(2), toArray()),
    /** Echoes two values, stops reading, and stays open. */
    twoThenOpen: (values: Observable<number>) => concat(values.pipe(take(2)), NEVER),
    /** Never reads its input; open until cancelled. */
    ignore: (_values: Observable<unknown>, ctx: CallContext) => {
      watch(ctx);
      return NEVER;
    },
    /** Reports how its input ended. */
    inspect: (values: Observable<unknown>) => outcomeOf(values),
    /** Subscribes its input twice: reports how the second subscription ended. */
    twice: (values: Observable<unknown>) => {
      values.subscribe({ error: () => {} });
      return outcomeOf(values);
    },
    /** Subscribes its input once the test opens the gate, then counts the values as they come. */
    late: async (values: Observable<number>) => {
      await probe.gate.promise;
      probe.subscribed.resolve();
      return lastValueFrom(
        values.pipe(
          map((n) => {
            probe.delivered++;
            return n;
          }),
          reduce((total, n) => total + n, 0),
        ),
      );
    },
    ping: (value: unknown) => value,
  });
  const name = `memory@input-${++worlds}`;
  await server.listen(name, { transport: network });
  const client = new Client(name, { transport: network, serializeType: SerializeType.JSON });
  cleanups.push(async () => {
    await client.close();
    await server.shutdown({ graceMs: 0 });
    subscription.unsubscribe();
  });
  const finished = () =>
    events.flatMap((event) => (event.type === 'call-finished' ? [`${event.method} ${event.code}`] : []));
  return { network, name, server, client, probe, finished };
}

/** 0 .. count-1, made as they are pulled; `state` counts them and notes the generator's end. */
function counted(count: number) {
  const state = { produced: 0, finished: 0 };
  async function* generate() {
    try {
      for (let i = 0; i < count; i++) {
        state.produced++;
        yield i;
      }
    } finally {
      state.finished++;
    }
  }
  return { iterable: generate(), state };
}

/** `source`, with its unsubscriptions and ends counted. */
function watched<T>(source: Observable<T>) {
  const state = { finalized: 0 };
  return { source: source.pipe(finalize(() => state.finalized++)), state };
}

describe('input streams over the in-memory network', () => {
  it('stream$ - an Observable input to a handler returning one value: that value, then completion', async () => {
    const { client } = await world();
    const replies = await lastValueFrom(
      client.stream$<number>('Files', 'sum', from([1, 2, 3, 4])).pipe(toArray()),
    );
    expect(replies).toEqual([10]);
  });

  it('stream$ - an async generator input is pulled and uploaded whole, past several windows', async () => {
    const { client } = await world();
    const { iterable, state } = counted(1_000);
    const replies = await lastValueFrom(client.stream$<number>('Files', 'sum', iterable).pipe(toArray()));
    expect(replies).toEqual([(999 * 1_000) / 2]);
    expect(state).toEqual({ produced: 1_000, finished: 1 });
  });

  it('Client.call - a stream as the arguments: the handler’s one value is the reply', async () => {
    const { client } = await world();
    expect(await client.call<number>('Files', 'sum', from([1, 2, 3]))).toBe(6);
    expect(await client.call<number>('Files', 'sum', counted(100).iterable)).toBe(4_950);
    // A handler that streams back: the first value is the reply.
    expect(await client.call<number>('Files', 'echo', from([5, 6, 7]))).toBe(50);
  });

  it('call$ - a stream as the arguments on a connection: the reply, with its metadata', async () => {
    const { network, name } = await world();
    const connection = await openConnection(network, name);
    expect(await firstValueFrom(connection.call$<number>('Files', 'sum', range(1, 10)))).toBe(55);
    const replies = await lastValueFrom(
      connection.callWithMetadata$<number>('Files', 'sum', from([2, 3])).pipe(toArray()),
    );
    expect(replies.map((reply) => reply.data)).toEqual([5]);
  });

  it('stream$ - bidirectional: each input value answered in order, then completion when the input completes', async () => {
    const { client } = await world();
    const replies = await lastValueFrom(
      client.stream$<number>('Files', 'echo', range(0, 300)).pipe(toArray()),
    );
    expect(replies).toEqual(Array.from({ length: 300 }, (_, i) => i * 10));
  });

  it('stream$ - a handler that reads two values: the call answers, the client’s input Observable is unsubscribed', async () => {
    const { client } = await world();
    const { source, state } = watched(concat(range(0, 5), NEVER));
    expect(await lastValueFrom(client.stream$('Files', 'firstTwo', source))).toEqual([0, 1]);
    expect(state.finalized).toBe(1);
  });

  it('stream$ - a handler that stops reading while its stream goes on: the client’s input stops at its cancel notice', async () => {
    const { client } = await world();
    const { source, state } = watched(concat(range(0, 5), NEVER));
    const values: number[] = [];
    const two = deferred();
    const subscription = client.stream$<number>('Files', 'twoThenOpen', source).subscribe((value) => {
      values.push(value);
      if (values.length === 2) two.resolve();
    });
    cleanups.push(() => subscription.unsubscribe());
    await two.promise;
    // The cancel notice follows the second value; a round trip on the connection comes after it.
    expect(await client.call('Files', 'ping', 'after')).toBe('after');
    expect(state.finalized).toBe(1);
    expect(values).toEqual([0, 1]);
    expect(subscription.closed).toBe(false);
  });

  it('stream$ - a handler that stops reading an async generator input: the generator is returned', async () => {
    const { client } = await world();
    const { iterable, state } = counted(1_000_000);
    expect(await lastValueFrom(client.stream$('Files', 'firstTwo', iterable))).toEqual([0, 1]);
    await turns(2);
    expect(state.finished).toBe(1);
    expect(state.produced).toBeLessThanOrEqual(DEFAULT_STREAM_WINDOW + 1);
  });

  it('stream$ - an Observable input more than maxBacklog ahead of the credit fails with ResourceExhaustedError; the handler is cancelled', async () => {
    const { client, probe, finished } = await world();
    const input = new Subject<number>();
    const failed = deferred<unknown>();
    client.stream$('Files', 'ignore', input, { maxBacklog: 5 }).subscribe({ error: failed.resolve });
    // The handler runs (and never reads its input) once it answers a round trip after the call.
    expect(await client.call('Files', 'ping', 1)).toBe(1);
    for (let i = 0; i < 5; i++) input.next(i);
    expect(input.observed).toBe(true);
    input.next(5);
    const error = await failed.promise;
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect((error as ResourceExhaustedError).details).toEqual({ maxBacklog: 5 });
    expect(input.observed).toBe(false);
    await probe.aborted.promise;
    expect(finished()).toContain('ignore CANCELLED');
  });

  it('stream$ - a synchronous Observable input past maxBacklog fails before any credit came, and is unsubscribed', async () => {
    const { client } = await world();
    const { source, state } = watched(range(0, 1_000));
    await expect(
      lastValueFrom(client.stream$('Files', 'sum', source, { maxBacklog: 10 })),
    ).rejects.toBeInstanceOf(ResourceExhaustedError);
    expect(state.finalized).toBe(1);
    // The connection goes on.
    expect(await client.call('Files', 'sum', range(0, 1_000))).toBe(499_500);
  });

  it('stream$ - the input’s error reaches the handler’s input as an RpcError with its message, after its values', async () => {
    const { client } = await world();
    const input = concat(
      of(1, 2),
      throwError(() => new Error('disk on fire')),
    );
    expect(await lastValueFrom(client.stream$<InputOutcome>('Files', 'inspect', input))).toEqual({
      values: [1, 2],
      error: { name: 'RpcError', message: "the caller's input stream failed: disk on fire", rpc: true },
    });
    // An async generator's rejection too.
    async function* failing() {
      yield 'a';
      throw new Error('generator broke');
    }
    expect(await client.call<InputOutcome>('Files', 'inspect', failing())).toEqual({
      values: ['a'],
      error: { name: 'RpcError', message: "the caller's input stream failed: generator broke", rpc: true },
    });
  });

  it('stream$ - the input completing completes the handler’s input; an empty input too', async () => {
    const { client } = await world();
    expect(await client.call<InputOutcome>('Files', 'inspect', from(['x', 'y']))).toEqual({
      values: ['x', 'y'],
    });
    expect(await client.call<InputOutcome>('Files', 'inspect', from([]))).toEqual({ values: [] });
  });

  it('stream$ - a handler subscribing its input twice: the second subscription errors with a TypeError', async () => {
    const { client } = await world();
    expect(await client.call<InputOutcome>('Files', 'twice', of(1))).toEqual({
      values: [],
      error: { name: 'TypeError', message: "a call's input stream can be subscribed once", rpc: false },
    });
  });

  it('stream$ - unsubscribing cancels the handler (ctx.signal aborted) and stops the input', async () => {
    const { client, probe, finished } = await world();
    const { source, state } = watched(concat(of(1), NEVER));
    expect(await firstValueFrom(client.stream$('Files', 'echo', source))).toBe(10);
    expect(state.finalized).toBe(1);
    await probe.aborted.promise;
    expect(finished()).toEqual(['echo CANCELLED']);
  });

  it('stream$ - an Observable input waits for the handler to subscribe: nothing is lost, nothing sent before', async () => {
    const { client, probe } = await world();
    const input = new Subject<number>();
    const reply = firstValueFrom(client.stream$<number>('Files', 'late', input));
    expect(await client.call('Files', 'ping', 1)).toBe(1);
    // Before the handler reads, the values wait on the client: sent early, the server would drop them.
    for (let i = 1; i <= 10; i++) input.next(i);
    expect(await client.call('Files', 'ping', 2)).toBe(2);
    expect(probe.delivered).toBe(0);
    probe.gate.resolve();
    await probe.subscribed.promise;
    input.complete();
    expect(await reply).toBe(55);
    expect(probe.delivered).toBe(10);
  });
});

/** A world whose frames move only when the test steps its virtual scheduler. */
async function steppedWorld() {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const network = new MemoryNetwork({ scheduler });
  const server = new Server({ logger: silentLogger, scheduler });
  const probe = { delivered: 0, subscribed: false };
  const gate = deferred();
  server.register('Files', {
    /** Subscribes its input once the gate opens, counting what reaches it. */
    count: async (values: Observable<number>) => {
      await gate.promise;
      probe.subscribed = true;
      return lastValueFrom(
        values.pipe(
          map(() => ++probe.delivered),
          reduce((total) => total + 1, 0),
        ),
      );
    },
  });
  const listening = server.listen('memory@stepped', { transport: network });
  /** Delivers every frame due now (hop after hop), then lets the promise chains of both sides run. */
  const step = async (): Promise<void> => {
    advanceTo(scheduler, 0);
    await turns(1);
  };
  await step();
  await listening;
  const client = new Client('memory@stepped', {
    transport: network,
    scheduler,
    serializeType: SerializeType.JSON,
  });
  cleanups.push(async () => {
    const closing = client.close();
    const stopping = server.shutdown({ graceMs: 0 });
    await step();
    await Promise.all([closing, stopping]);
  });
  return { scheduler, client, probe, gate, step };
}

describe('input streams: the server grants credit as its handler takes the values', () => {
  it('stream$ - an async generator runs at most a window (64) and one value ahead of what reached the handler', async () => {
    const { client, probe, gate, step } = await steppedWorld();
    const total = 1_000;
    const { iterable, state } = counted(total);
    let reply: number | undefined;
    client.stream$<number>('Files', 'count', iterable).subscribe((value) => {
      reply = value;
    });
    await step();
    await step();
    // The handler has not subscribed: no credit, one value pulled ahead.
    expect(probe.subscribed).toBe(false);
    expect(state.produced).toBe(1);
    gate.resolve();
    await step();
    expect(probe.subscribed).toBe(true);
    let ahead = 0;
    for (let round = 0; reply === undefined && round < 100; round++) {
      ahead = Math.max(ahead, state.produced - probe.delivered);
      expect(state.produced - probe.delivered).toBeLessThanOrEqual(DEFAULT_STREAM_WINDOW + 1);
      await step();
    }
    expect(reply).toBe(total);
    expect(probe.delivered).toBe(total);
    // A whole window was on its way at times: the bound is reached, not loose.
    expect(ahead).toBeGreaterThanOrEqual(DEFAULT_STREAM_WINDOW);
  });
});

/** A server of bidirectional handlers and connections to it, all on one TestScheduler. */
function virtualWorld() {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const network = new MemoryNetwork({ scheduler });
  const server = new Server({ logger: silentLogger, scheduler });
  const seen: string[] = [];
  server.register('Files', {
    /** Reads its input on a subscription of its own, noting how it ends; answers nothing. */
    aside: (values: Observable<unknown>) => {
      values.subscribe({
        next: (value) => seen.push(`${String(value)} at ${scheduler.now()}`),
        error: (error: Error) => seen.push(`${error.name} at ${scheduler.now()}`),
        complete: () => seen.push(`complete at ${scheduler.now()}`),
      });
      return NEVER;
    },
    echo: (values: Observable<number>) => values.pipe(map((n) => n * 10)),
    firstTwo: (values: Observable<string>) => values.pipe(take(2), toArray()),
    sum: (values: Observable<number>) => values.pipe(reduce((total, n) => total + n, 0)),
  });
  void server.listen('memory@input-clock', { transport: network });
  /** `use(connection)` on a connection to the server; completes (and closes it) when that does. */
  const over = <T>(use: (connection: Connection) => Observable<T>): Observable<T> =>
    connect('memory@input-clock', { transport: network, scheduler, serializeType: SerializeType.JSON }).pipe(
      switchMap((connection) => use(connection).pipe(materialize())),
      dematerialize(),
    );
  return { scheduler, over, seen };
}

describe('input streams in virtual time', () => {
  it('stream$ - bidirectional: each value of an interval input is answered at the time it is emitted', () => {
    const { scheduler, over } = virtualWorld();
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      const input = interval(10, scheduler).pipe(take(4));
      expectObservable(over((c) => c.stream$('Files', 'echo', input))).toBe('10ms a 9ms b 9ms c 9ms (d|)', {
        a: 0,
        b: 10,
        c: 20,
        d: 30,
      });
    });
  });

  it('stream$ - a handler that reads two values unsubscribes the input at the second one; its reply comes then', () => {
    const { scheduler, over } = virtualWorld();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      scheduler.maxFrames = 1_000;
      const input = cold('5ms a 9ms b 9ms c 9ms d|');
      expectObservable(over((c) => c.stream$('Files', 'firstTwo', input))).toBe('15ms (x|)', {
        x: ['a', 'b'],
      });
      expectSubscriptions(input.subscriptions).toBe('^ 14ms !');
    });
  });

  it('call$ - client streaming: the one reply comes when the input completes', () => {
    const { scheduler, over } = virtualWorld();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      scheduler.maxFrames = 1_000;
      const input = cold<number>('a 9ms b 9ms c 9ms |', { a: 1, b: 2, c: 3 });
      expectObservable(over((c) => c.call$('Files', 'sum', input))).toBe('30ms (s|)', { s: 6 });
      expectSubscriptions(input.subscriptions).toBe('^ 29ms !');
    });
  });

  it('stream$ - the call’s deadline fails an input the handler still reads with DeadlineExceededError, then', () => {
    const { scheduler, over, seen } = virtualWorld();
    scheduler.run(({ cold, expectObservable }) => {
      scheduler.maxFrames = 1_000;
      const input = cold('5ms a 49ms b');
      const replies = over((c) => c.stream$('Files', 'aside', input, { timeoutMs: 35 })).pipe(
        catchError((error: unknown) => of((error as Error).name)),
      );
      expectObservable(replies).toBe('35ms (x|)', { x: 'DeadlineExceededError' });
    });
    expect(seen).toEqual(['a at 5', 'DeadlineExceededError at 35']);
  });

  it('stream$ - unsubscribing fails an input the handler still reads with CancelledError, then; the client’s input stops', () => {
    const { scheduler, over, seen } = virtualWorld();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      scheduler.maxFrames = 1_000;
      const input = cold('5ms a 49ms b');
      // The stream is dropped at 20 ms; the connection lives on until 120 ms.
      const replies = over((c) =>
        concat(
          c.stream$('Files', 'aside', input).pipe(takeUntil(timer(20))),
          timer(100).pipe(map(() => 'later')),
        ),
      );
      expectObservable(replies).toBe('120ms (l|)', { l: 'later' });
      expectSubscriptions(input.subscriptions).toBe('^ 19ms !');
    });
    expect(seen).toEqual(['a at 5', 'CancelledError at 20']);
  });

  it('stream$ - the connection closing mid-stream: the client’s input stops, the handler’s input fails with ConnectionClosedError', () => {
    const { scheduler, over, seen } = virtualWorld();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      scheduler.maxFrames = 1_000;
      const input = cold('5ms a 49ms b');
      expectObservable(
        over((c) => c.stream$('Files', 'aside', input)),
        '^ 19ms !',
      ).toBe('');
      expectSubscriptions(input.subscriptions).toBe('^ 19ms !');
    });
    expect(seen).toEqual(['a at 5', 'ConnectionClosedError at 20']);
  });

  it('stream$ - an input that fails fails the handler’s input: the error comes back at that time', () => {
    const { scheduler, over } = virtualWorld();
    scheduler.run(({ cold, expectObservable }) => {
      scheduler.maxFrames = 1_000;
      const input = cold<number>('a 9ms #', { a: 1 }, new Error('bad input'));
      const replies = over((c) => c.stream$('Files', 'echo', input)).pipe(
        catchError((error: unknown) => of((error as Error).message)),
      );
      expectObservable(replies).toBe('a 9ms (e|)', {
        a: 10,
        e: "the caller's input stream failed: bad input",
      });
    });
  });
});

/** A connection to a world, opened for the test and closed after it. */
function openConnection(network: MemoryNetwork, name: string): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const subscription = connect(name, { transport: network, serializeType: SerializeType.JSON }).subscribe({
      next: resolve,
      error: reject,
    });
    cleanups.push(() => subscription.unsubscribe());
  });
}
