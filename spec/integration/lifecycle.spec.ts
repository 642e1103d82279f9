import { firstValueFrom, lastValueFrom, map, type Subscription, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type AuthInfo,
  type Authorize,
  type CallContext,
  CancelledError,
  type Connection,
  ConnectionClosedError,
  ConnectionError,
  type ConnectionState,
  connect,
  DeadlineExceededError,
  RpcError,
  SerializeType,
  Server,
  type ServerConnection,
  silentLogger,
  UnauthenticatedError,
} from '../../lib/index.js';
import { encodeMessage } from '../../lib/protocol/index.js';
import { blocking } from '../support/blocking.js';
import { deferred, turns } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { rawClient, rawServer, request } from '../support/raw-peer.js';
import { openConnection, startClient, startServer } from '../support/servers.js';
import { rejection } from '../support/thrown.js';
import { advanceTo } from '../support/virtual-time.js';

const { defer } = trackHandles();

/** Opens a connection with `connect` and hands back its subscription and how it ended. */
function connectTo(address: string) {
  const opened = deferred<Connection>();
  const ended = deferred<unknown>();
  const subscription: Subscription = connect(address).subscribe({
    next: (connection) => opened.resolve(connection),
    error: (error: unknown) => {
      opened.reject(error);
      ended.resolve(error);
    },
    complete: () => ended.resolve('completed'),
  });
  defer(() => subscription.unsubscribe());
  return { connection: opened.promise, ended: ended.promise, subscription };
}

describe('deadlines', () => {
  it('timeout - the call fails with DeadlineExceededError and the handler sees __ServerTimeout abort its signal', async () => {
    const slow = blocking();
    const { address } = await startServer(defer, (server) => server.register('Slow', { Wait: slow.handler }));
    const client = startClient(defer, address);
    const before = Date.now();
    const error = await rejection(client.call('Slow', 'Wait', null, { timeoutMs: 50 }));
    expect(error).toBeInstanceOf(DeadlineExceededError);
    const ctx = await slow.started;
    expect(ctx.metadata.get('__ServerTimeout')).toBe('50');
    expect(ctx.deadline).toBeTypeOf('number');
    expect(ctx.deadline).toBeGreaterThanOrEqual(before + 50);
    expect(ctx.deadline).toBeLessThanOrEqual(Date.now() + 50);
    const reason = await slow.aborted;
    expect(reason).toBeInstanceOf(DeadlineExceededError);
    expect((reason as DeadlineExceededError).message).toMatch(/__ServerTimeout/);
    expect(ctx.signal.aborted).toBe(true);
  });
});

describe('cancellation', () => {
  // Aborting a promise call's AbortSignal: spec/errors/documented-errors.spec.ts.
  it('cancel - unsubscribing from call$ aborts the handler signal with CancelledError', async () => {
    const slow = blocking();
    const { address } = await startServer(defer, (server) => server.register('Slow', { Wait: slow.handler }));
    const connection = await openConnection(defer, address);
    const subscription = connection.call$('Slow', 'Wait').subscribe({
      error: (error: unknown) => expect.unreachable(`the call errored: ${String(error)}`),
    });
    await slow.started;
    subscription.unsubscribe();
    expect(await slow.aborted).toBeInstanceOf(CancelledError);
    expect(connection.pendingCount).toBe(0);
  });

  it('cancel - a signal already aborted rejects without sending the request', async () => {
    let calls = 0;
    const { address } = await startServer(defer, (server) =>
      server.register('Counter', {
        Hit: () => ++calls,
      }),
    );
    const client = startClient(defer, address);
    const error = await rejection(client.call('Counter', 'Hit', null, { signal: AbortSignal.abort() }));
    expect(error).toBeInstanceOf(CancelledError);
    expect(calls).toBe(0);
    // Requests on one connection are served in order: had the first been sent, it would count.
    await expect(client.call('Counter', 'Hit')).resolves.toBe(1);
    expect(calls).toBe(1);
  });
});

