import { catchError, from, map, type Observable, of, reduce, take, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { XClient } from '../../lib/client/xclient.js';
import type { XClientOptions } from '../../lib/client/xclient-options.js';
import { SerializeType } from '../../lib/codec/index.js';
import { multipleServersDiscovery } from '../../lib/discovery/multiple-servers-discovery.js';
import { Server } from '../../lib/server/server.js';
import { MemoryNetwork } from '../../lib/testing/memory-network.js';
import { silentLogger } from '../../lib/util/logger.js';

/**
 * XClient streams over the in-memory network, in virtual time: a server per name streams three
 * values 10 ms apart, each naming the server; the fail mode applies until the first value.
 */
class Ticker {
  constructor(
    private readonly name: string,
    private readonly scheduler: TestScheduler,
  ) {}

  Ticks(count: number): Observable<string> {
    return timer(10, 10, this.scheduler).pipe(
      take(count),
      map((n) => `${this.name}${n}`),
    );
  }

  Who(): string {
    return this.name;
  }

  /** Takes its arguments as a stream: their sum, when it completes. */
  Sum(values: Observable<number>): Observable<number> {
    return values.pipe(reduce((total, n) => total + n, 0));
  }
}

function world(names: readonly string[], options: Omit<XClientOptions, 'discovery'> = {}) {
  const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  const network = new MemoryNetwork({ scheduler });
  for (const name of names) {
    const server = new Server({ logger: silentLogger, scheduler });
    server.register('Ticker', new Ticker(name, scheduler));
    void server.listen(`memory@${name}`, { transport: network });
  }
  const discovery = multipleServersDiscovery(names.map((name) => ({ address: `memory@${name}` })));
  const client = new XClient('Ticker', {
    discovery,
    transport: network,
    scheduler,
    serializeType: SerializeType.JSON,
    selectMode: 'roundRobin',
    ...options,
  });
  return { scheduler, network, client };
}

function failure<T>(source: Observable<T>): Observable<T | string> {
  return source.pipe(catchError((error: unknown) => of(`${(error as Error).constructor.name}`)));
}

describe('XClient streams in virtual time over the in-memory network', () => {
  it('stream$ - every value of one selected server, then completion', () => {
    const { scheduler, client } = world(['a', 'b']);
    scheduler.run(({ expectObservable }) => {
      expectObservable(client.stream$('Ticks', 3)).toBe('10ms x 9ms y 9ms (z|)', {
        x: 'a0',
        y: 'a1',
        z: 'a2',
      });
    });
  });

  it('failover - a stream whose server is gone before the first value goes to another', () => {
    const { scheduler, network, client } = world(['a', 'b'], { failMode: 'failover' });
    network.crash('memory@a');
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      expectObservable(client.stream$('Ticks', 2)).toBe('10ms x 9ms (y|)', { x: 'b0', y: 'b1' });
    });
  });

  it('failfast - a stream whose server is gone fails at once', () => {
    const { scheduler, network, client } = world(['a', 'b'], { failMode: 'failfast' });
    network.crash('memory@a');
    scheduler.run(({ expectObservable }) => {
      scheduler.maxFrames = 1_000;
      expectObservable(failure(client.stream$('Ticks', 2))).toBe('(x|)', { x: 'ConnectionError' });
    });
  });

  it('failover - once a value has arrived, the server failing ends the stream: no retry elsewhere', () => {
    const { scheduler, network, client } = world(['a', 'b'], { failMode: 'failover', retries: 3 });
    scheduler.run(({ expectObservable, cold }) => {
      scheduler.maxFrames = 1_000;
      cold('15ms x').subscribe(() => network.crash('memory@a'));
      expectObservable(failure(client.stream$('Ticks', 3))).toBe('10ms x 4ms (e|)', {
        x: 'a0',
        e: 'ConnectionClosedError',
      });
    });
  });

  it('breaker - streams that fail before their first value open the server’s breaker; later streams skip it', () => {
    const { scheduler, network, client } = world(['a', 'b'], {
      failMode: 'failfast',
      selectMode: 'roundRobin',
      breaker: { kind: 'consecutive', failureThreshold: 1, openMs: 1_000 },
    });
    network.crash('memory@a');
    const outcomes: unknown[] = [];
    // Round robin: a, b, a. The breaker opens past one consecutive failure: at a's second.
    scheduler.run(() => {
      scheduler.maxFrames = 1_000;
      for (let i = 0; i < 3; i++)
        failure(client.stream$('Ticks', 1)).subscribe((value) => outcomes.push(value));
    });
    // The failures come at once, b's value 10 ms later.
    expect(outcomes).toEqual(['ConnectionError', 'ConnectionError', 'b0']);
    expect(client.instanceStates().find((state) => state.key === 'memory@a')?.breaker).toBe('open');
    const later: unknown[] = [];
    scheduler.run(() => {
      scheduler.maxFrames = 1_000;
      for (let i = 0; i < 3; i++) failure(client.stream$('Ticks', 1)).subscribe((value) => later.push(value));
    });
    expect(later).toEqual(['b0', 'b0', 'b0']);
  });

  it('call$ - a stream as the arguments: the handler’s one result is the reply, when the input completes', () => {
    const { scheduler, client } = world(['a']);
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('a 9ms b 9ms c|', { a: 1, b: 2, c: 3 });
      expectObservable(client.call$('Sum', input)).toBe('21ms (s|)', { s: 6 });
      expectSubscriptions(input.subscriptions).toBe('^ 20ms !');
    });
  });

  it('failover - a call whose input has started is not sent again elsewhere: its server failing fails it', () => {
    const { scheduler, network, client } = world(['a', 'b'], { failMode: 'failover', retries: 3 });
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      scheduler.maxFrames = 1_000;
      const input = cold('a 9ms b 9ms c|', { a: 1, b: 2, c: 3 });
      cold('15ms x').subscribe(() => network.crash('memory@a'));
      // Not a sum of what b would have got of a half-read input: the failure itself.
      expectObservable(failure(client.call$('Sum', input))).toBe('15ms (e|)', { e: 'ConnectionClosedError' });
      expectSubscriptions(input.subscriptions).toBe('^ 14ms !');
    });
  });

  it('call - a stream as the arguments: the promise resolves to the sum', async () => {
    const { scheduler, client } = world(['a']);
    const sum = client.call<number>('Sum', from([1, 2, 3]));
    let settled = false;
    void sum.finally(() => {
      settled = true;
    });
    // Each hop is due at once in virtual time; the promise steps between them run as microtasks.
    for (let round = 0; !settled && round < 20; round++) {
      scheduler.flush();
      await Promise.resolve();
    }
    expect(await sum).toBe(6);
  });

  it('proxy - methods named in streams are Observables of every value; the others promises of one reply', () => {
    const { scheduler, client } = world(['a']);
    const ticker = client.proxy<Ticker, 'Ticks'>({ streams: ['Ticks'] });
    expectTypeOf(ticker.Ticks).returns.toEqualTypeOf<Observable<string>>();
    expectTypeOf(ticker.Who).returns.toEqualTypeOf<Promise<string>>();
    scheduler.run(({ expectObservable }) => {
      expectObservable(ticker.Ticks(2)).toBe('10ms x 9ms (y|)', { x: 'a0', y: 'a1' });
    });
    const plain = client.proxy<Ticker>();
    expectTypeOf(plain.Ticks).returns.toEqualTypeOf<Promise<string>>();
    // Only streaming methods may be named.
    // @ts-expect-error Who returns a string, not an Observable
    client.proxy<Ticker, 'Who'>({ streams: ['Who'] });
  });
});
