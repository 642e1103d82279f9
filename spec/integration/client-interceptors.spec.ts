import { finalize, map, Observable, tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type CallContext,
  type ClientCall,
  type ClientInterceptor,
  ConnectionError,
  SerializeType,
  withMetadata,
} from '../../lib/index.js';
import { trackHandles } from '../support/handles.js';
import { deadAddress, orderedXClient } from '../support/ordered-xclient.js';
import { startClient, startServer } from '../support/servers.js';

const { defer } = trackHandles();

/** A service that answers who it is and the `tenant` metadata it received. */
function greeter(name: string) {
  return {
    Greet(args: { First: string }, ctx: CallContext) {
      return { Second: `Hello ${args.First}`, From: name, Tenant: ctx.metadata.get('tenant') ?? null };
    },
    /** The deadline the caller told (`__ServerTimeout`), if any. */
    Told(_args: unknown, ctx: CallContext) {
      return { Told: ctx.metadata.get('__ServerTimeout') ?? null };
    },
    /** Never answers; ends when the call is cancelled. */
    Hang(_args: unknown, ctx: CallContext) {
      return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)));
    },
  };
}

async function greeterServer(name: string): Promise<string> {
  const { address } = await startServer(defer, (server) => server.register('HelloWorld', greeter(name)));
  return address;
}

/** Records what each interceptor saw, in order. */
function recorder(label: string, seen: string[]): ClientInterceptor {
  return (next) => (call) => {
    seen.push(`${label}>${call.stage}:${call.method}${call.attempt ? `:${call.attempt}` : ''}`);
    return next(call).pipe(finalize(() => seen.push(`${label}<`)));
  };
}