describe('dropped connections', () => {
  it('connection dropped mid-call - pending calls, connect() and later calls fail with ConnectionClosedError', async () => {
    const raw = await rawServer((peer) => {
      void peer.frame(2).then(
        () => peer.socket.destroy(),
        () => {},
      );
    });
    defer(() => raw.close());
    const { connection: opened, ended } = connectTo(raw.address);
    const connection = await opened;
    const states: ConnectionState[] = [];
    connection.state$.subscribe((state) => states.push(state));
    const errors = await Promise.all(
      [1, 2, 3].map((n) => rejection(firstValueFrom(connection.call$('Any', 'Thing', n)))),
    );
    for (const error of errors) expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(await ended).toBeInstanceOf(ConnectionClosedError);
    expect(states).toEqual(['open', 'closed']);
    expect(connection.isOpen).toBe(false);
    let late: unknown;
    connection.call$('Any', 'Thing', 4).subscribe({ error: (error: unknown) => (late = error) });
    // Errors at once: during subscribe, before anything is sent.
    expect(late).toBeInstanceOf(ConnectionClosedError);
  });

  it('shutdown with graceMs 0 aborts a stuck handler and the call gets an error reply saying so', async () => {
    const slow = blocking();
    const { server, address } = await startServer(defer, (s) => s.register('Slow', { Wait: slow.handler }));
    const client = startClient(defer, address);
    const call = rejection(client.call('Slow', 'Wait'));
    await slow.started;
    await server.shutdown({ graceMs: 0 });
    const reason = await slow.aborted;
    expect(reason).toBeInstanceOf(RpcError);
    expect(reason).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/shut down/) });
    // The aborted call gets an error reply before the server closes the connection; it is marked
    // UNAVAILABLE (not the handler's failure), so the client raises a retryable ConnectionError.
    const error = await call;
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('UNAVAILABLE');
    expect((error as ConnectionError).message).toMatch(/shut down before the call finished/);
  });

  it('Client reconnects - after its connection dropped, the next call opens a new connection', async () => {
    const slow = blocking();
    const first = new Server({ logger: silentLogger });
    first.register('Where', { Am: () => 'first', Stuck: slow.handler });
    const address = await first.listen('tcp@127.0.0.1:0');
    defer(() => first.shutdown({ graceMs: 0 }));
    const client = startClient(defer, address);
    await expect(client.call('Where', 'Am')).resolves.toBe('first');
    const stuck = rejection(client.call('Where', 'Stuck'));
    await slow.started;
    await first.shutdown({ graceMs: 0 });
    // The pending call was told the server shut down; the server closed the connection after.
    expect(await stuck).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/shut down/) });

    const second = new Server({ logger: silentLogger });
    second.register('Where', { Am: () => 'second' });
    await expect(second.listen(address)).resolves.toBe(address);
    defer(() => second.shutdown({ graceMs: 0 }));
    await expect(client.call('Where', 'Am')).resolves.toBe('second');
    expect(second.connectionCount).toBe(1);
  });
});

