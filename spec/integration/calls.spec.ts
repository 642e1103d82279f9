import { EventEmitter } from 'node:events';
import protobuf from 'protobufjs';
import {
  concat,
  finalize,
  firstValueFrom,
  interval,
  map,
  NEVER,
  Observable,
  of,
  switchMap,
  take,
  throwError,
  timer,
  toArray,
} from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type CallContext,
  CodecError,
  DeadlineExceededError,
  RPCX,
  SerializeType,
  ServiceError,
} from '../../lib/index.js';
import { trackHandles } from '../support/handles.js';
import { rawClient, rawServer, request } from '../support/raw-peer.js';
import { openConnection, startClient, startServer } from '../support/servers.js';

const { defer } = trackHandles();

const root = protobuf.parse(
  'syntax = "proto3"; message Args { int32 A = 1; int32 B = 2; } message Reply { int32 C = 1; }',
).root;
const ArgsType = root.lookupType('Args');
const ReplyType = root.lookupType('Reply');

class Arith {
  Mul(args: { A: number; B: number }) {
    return { C: args.A * args.B };
  }
  async Div(args: { A: number; B: number }) {
    if (args.B === 0) throw new Error('divide by zero');
    return { C: args.A / args.B };
  }
  Echo(args: unknown) {
    return args;
  }
}

async function arithServer() {
  return startServer(defer, (server) =>
    server.register('Arith', new Arith(), {
      protobuf: { Mul: { requestType: ArgsType, replyType: ReplyType } },
    }),
  );
}