describe('client interceptors', () => {
  it('Client - the call stage wraps the attempt stage, first added outermost; metadata added reaches the server', async () => {
    const address = await greeterServer('a');
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    const seen: string[] = [];
    client
      .use(recorder('c1', seen))
      .use(recorder('a1', seen), { stage: 'attempt' })
      .use(recorder('c2', seen), { stage: 'call' })
      .use((next) => (call) => next(withMetadata(call, { tenant: 'acme' })), { stage: 'attempt' });
    const reply = await client.call('HelloWorld', 'Greet', { First: 'x' });
    expect(reply).toEqual({ Second: 'Hello x', From: 'a', Tenant: 'acme' });
    expect(seen).toEqual(['c1>call:Greet', 'c2>call:Greet', 'a1>attempt:Greet:first', 'a1<', 'c2<', 'c1<']);
  });

  it('Client - an interceptor may replace the reply, or fail the call by throwing', async () => {
    const address = await greeterServer('a');
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    client.use((next) => (call) => {
      if (call.method === 'Forbidden') throw new Error('not from this client');
      return next(call).pipe(map((reply) => ({ ...reply, data: { wrapped: reply.data } })));
    });
    expect(await client.call('HelloWorld', 'Greet', { First: 'y' })).toEqual({
      wrapped: { Second: 'Hello y', From: 'a', Tenant: null },
    });
    await expect(client.call('HelloWorld', 'Forbidden', {})).rejects.toMatchObject({
      message: 'not from this client',
    });
  });

  it('XClient failover - one call stage around a first attempt on the dead server and a retry on the live one', async () => {
    const dead = await deadAddress();
    const live = await greeterServer('live');
    const client = orderedXClient(defer, [dead, live], { failMode: 'failover', retries: 2 });
    const calls: string[] = [];
    const attempts: ClientCall[] = [];
    client.use((next) => (call) => {
      calls.push(`${call.stage} ${call.service}.${call.method} ${call.address ?? '-'}`);
      return next(call);
    });
    client.use(
      (next) => (call) => {
        attempts.push(call);
        return next(withMetadata(call, { tenant: call.attempt ?? '?' }));
      },
      { stage: 'attempt' },
    );
    const reply = await client.call('Greet', { First: 'z' });
    expect(reply).toEqual({ Second: 'Hello z', From: 'live', Tenant: 'retry' });
    expect(calls).toEqual(['call HelloWorld.Greet -']);
    expect(attempts.map((call) => [call.attempt, call.address])).toEqual([
      ['first', dead],
      ['retry', live],
    ]);
  });

  it('XClient failbackup - the hedged request is a backup attempt', async () => {
    const slow = await startServer(defer, (server) =>
      server.register('HelloWorld', {
        ...greeter('slow'),
        Greet: (_args: unknown, ctx: CallContext) =>
          new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))),
      }),
    );
    const fast = await greeterServer('fast');
    const client = orderedXClient(defer, [slow.address, fast], { failMode: 'failbackup', backupDelayMs: 20 });
    const kinds: string[] = [];
    client.use(
      (next) => (call) =>
        next(call).pipe(tap({ subscribe: () => kinds.push(`${call.attempt} ${call.address}`) })),
      { stage: 'attempt' },
    );
    expect(await client.call('Greet', { First: 'w' })).toMatchObject({ From: 'fast' });
    expect(kinds).toEqual([`first ${slow.address}`, `backup ${fast}`]);
  });

  it('XClient - an attempt interceptor that fails with a retryable error is retried like any other', async () => {
    const one = await greeterServer('one');
    const two = await greeterServer('two');
    const client = orderedXClient(defer, [one, two], { failMode: 'failover', retries: 1 });
    client.use(
      (next) => (call) =>
        call.address === one
          ? new Observable((subscriber) =>
              subscriber.error(new ConnectionError('refused by a test interceptor')),
            )
          : next(call),
      { stage: 'attempt' },
    );
    expect(await client.call('Greet', { First: 'v' })).toMatchObject({ From: 'two' });
  });

  it('XClient - an attempt interceptor sees the deadline told to the server as timeoutMs (0 when none is told), and may change it', async () => {
    const address = await greeterServer('a');
    const client = orderedXClient(defer, [address], { failMode: 'failover' });
    const seen: unknown[] = [];
    client.use(
      (next) => (call) => {
        seen.push(call.options.timeoutMs);
        const metadata = call.options.metadata;
        return metadata instanceof Map && metadata.get('raise') === 'yes'
          ? next({ ...call, options: { ...call.options, timeoutMs: 9_000 } })
          : next(call);
      },
      { stage: 'attempt' },
    );
    expect(await client.call('Told', {}, { timeoutMs: 5_000 })).toEqual({
      Told: expect.stringMatching(/^\d+$/),
    });
    const told = Number(((await client.call('Told', {}, { timeoutMs: 5_000 })) as { Told: string }).Told);
    expect(told).toBeGreaterThan(0);
    expect(told).toBeLessThanOrEqual(5_000);
    expect(await client.call('Told', {})).toEqual({ Told: null });
    const raised = await client.call('Told', {}, { timeoutMs: 5_000, metadata: new Map([['raise', 'yes']]) });
    expect(raised).toEqual({ Told: '9000' });
    expect(seen).toHaveLength(4);
    expect(seen[2]).toBe(0);
    for (const index of [0, 1, 3]) {
      expect(seen[index]).toBeGreaterThan(0);
      expect(seen[index]).toBeLessThanOrEqual(5_000);
    }
  });

  it('use - refuses what is not an interceptor or a stage, naming it; a handler that is not a function fails the call', async () => {
    const address = await greeterServer('a');
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    const x = orderedXClient(defer, [address], {});
    for (const target of [client, x]) {
      expect(() => target.use('log' as unknown as ClientInterceptor)).toThrow(
        /an interceptor must be a function, got "log"/,
      );
      expect(() => target.use((next) => next, { stage: 'server' as unknown as 'call' })).toThrow(
        /stage must be 'call' or 'attempt', got "server"/,
      );
      expect(() => target.use((next) => next, 7 as unknown as { stage: 'call' })).toThrow(TypeError);
    }
    client.use(() => 'not a handler' as unknown as ReturnType<ClientInterceptor>);
    await expect(client.call('HelloWorld', 'Greet', { First: 'u' })).rejects.toMatchObject({
      name: 'TypeError',
      message: expect.stringContaining('must return a handler'),
    });
  });

  it('withMetadata - merges into a record or a Map, later keys win, and refuses values that are not strings', () => {
    const base: ClientCall = {
      stage: 'call',
      service: 'S',
      method: 'M',
      args: 1,
      options: { metadata: { a: '1', b: '2' } },
    };
    expect(withMetadata(base, { b: 'B', c: '3' }).options.metadata).toEqual(
      new Map([
        ['a', '1'],
        ['b', 'B'],
        ['c', '3'],
      ]),
    );
    const fromMap = { ...base, options: { metadata: new Map([['a', 'x']]) } };
    expect(withMetadata(fromMap, { d: '4' }).options.metadata).toEqual(
      new Map([
        ['a', 'x'],
        ['d', '4'],
      ]),
    );
    expect(base.options.metadata).toEqual({ a: '1', b: '2' });
    expect(() => withMetadata(base, { n: 5 as unknown as string })).toThrow(
      /metadata value of n must be a string, got 5/,
    );
  });
});