describe('auth', () => {
  async function authServer(authorize: Authorize) {
    return startServer(defer, (server) => server.register('Vault', { Open: () => 'opened' }), { authorize });
  }

  it('auth - the right token gets replies; the token, call and peer are given to authorize', async () => {
    const seen: Array<{ token: string | undefined; info: AuthInfo }> = [];
    const { address } = await authServer((token, info) => {
      seen.push({ token, info });
      return token === 'secret';
    });
    const client = startClient(defer, address, { auth: 'secret' });
    await expect(client.call('Vault', 'Open', null, { metadata: { tenant: 't1' } })).resolves.toBe('opened');
    await expect(client.call('Vault', 'Open')).resolves.toBe('opened');
    // The heartbeat sent as the connection opens shows the token first, with no service named.
    expect(seen.map(({ token, info }) => [token, info.service, info.method])).toEqual([
      ['secret', '', ''],
      ['secret', 'Vault', 'Open'],
      ['secret', 'Vault', 'Open'],
    ]);
    const first = seen[1];
    expect(first?.token).toBe('secret');
    expect(first?.info).toMatchObject({ service: 'Vault', method: 'Open' });
    expect(first?.info.metadata.get('__AUTH')).toBe('secret');
    expect(first?.info.metadata.get('tenant')).toBe('t1');
    expect(first?.info.remoteAddress).toMatch(/^tcp@127\.0\.0\.1:\d+$/);
  });

  it('auth - a wrong token gets an UnauthenticatedError, then the server closes the connection', async () => {
    let served = 0;
    const { address } = await startServer(
      defer,
      (server) => server.register('Vault', { Open: () => ++served }),
      { authorize: (token) => token === 'secret' },
    );
    const connection = await openConnection(defer, address, { auth: 'wrong' });
    const error = await rejection(firstValueFrom(connection.call$('Vault', 'Open')));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect((error as UnauthenticatedError).message).toMatch(/unauthorized/);
    await expect(lastValueFrom(connection.state$)).resolves.toBe('closed');
    expect(served).toBe(0);
  });

  it('auth - a refusal closes the connection: a call running on it fails with UnauthenticatedError too, and its handler is aborted with one', async () => {
    const slow = blocking();
    const { address } = await startServer(
      defer,
      (server) => server.register('Vault', { Wait: slow.handler, Admin: () => 'never run' }),
      { authorize: (token, info) => token === 'secret' && info.method !== 'Admin' },
    );
    const connection = await openConnection(defer, address, { auth: 'secret' });
    const running = rejection(firstValueFrom(connection.call$('Vault', 'Wait')));
    await slow.started;
    const refused = await rejection(firstValueFrom(connection.call$('Vault', 'Admin')));
    expect(refused).toBeInstanceOf(UnauthenticatedError);
    expect((refused as UnauthenticatedError).message).toBe('unauthorized: the __AUTH token was refused');
    const closed = await running;
    expect(closed).toBeInstanceOf(UnauthenticatedError);
    expect(closed).toMatchObject({ code: 'UNAUTHENTICATED', message: 'connection closed: unauthorized' });
    expect(await slow.aborted).toBeInstanceOf(UnauthenticatedError);
    await expect(lastValueFrom(connection.state$)).resolves.toBe('closed');
  });

  it('auth - a client with no token is refused', async () => {
    const { address } = await authServer((token) => token === 'secret');
    const client = startClient(defer, address);
    await expect(client.call('Vault', 'Open')).rejects.toThrow(UnauthenticatedError);
  });

  it('auth - heartbeats of an unauthenticated connection are answered', async () => {
    const { address } = await authServer((token) => token === 'secret');
    const connection = await openConnection(defer, address);
    await expect(firstValueFrom(connection.ping$())).resolves.toBeGreaterThanOrEqual(0);
    await expect(firstValueFrom(connection.ping$())).resolves.toBeGreaterThanOrEqual(0);
    expect(connection.isOpen).toBe(true);
  });

  it('auth - an async authorize grants and refuses', async () => {
    const { address } = await authServer(async (token) => {
      await Promise.resolve();
      return token === 'secret';
    });
    const good = startClient(defer, address, { auth: 'secret' });
    const bad = startClient(defer, address, { auth: 'wrong' });
    await expect(good.call('Vault', 'Open')).resolves.toBe('opened');
    const error = await rejection(bad.call('Vault', 'Open'));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect((error as UnauthenticatedError).message).toMatch(/unauthorized/);
  });

  it.each([
    [
      'throws',
      (): boolean => {
        throw new Error('token store unavailable');
      },
    ],
    ['rejects', (): Promise<boolean> => Promise.reject(new Error('token store unavailable'))],
  ])('auth - an authorize that %s refuses with its message', async (_name, authorize) => {
    const { address } = await authServer(authorize);
    const connection = await openConnection(defer, address, { auth: 'secret' });
    const error = await rejection(firstValueFrom(connection.call$('Vault', 'Open')));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect((error as UnauthenticatedError).message).toMatch(/^unauthorized: .*token store unavailable/);
    await expect(lastValueFrom(connection.state$)).resolves.toBe('closed');
  });

  it.each([
    [
      'a thenable whose then throws',
      () => ({
        // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is what this test feeds the server.
        then() {
          throw new Error('then threw');
        },
      }),
    ],
    [
      'a revoked proxy',
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      },
    ],
    ['a string', () => 'yes'],
    ['a promise of 1', () => Promise.resolve(1)],
  ])('auth - an authorize that returns %s refuses, and the server goes on', async (_name, verdict) => {
    const { address } = await authServer(verdict as unknown as Authorize);
    const connection = await openConnection(defer, address, { auth: 'secret' });
    const error = await rejection(firstValueFrom(connection.call$('Vault', 'Open')));
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect((error as UnauthenticatedError).message).toMatch(/^unauthorized/);
    await expect(lastValueFrom(connection.state$)).resolves.toBe('closed');
    const again = await openConnection(defer, address, { auth: 'secret' });
    await expect(firstValueFrom(again.ping$())).resolves.toBeGreaterThanOrEqual(0);
  });
});