describe('calls over loopback', () => {
  it.each([
    ['JSON', SerializeType.JSON],
    ['MsgPack', SerializeType.MsgPack],
  ])('%s codec - a call gets its reply', async (_name, serializeType) => {
    const { address } = await arithServer();
    const client = startClient(defer, address, { serializeType });
    await expect(client.call('Arith', 'Mul', { A: 7, B: 8 })).resolves.toEqual({ C: 56 });
  });

  it('Protobuf codec - types given at registration and per client', async () => {
    const { address } = await arithServer();
    const client = startClient(defer, address, {
      serializeType: SerializeType.Protobuf,
      protobuf: { 'Arith.Mul': { requestType: ArgsType, replyType: ReplyType } },
    });
    await expect(client.call('Arith', 'Mul', { A: 7, B: 8 })).resolves.toEqual({ C: 56 });
  });

  it('Protobuf codec - types given per call', async () => {
    const { address } = await arithServer();
    const client = startClient(defer, address);
    const reply = client.call(
      'Arith',
      'Mul',
      { A: 3, B: 4 },
      {
        serializeType: SerializeType.Protobuf,
        requestType: ArgsType,
        replyType: ReplyType,
      },
    );
    await expect(reply).resolves.toEqual({ C: 12 });
  });

  it('raw codec - bytes in, bytes out', async () => {
    const { address } = await arithServer();
    const client = startClient(defer, address, { serializeType: SerializeType.Raw });
    const reply = await client.call<Uint8Array>('Arith', 'Echo', new Uint8Array([1, 2, 3, 255]));
    expect([...reply]).toEqual([1, 2, 3, 255]);
  });

  it('an unknown serialize type gets an error reply naming it', async () => {
    const { address } = await arithServer();
    const client = startClient(defer, address);
    // Register a codec on the client only: the server does not know type 9.
    const { createDefaultCodecs } = await import('../../lib/index.js');
    const codecs = createDefaultCodecs().register({
      serializeType: 9,
      name: 'nine',
      encode: () => new Uint8Array([9]),
      decode: () => 9,
    });
    const other = startClient(defer, address, { codecs, serializeType: 9 });
    await expect(other.call('Arith', 'Echo', 1)).rejects.toThrow(/serialize type 9/);
    await expect(client.call('Arith', 'Mul', { A: 1, B: 1 })).resolves.toEqual({ C: 1 });
  });

  it('a payload that does not decode gets an error reply, and the server goes on', async () => {
    const { address } = await arithServer();
    const peer = await rawClient(address);
    defer(() => peer.close());
    peer.send(
      request({ seq: 1n, servicePath: 'Arith', serviceMethod: 'Mul', payload: Buffer.from('{not json') }),
    );
    peer.send(
      request({ seq: 2n, servicePath: 'Arith', serviceMethod: 'Mul', payload: Buffer.from('{"A":2,"B":3}') }),
    );
    const bad = await peer.frame(0);
    expect(bad).toMatchObject({ seq: 1n, status: 1, messageType: 1 });
    expect(bad.metadata.get('__mrpc_error__')).toMatch(/json/i);
    const good = await peer.frame(1);
    expect(good).toMatchObject({ seq: 2n, status: 0 });
    expect(JSON.parse(Buffer.from(good.payload).toString())).toEqual({ C: 6 });
  });

  it('a value the client cannot encode fails the call with CodecError before sending', async () => {
    const { address } = await arithServer();
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    await expect(client.call('Arith', 'Echo', { big: 1n })).rejects.toThrow(CodecError);
  });

  it('a thrown error becomes a ServiceError with its message', async () => {
    const { address } = await arithServer();
    const client = startClient(defer, address);
    const error = await client.call('Arith', 'Div', { A: 7, B: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toBe('divide by zero');
    expect((error as ServiceError).details).toMatchObject({ service: 'Arith', method: 'Div' });
  });

  it('an Observable that errors, or throws synchronously, becomes an error reply', async () => {
    const { address } = await startServer(defer, (server) =>
      server.register('Bad', {
        Emit: () => throwError(() => new Error('observable failed')),
        Sync: () => {
          throw new TypeError('sync failure');
        },
        Reject: () => Promise.reject('a string reason'),
      }),
    );
    const client = startClient(defer, address);
    await expect(client.call('Bad', 'Emit')).rejects.toThrow('observable failed');
    await expect(client.call('Bad', 'Sync')).rejects.toThrow('sync failure');
    await expect(client.call('Bad', 'Reject')).rejects.toThrow('a string reason');
  });

  it('an Observable reply is its first value', async () => {
    const { address } = await startServer(defer, (server) =>
      server.register('Stream', { Ticks: () => interval(1).pipe(map((n) => n + 10)) }),
    );
    const client = startClient(defer, address);
    await expect(client.call('Stream', 'Ticks')).resolves.toBe(10);
  });

  it('after its first value a handler’s Observable is unsubscribed, whether it came at once or later, with or without interceptors', async () => {
    for (const intercepted of [false, true]) {
      const ended: string[] = [];
      const { address } = await startServer(defer, (server) => {
        if (intercepted) server.use((next) => (call) => next(call));
        return server.register('Stream', {
          AtOnce: () => concat(of(1, 2), NEVER).pipe(finalize(() => ended.push('at once'))),
          Later: () =>
            timer(1).pipe(
              switchMap(() => concat(of(3, 4), NEVER)),
              finalize(() => ended.push('later')),
            ),
        });
      });
      const client = startClient(defer, address);
      await expect(client.call('Stream', 'AtOnce')).resolves.toBe(1);
      await expect(client.call('Stream', 'Later')).resolves.toBe(3);
      expect(ended).toEqual(['at once', 'later']);
    }
  });

  it('unknown service and method get an error reply that names only what was asked for', async () => {
    const { address } = await arithServer();
    const client = startClient(defer, address);
    const serviceError = await client.call('Nope', 'Mul', {}).catch((e: unknown) => e);
    expect(serviceError).toBeInstanceOf(ServiceError);
    expect((serviceError as ServiceError).message).toBe('can not find service "Nope"');
    await expect(client.call('Arith', 'Pow', {})).rejects.toThrow(
      /^can not find method "Pow" of service "Arith"$/,
    );
  });

  it('listMethodsInErrors - unknown service and method errors list what is registered', async () => {
    const { address } = await startServer(defer, (server) => server.register('Arith', new Arith()), {
      listMethodsInErrors: true,
    });
    const client = startClient(defer, address);
    await expect(client.call('Nope', 'Mul', {})).rejects.toThrow(
      'can not find service "Nope"; registered: Arith',
    );
    await expect(client.call('Arith', 'Pow', {})).rejects.toThrow(
      'can not find method "Pow" of service "Arith"; methods: Mul, Div, Echo',
    );
  });

  it('inherited methods of built-in classes are not callable: a remote emit fires nothing', async () => {
    const fired: string[] = [];
    class Feed extends EventEmitter {
      secret = 'internal state';
      Latest() {
        return 'news';
      }
    }
    const feed = new Feed();
    feed.on('reset', () => fired.push('reset'));
    const { address } = await startServer(defer, (server) => server.register('Feed', feed));
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    for (const method of [
      'emit',
      'on',
      'removeAllListeners',
      'setMaxListeners',
      'toString',
      'hasOwnProperty',
      'constructor',
      '__proto__',
    ]) {
      await expect(client.call('Feed', method, 'reset')).rejects.toThrow(
        `can not find method "${method}" of service "Feed"`,
      );
    }
    expect(fired).toEqual([]);
    expect(feed.listenerCount('reset')).toBe(1);
    await expect(client.call('Feed', 'Latest')).resolves.toBe('news');
  });

  it('metadata travels both ways', async () => {
    const { address } = await startServer(defer, (server) =>
      server.register('Meta', {
        Copy(_args: unknown, ctx: CallContext) {
          for (const [key, value] of ctx.metadata) ctx.replyMetadata.set(`echo-${key}`, value);
          return 'ok';
        },
      }),
    );
    const client = startClient(defer, address);
    const reply = await client.callWithMetadata('Meta', 'Copy', null, { metadata: { k: 'v', ü: 'ß' } });
    expect(reply.data).toBe('ok');
    expect(Object.fromEntries(reply.metadata)).toEqual({ 'echo-k': 'v', 'echo-ü': 'ß' });
  });

  it('an error reply keeps the metadata the handler set', async () => {
    const { address } = await startServer(defer, (server) =>
      server.register('Meta', {
        Fail(_args: unknown, ctx: CallContext) {
          ctx.replyMetadata.set('retry-after', '5');
          throw new Error('busy');
        },
      }),
    );
    const client = startClient(defer, address);
    const error = (await client.call('Meta', 'Fail').catch((e: unknown) => e)) as ServiceError;
    expect(error.message).toBe('busy');
    expect((error.details.metadata as Map<string, string>).get('retry-after')).toBe('5');
  });

  it('compression both ways, above the threshold only', async () => {
    const seen: number[] = [];
    const { address } = await startServer(defer, (server) =>
      server.register('Big', {
        Echo(args: string) {
          seen.push(args.length);
          return args;
        },
      }),
    );
    const client = startClient(defer, address, { compress: true, serializeType: SerializeType.JSON });
    const big = 'x'.repeat(50_000);
    await expect(client.call('Big', 'Echo', big)).resolves.toBe(big);
    await expect(client.call('Big', 'Echo', 'small')).resolves.toBe('small');
    expect(seen).toEqual([50_000, 5]);
  });

  it('oneway calls complete without a reply and still run', async () => {
    const calls: unknown[] = [];
    const { address } = await startServer(defer, (server) =>
      server.register('Log', {
        Write(args: unknown) {
          calls.push(args);
        },
        Count: () => calls.length,
      }),
    );
    const client = startClient(defer, address);
    await expect(client.call('Log', 'Write', 'a', { oneway: true })).resolves.toBeUndefined();
    await expect(client.call('Log', 'Count')).resolves.toBe(1);
    expect(calls).toEqual(['a']);
  });

  it('server pushes reach pushes$ with their decoded data', async () => {
    const { address } = await startServer(defer, (server) =>
      server.register('Chat', {
        Join(args: { name: string }, ctx: CallContext) {
          ctx.push('Chat', 'Welcome', { hello: args.name }, { metadata: { room: '1' } });
          ctx.connection.push('Chat', 'Welcome', { hello: 'again' });
          return 'joined';
        },
      }),
    );
    const connection = await openConnection(defer, address);
    const pushes = firstValueFrom(connection.pushes$.pipe(take(2), toArray()));
    await expect(firstValueFrom(connection.call$('Chat', 'Join', { name: 'ada' }))).resolves.toBe('joined');
    const [first, second] = await pushes;
    expect(first).toMatchObject({ service: 'Chat', method: 'Welcome', data: { hello: 'ada' } });
    expect(first?.metadata.get('room')).toBe('1');
    expect(second?.data).toEqual({ hello: 'again' });
  });

  it('heartbeats are echoed and measured', async () => {
    const { address } = await arithServer();
    const connection = await openConnection(defer, address);
    const rtt = await firstValueFrom(connection.ping$());
    expect(rtt).toBeGreaterThanOrEqual(0);
    const beats = await firstValueFrom(connection.heartbeat$({ intervalMs: 5 }).pipe(take(3), toArray()));
    expect(beats).toHaveLength(3);
  });

  it('callWithMetadata$ through the observable API is cold: nothing is sent until subscribed', async () => {
    let calls = 0;
    const { address } = await startServer(defer, (server) =>
      server.register('Counter', { Hit: () => ++calls }),
    );
    const connection = await openConnection(defer, address);
    const call$ = connection.call$('Counter', 'Hit');
    await expect(firstValueFrom(connection.call$('Counter', 'Hit'))).resolves.toBe(1);
    await expect(firstValueFrom(call$)).resolves.toBe(2);
    await expect(firstValueFrom(call$)).resolves.toBe(3);
  });

  it('10,000 concurrent calls on one connection each get their own reply', async () => {
    const { address } = await startServer(defer, (server) =>
      server.register('Id', {
        async Echo(n: number) {
          if (n % 3 === 0) await Promise.resolve();
          return n;
        },
      }),
    );
    const connection = await openConnection(defer, address);
    const replies = await Promise.all(
      Array.from({ length: 10_000 }, (_, n) => firstValueFrom(connection.call$<number>('Id', 'Echo', n))),
    );
    expect(replies).toEqual(Array.from({ length: 10_000 }, (_, n) => n));
  });

  it('interceptors wrap every call, the first added outermost', async () => {
    const order: string[] = [];
    const { address } = await startServer(defer, (server) => {
      server.register('Arith', new Arith());
      for (const name of ['outer', 'inner']) {
        server.use((next) => (call) => {
          order.push(`${name}>${call.method}`);
          return new Observable((subscriber) =>
            next(call).subscribe({
              next: (value) => {
                order.push(`${name}<`);
                subscriber.next(value);
              },
              error: (error) => subscriber.error(error),
              complete: () => subscriber.complete(),
            }),
          );
        });
      }
    });
    const client = startClient(defer, address);
    await client.call('Arith', 'Mul', { A: 1, B: 2 });
    expect(order).toEqual(['outer>Mul', 'inner>Mul', 'inner<', 'outer<']);
  });

  it('an interceptor can refuse a call with an error reply', async () => {
    const { address } = await startServer(defer, (server) => {
      server.register('Arith', new Arith());
      server.use(() => () => throwError(() => new Error('quota exceeded')));
    });
    const client = startClient(defer, address);
    await expect(client.call('Arith', 'Mul', { A: 1, B: 2 })).rejects.toThrow('quota exceeded');
  });

  it('the rpcx dialect (magic 0x08, __rpcx_error__) works end to end', async () => {
    const { address } = await arithServer();
    const client = startClient(defer, address, { dialect: RPCX });
    await expect(client.call('Arith', 'Mul', { A: 7, B: 8 })).resolves.toEqual({ C: 56 });
    await expect(client.call('Arith', 'Div', { A: 7, B: 0 })).rejects.toThrow('divide by zero');
  });

  it('a server-side deadline is an error reply marked DEADLINE_EXCEEDED, which the client raises as such', async () => {
    const { address } = await startServer(defer, (server) =>
      server.register('Slow', {
        Never: (_args: unknown, ctx: CallContext) =>
          new Promise((r) => ctx.signal.addEventListener('abort', r)),
      }),
    );
    const peer = await rawClient(address);
    defer(() => peer.close());
    peer.send(
      request({
        servicePath: 'Slow',
        serviceMethod: 'Never',
        metadata: new Map([['__ServerTimeout', '20']]),
      }),
    );
    const reply = await peer.frame(0);
    expect(reply.status).toBe(1);
    expect(reply.metadata.get('__phobos_code')).toBe('DEADLINE_EXCEEDED');
    expect(reply.metadata.get('__mrpc_error__')).toMatch(/deadline exceeded/);

    const server = await rawServer((raw) => {
      raw.socket.on('data', () => {
        const [message] = raw.received.splice(0);
        if (!message) return;
        raw.send({
          ...message,
          messageType: 1,
          status: 1,
          payload: new Uint8Array(),
          metadata: reply.metadata,
        });
      });
    });
    defer(() => server.close());
    const client = startClient(defer, server.address);
    const error = await client.call('Slow', 'Never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).message).toMatch(/deadline exceeded/);
  });
});