describe('shutdown', () => {
  it('shutdown drains - calls in flight finish, new calls and connections are refused', async () => {
    const gate = deferred();
    const allStarted = deferred();
    let started = 0;
    const { server, address } = await startServer(defer, (s) =>
      s.register('Work', {
        async Do(n: number) {
          if (++started === 20) allStarted.resolve();
          await gate.promise;
          return n * 10;
        },
      }),
    );
    const connection = await openConnection(defer, address);
    const calls = Array.from({ length: 20 }, (_, n) =>
      firstValueFrom(connection.call$<number>('Work', 'Do', n)),
    );
    await allStarted.promise;

    const shutdown = server.shutdown({ graceMs: 10_000 });
    const refused = await rejection(firstValueFrom(connection.call$('Work', 'Do', 99)));
    expect(refused).toBeInstanceOf(ConnectionError);
    expect((refused as ConnectionError).code).toBe('UNAVAILABLE');
    expect((refused as ConnectionError).message).toMatch(/shutting down/);
    const latecomer = startClient(defer, address);
    expect(await rejection(latecomer.call('Work', 'Do', 100))).toBeInstanceOf(ConnectionError);

    gate.resolve();
    await expect(Promise.all(calls)).resolves.toEqual(Array.from({ length: 20 }, (_, n) => n * 10));
    await expect(shutdown).resolves.toBeUndefined();
    expect(server.shutdown()).toBe(shutdown);
    expect(started).toBe(20);
    // As documented: listen() on a server that shut down rejects with ConnectionError.
    const again = await rejection(server.listen('tcp@127.0.0.1:0'));
    expect(again).toBeInstanceOf(ConnectionError);
    expect(again).toMatchObject({
      code: 'UNAVAILABLE',
      message: 'the server is shut down; create a new one',
    });
  });

  it('shutdown grace runs on the server’s scheduler: still waiting at 999 virtual ms, done at 1,000', async () => {
    const slow = blocking();
    const scheduler = new VirtualTimeScheduler();
    const { server, address } = await startServer(defer, (s) => s.register('Slow', { Wait: slow.handler }), {
      scheduler,
    });
    const client = startClient(defer, address);
    const call = rejection(client.call('Slow', 'Wait'));
    const ctx = await slow.started;
    let done = false;
    const shutdown = server.shutdown({ graceMs: 1_000 }).then(() => {
      done = true;
    });
    // The grace starts once the listeners are closed and the registries told.
    const graceScheduled = (): boolean => scheduler.actions.some((action) => action.delay === 1_000);
    for (let turn = 0; turn < 200 && !graceScheduled(); turn++) await turns(1);
    expect(graceScheduled()).toBe(true);
    const from = scheduler.now();
    advanceTo(scheduler, from + 999);
    await turns(5);
    expect(done).toBe(false);
    expect(ctx.signal.aborted).toBe(false);
    advanceTo(scheduler, from + 1_000);
    await shutdown;
    expect(ctx.signal.aborted).toBe(true);
    expect(await call).toBeInstanceOf(RpcError);
  });

  it('shutdown grace expires - the shutdown resolves and the stuck handler signal aborts', async () => {
    const slow = blocking();
    const { server, address } = await startServer(defer, (s) => s.register('Slow', { Wait: slow.handler }));
    const client = startClient(defer, address);
    const call = rejection(client.call('Slow', 'Wait'));
    const ctx = await slow.started;
    await expect(server.shutdown({ graceMs: 20 })).resolves.toBeUndefined();
    expect(ctx.signal.aborted).toBe(true);
    expect(await slow.aborted).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/grace 20 ms/),
    });
    const error = await call;
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('UNAVAILABLE');
    expect((error as ConnectionError).message).toMatch(/grace 20 ms/);
  });
});

describe('flow control', () => {
  it('maxConcurrentRequests - no more than 2 handlers run at once on a connection', async () => {
    const gate = deferred();
    const twoRunning = deferred();
    let running = 0;
    let maxRunning = 0;
    let started = 0;
    const { address } = await startServer(
      defer,
      (s) =>
        s.register('Work', {
          async Do(n: number) {
            started++;
            running++;
            maxRunning = Math.max(maxRunning, running);
            if (running === 2) twoRunning.resolve();
            await gate.promise;
            running--;
            return n;
          },
        }),
      { maxConcurrentRequests: 2 },
    );
    const connection = await openConnection(defer, address);
    const calls = Array.from({ length: 10 }, (_, n) =>
      firstValueFrom(connection.call$<number>('Work', 'Do', n)),
    );
    await twoRunning.promise;
    await turns(10);
    expect(started).toBe(2);
    gate.resolve();
    await expect(Promise.all(calls)).resolves.toEqual(Array.from({ length: 10 }, (_, n) => n));
    expect(started).toBe(10);
    expect(maxRunning).toBe(2);
  });

  it('backpressure - a reader that does not read stops the server from starting more calls', async () => {
    const MiB = 1 << 20;
    const reply = new Uint8Array(MiB).fill(7);
    const firstInvocation = deferred();
    let invocations = 0;
    const { address } = await startServer(defer, (s) =>
      s.register('Big', {
        Get() {
          if (++invocations === 1) firstInvocation.resolve();
          return reply;
        },
      }),
    );
    const peer = await rawClient(address);
    defer(() => peer.close());
    peer.socket.pause();
    const requests = Array.from({ length: 64 }, (_, i) =>
      encodeMessage(
        request({
          seq: BigInt(i + 1),
          servicePath: 'Big',
          serviceMethod: 'Get',
          serializeType: SerializeType.Raw,
          payload: new Uint8Array(0),
        }),
      ),
    );
    peer.send(Buffer.concat(requests));
    await firstInvocation.promise;
    await turns(20);
    expect(invocations).toBeLessThan(64);

    peer.socket.resume();
    await peer.frame(63);
    const seqs = peer.received.map((frame) => Number(frame.seq)).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    for (const frame of peer.received) {
      expect(frame.status).toBe(0);
      expect(frame.payload.length).toBe(MiB);
    }
    expect(invocations).toBe(64);
  });

  it('oneway - a oneway request gets no reply; the next request reply is the first frame back', async () => {
    const log: string[] = [];
    const { address } = await startServer(defer, (s) =>
      s.register('Log', {
        Write(text: string) {
          log.push(text);
        },
        Read: () => log.join(','),
      }),
    );
    const peer = await rawClient(address);
    defer(() => peer.close());
    peer.send(
      request({
        seq: 1n,
        oneway: true,
        servicePath: 'Log',
        serviceMethod: 'Write',
        payload: Buffer.from('"a"'),
      }),
    );
    peer.send(request({ seq: 2n, servicePath: 'Log', serviceMethod: 'Read', payload: Buffer.from('null') }));
    const first = await peer.frame(0);
    expect(first).toMatchObject({ seq: 2n, messageType: 1, status: 0 });
    expect(JSON.parse(Buffer.from(first.payload).toString())).toBe('a');
    expect(log).toEqual(['a']);
  });
});

describe('server pushes', () => {
  it('a push through a stored ctx.connection reaches the client after the call; none after it disconnects', async () => {
    const stored = deferred<ServerConnection>();
    const { address } = await startServer(defer, (s) =>
      s.register('News', {
        Subscribe(_args: unknown, ctx: CallContext) {
          stored.resolve(ctx.connection);
          return 'subscribed';
        },
      }),
    );
    const connection = await openConnection(defer, address);
    await expect(firstValueFrom(connection.call$('News', 'Subscribe'))).resolves.toBe('subscribed');
    const serverSide = await stored.promise;
    const push = firstValueFrom(connection.pushes$);
    expect(serverSide.push('News', 'Flash', { headline: 'later' })).toBe(true);
    await expect(push).resolves.toMatchObject({
      service: 'News',
      method: 'Flash',
      data: { headline: 'later' },
    });

    expect(serverSide.isOpen).toBe(true);
    connection.close();
    const emitted = await firstValueFrom(serverSide.closed$.pipe(map(() => true)), { defaultValue: false });
    expect(emitted).toBe(true);
    expect(serverSide.isOpen).toBe(false);
    expect(serverSide.push('News', 'Flash', { headline: 'too late' })).toBe(false);
  });
});
