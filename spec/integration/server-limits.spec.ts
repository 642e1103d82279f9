import { firstValueFrom, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type CallContext,
  ProtocolError,
  ResourceExhaustedError,
  type Server,
  type ServerOptions,
} from '../../lib/index.js';
import { encodeMessage, type Message } from '../../lib/protocol/index.js';
import { recordingLogger } from '../support/bad-input-logger.js';
import { type Deferred, deferred, turns } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { type RawPeer, rawClient, rawServer, request } from '../support/raw-peer.js';
import { openConnection, startServer } from '../support/servers.js';
import { advanceTo } from '../support/virtual-time.js';

const { defer } = trackHandles();

const KiB = 1024;
const ERROR_KEY = '__mrpc_error__';

/** Waits, a turn of the event loop at a time, until `condition` holds (no timer involved). */
async function waitFor(condition: () => boolean, what: string, maxTurns = 5_000): Promise<void> {
  for (let turn = 0; turn < maxTurns; turn++) {
    if (condition()) return;
    await turns(1);
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** A raw peer connected to `address`, closed by the test's cleanup. */
async function peerOf(address: string): Promise<RawPeer> {
  const peer = await rawClient(address);
  defer(() => peer.close());
  return peer;
}

/** Whether the peer's socket closed (after letting pending I/O run). */
async function isClosed(peer: RawPeer): Promise<boolean> {
  let closed = false;
  void peer.closed.then(() => {
    closed = true;
  });
  await turns(10);
  return closed;
}

interface Limited {
  server: Server;
  address: string;
  scheduler: VirtualTimeScheduler;
  log: ReturnType<typeof recordingLogger>;
  /** Slow.Wait calls started, each waiting for its release. */
  waits: Array<{ ctx: CallContext; release: Deferred<void> }>;
  /** Resolves when Push.Flood found the client not reading (push() returned false). */
  stalled: Deferred<number>;
}

/** A server on virtual time with Echo.Say, Slow.Wait and Push.Flood, and a recording logger. */
async function limitedServer(options: ServerOptions = {}): Promise<Limited> {
  const scheduler = new VirtualTimeScheduler();
  const log = recordingLogger();
  const waits: Limited['waits'] = [];
  const stalled = deferred<number>();
  const { server, address } = await startServer(
    defer,
    (s) =>
      s
        .register('Echo', { Say: (args: unknown) => args })
        .register('Slow', {
          Wait(_args: unknown, ctx: CallContext) {
            const release = deferred();
            waits.push({ ctx, release });
            return release.promise.then(() => 'done');
          },
        })
        .register('Push', {
          Flood: (args: { bytes: number }, ctx: CallContext) => flood(ctx, args.bytes, stalled),
        }),
    { scheduler, logger: log.logger, ...options },
  );
  return { server, address, scheduler, log, waits, stalled };
}

/**
 * Pushes `bytes`-byte chunks, a turn of the event loop at a time, until a whole turn takes none
 * (the client reads nothing and the kernel's buffers are full too); resolves `stalled` with the
 * number pushed.
 */
async function flood(ctx: CallContext, bytes: number, stalled: Deferred<number>): Promise<number> {
  const chunk = new Uint8Array(bytes);
  let pushed = 0;
  for (;;) {
    let accepted = 0;
    while (ctx.push('Push', 'Chunk', chunk, { serializeType: 0 })) accepted += 1;
    pushed += accepted;
    if (accepted === 0) break;
    await turns(1);
  }
  stalled.resolve(pushed);
  return pushed;
}

/** The first `bytes` bytes of a frame of `total` payload bytes. */
function partialFrame(total: number, bytes: number, seq = 1n): Buffer {
  return encodeMessage(request({ seq, serializeType: 0, payload: new Uint8Array(total) })).subarray(0, bytes);
}

describe('idleTimeoutMs', () => {
  it('idleTimeoutMs - a connection with no frame and no call is closed after it, and nothing is logged', async () => {
    const { server, address, scheduler, log } = await limitedServer({ idleTimeoutMs: 1_000 });
    const peer = await peerOf(address);
    await waitFor(() => server.connectionCount === 1, 'the connection');
    advanceTo(scheduler, 999);
    expect(await isClosed(peer)).toBe(false);
    advanceTo(scheduler, 1_000);
    await peer.closed;
    expect(log.logs).toEqual([]);
  });

  it('idleTimeoutMs - every frame restarts it, and a call in flight holds it off however long', async () => {
    const { server, address, scheduler, waits } = await limitedServer({ idleTimeoutMs: 1_000 });
    const peer = await peerOf(address);
    await waitFor(() => server.connectionCount === 1, 'the connection');
    advanceTo(scheduler, 600);
    peer.send(
      request({ heartbeat: true, servicePath: '', serviceMethod: '', seq: 1n, payload: new Uint8Array() }),
    );
    await peer.frame(0);
    advanceTo(scheduler, 1_500);
    expect(await isClosed(peer)).toBe(false);
    peer.send(request({ seq: 2n, servicePath: 'Slow', serviceMethod: 'Wait', payload: Buffer.from('{}') }));
    await waitFor(() => waits.length === 1, 'the slow call');
    advanceTo(scheduler, 9_000);
    expect(await isClosed(peer)).toBe(false);
    waits[0]?.release.resolve();
    await peer.frame(1);
    advanceTo(scheduler, 9_999);
    expect(await isClosed(peer)).toBe(false);
    advanceTo(scheduler, 10_000);
    await peer.closed;
  });
});

describe('frameTimeoutMs', () => {
  it('frameTimeoutMs - a frame that does not arrive whole within it is cut off, with the reason logged', async () => {
    const { server, address, scheduler, log } = await limitedServer({ frameTimeoutMs: 2_000 });
    const peer = await peerOf(address);
    peer.send(partialFrame(100, 10));
    await waitFor(() => server.bufferedBytes === 10, 'the partial frame to be read');
    advanceTo(scheduler, 1_999);
    expect(await isClosed(peer)).toBe(false);
    advanceTo(scheduler, 2_000);
    await peer.closed;
    const entry = await log.logged(/did not arrive whole/);
    expect(entry.message).toMatch(/a frame did not arrive whole within frameTimeoutMs \(2000 ms\)/);
    expect(entry.details).toMatchObject({ timeout: 'frame' });
    await waitFor(() => server.bufferedBytes === 0, 'the buffer to be released');
  });

  it('frameTimeoutMs - a peer that reads none of its replies is cut off once its output stalls that long', async () => {
    const { server, address, scheduler, log, stalled } = await limitedServer({
      frameTimeoutMs: 2_000,
      maxPushQueueBytes: 64 * KiB,
    });
    const peer = await peerOf(address);
    peer.socket.pause();
    peer.send(
      request({ servicePath: 'Push', serviceMethod: 'Flood', payload: Buffer.from('{"bytes":65536}') }),
    );
    expect(await stalled.promise).toBeGreaterThan(0);
    advanceTo(scheduler, 1_999);
    await turns(10);
    expect(server.connectionCount).toBe(1);
    advanceTo(scheduler, 2_000);
    await waitFor(() => server.connectionCount === 0, 'the server to close the connection');
    expect((await log.logged(/read none of its replies/)).message).toMatch(/frameTimeoutMs \(2000 ms\)/);
  });
});

describe('authTimeoutMs', () => {
  const authorize = (token: string | undefined) => token === 'secret';
  const heartbeat = (seq: bigint, metadata = new Map<string, string>()): Message =>
    request({
      heartbeat: true,
      servicePath: '',
      serviceMethod: '',
      seq,
      metadata,
      payload: new Uint8Array(),
    });

  it('authTimeoutMs - heartbeats without a token do not keep an unauthenticated connection', async () => {
    const { address, scheduler, log } = await limitedServer({ authorize, authTimeoutMs: 1_000 });
    const peer = await peerOf(address);
    peer.send(heartbeat(1n));
    await peer.frame(0);
    advanceTo(scheduler, 900);
    peer.send(heartbeat(2n, new Map([['__AUTH', 'wrong']])));
    await peer.frame(1);
    advanceTo(scheduler, 1_000);
    await peer.closed;
    expect((await log.logged(/no token/)).message).toMatch(/within authTimeoutMs \(1000 ms\)/);
  });

  it('authTimeoutMs - an accepted token, on a call or on a heartbeat, keeps the connection', async () => {
    const { server, address, scheduler } = await limitedServer({ authorize, authTimeoutMs: 1_000 });
    const caller = await peerOf(address);
    caller.send(request({ metadata: new Map([['__AUTH', 'secret']]) }));
    expect(await caller.frame(0)).toMatchObject({ status: 0 });
    const beating = await peerOf(address);
    beating.send(heartbeat(1n, new Map([['__AUTH', 'secret']])));
    await beating.frame(0);
    // The client sends a heartbeat with its token as soon as it connects.
    const connection = await openConnection(defer, address, { auth: 'secret' });
    await waitFor(() => server.connectionCount === 3, 'three connections');
    await firstValueFrom(connection.ping$());
    advanceTo(scheduler, 5_000);
    expect(await isClosed(caller)).toBe(false);
    expect(await isClosed(beating)).toBe(false);
    expect(connection.isOpen).toBe(true);
  });
});

describe('maxConnections', () => {
  it('maxConnections - a connection past it is closed at once, and the others are served', async () => {
    const { server, address, log } = await limitedServer({ maxConnections: 2 });
    const first = await peerOf(address);
    const second = await peerOf(address);
    await waitFor(() => server.connectionCount === 2, 'two connections');
    const third = await peerOf(address);
    await third.closed;
    expect((await log.logged(/maxConnections/)).message).toMatch(/2 connections are open/);
    for (const peer of [first, second]) {
      peer.send(request({ seq: 9n }));
      expect(await peer.frame(0)).toMatchObject({ seq: 9n, status: 0 });
    }
    expect(server.connectionCount).toBe(2);
  });
});

describe('maxConcurrentRequests and maxQueuedRequests', () => {
  const slow = (seq: bigint): Message =>
    request({ seq, servicePath: 'Slow', serviceMethod: 'Wait', payload: Buffer.from('{}') });

  it('past maxConcurrentRequests requests wait; past maxQueuedRequests they are answered busy (RESOURCE_EXHAUSTED)', async () => {
    const { address, waits } = await limitedServer({ maxConcurrentRequests: 2, maxQueuedRequests: 1 });
    const connection = await openConnection(defer, address, { serializeType: 1 });
    const calls = [1, 2, 3, 4].map(() =>
      firstValueFrom(connection.call$('Slow', 'Wait', {})).catch((error: unknown) => error),
    );
    const busy = await calls[3];
    expect(busy).toBeInstanceOf(ResourceExhaustedError);
    expect((busy as ResourceExhaustedError).code).toBe('RESOURCE_EXHAUSTED');
    expect((busy as ResourceExhaustedError).message).toMatch(
      /^server busy: 2 calls run \(maxConcurrentRequests 2\) and 1 wait \(maxQueuedRequests 1\)/,
    );
    expect(waits).toHaveLength(2);
    for (let n = 0; n < 3; n++) {
      await waitFor(() => waits.length > n, `call ${n + 1} to start`);
      waits[n]?.release.resolve();
    }
    expect(await Promise.all(calls.slice(0, 3))).toEqual(['done', 'done', 'done']);
  });

  it('at the limit, a cancel notice still reaches its handler, and the peer closing aborts every handler', async () => {
    const { server, address, waits } = await limitedServer({ maxConcurrentRequests: 2 });
    const peer = await peerOf(address);
    for (let seq = 1n; seq <= 12n; seq++) peer.send(slow(seq));
    await waitFor(() => waits.length === 2, 'two calls to start');
    const cancel = Buffer.alloc(8);
    cancel.writeBigUInt64BE(1n);
    peer.send(
      request({
        seq: 100n,
        oneway: true,
        servicePath: '__phobos__',
        serviceMethod: 'cancel',
        payload: cancel,
      }),
    );
    await waitFor(() => waits[0]?.ctx.signal.aborted === true, 'the cancel to abort call 1');
    // The cancel freed a slot: the next waiting call started.
    await waitFor(() => waits.length === 3, 'call 3 to start');
    peer.socket.end();
    await waitFor(() => waits.every(({ ctx }) => ctx.signal.aborted), 'every handler to be aborted');
    expect(waits.map(({ ctx }) => (ctx.signal.reason as Error).name)).toEqual([
      'CancelledError',
      'ConnectionClosedError',
      'ConnectionClosedError',
    ]);
    await waitFor(() => server.connectionCount === 0, 'the connection to close');
  });
});

describe('maxBufferedBytes', () => {
  it('past it, the connection that has not moved for the longest is closed, and the server goes on', async () => {
    const { server, address, scheduler, log } = await limitedServer({ maxBufferedBytes: 256 * KiB });
    let served = 0;
    server.register('Count', {
      Big() {
        served += 1;
      },
    });
    const hog = await peerOf(address);
    hog.send(partialFrame(1024 * KiB, 200 * KiB));
    await waitFor(() => server.bufferedBytes === 200 * KiB, 'the hog to hold 200 KiB');
    // The hog stalls; later, an honest client sends a frame that takes the server past 256 KiB.
    advanceTo(scheduler, 1_000);
    const honest = await peerOf(address);
    honest.send(
      encodeMessage(
        request({
          seq: 2n,
          servicePath: 'Count',
          serviceMethod: 'Big',
          serializeType: 0,
          payload: new Uint8Array(100 * KiB),
        }),
      ),
    );
    await hog.closed;
    const reply = await honest.frame(0);
    expect(reply.metadata.get(ERROR_KEY)).toBeUndefined();
    expect(reply).toMatchObject({ seq: 2n, status: 0 });
    expect(served).toBe(1);
    const entry = await log.logged(/maxBufferedBytes/);
    expect(entry.message).toMatch(
      /past maxBufferedBytes \(262144\), and this connection held 204800 with no progress for 1000 ms/,
    );
    await waitFor(() => server.bufferedBytes === 0, 'the buffers to be released');
  });

  it('a frame larger than the whole budget closes its own connection', async () => {
    const { server, address } = await limitedServer({ maxBufferedBytes: 128 * KiB });
    const peer = await peerOf(address);
    peer.send(partialFrame(1024 * KiB, 200 * KiB));
    await peer.closed;
    await waitFor(() => server.bufferedBytes === 0, 'the buffers to be released');
  });

  it('over it with no connection heavy enough to close, a request that would have to wait is answered busy', async () => {
    const { server, address, waits } = await limitedServer({
      maxBufferedBytes: 256 * KiB,
      maxConcurrentRequests: 1,
    });
    // Five connections each hold 60 KiB of a frame: light ones, never closed for the budget.
    for (let n = 0; n < 5; n++) (await peerOf(address)).send(partialFrame(1024 * KiB, 60 * KiB));
    await waitFor(() => server.bufferedBytes === 300 * KiB, 'the server to hold 300 KiB');
    const connection = await openConnection(defer, address, { serializeType: 1 });
    const first = firstValueFrom(connection.call$('Slow', 'Wait', {}));
    await waitFor(() => waits.length === 1, 'the first call to start');
    const second = await firstValueFrom(connection.call$('Slow', 'Wait', {})).catch(
      (error: unknown) => error,
    );
    expect(second).toBeInstanceOf(ResourceExhaustedError);
    expect((second as ResourceExhaustedError).code).toBe('RESOURCE_EXHAUSTED');
    expect((second as ResourceExhaustedError).message).toMatch(
      /^server busy: the server holds more than maxBufferedBytes/,
    );
    waits[0]?.release.resolve();
    expect(await first).toBe('done');
  });
});

describe('push backpressure', () => {
  it('push() refuses past maxPushQueueBytes; push$ waits until the client reads, then sends', async () => {
    const scheduler = new VirtualTimeScheduler();
    const stalled = deferred<number>();
    const sent = deferred<void>();
    const { address } = await startServer(
      defer,
      (s) =>
        s.register('Push', {
          async Flood(_args: unknown, ctx: CallContext) {
            const pushed = await flood(ctx, 32 * KiB, stalled);
            ctx.connection
              .push$('Push', 'Last', 'last', { serializeType: 1 })
              .subscribe({ complete: () => sent.resolve() });
            return pushed;
          },
        }),
      { scheduler, maxPushQueueBytes: 128 * KiB },
    );
    const peer = await peerOf(address);
    peer.socket.pause();
    peer.send(request({ servicePath: 'Push', serviceMethod: 'Flood' }));
    const pushed = await stalled.promise;
    expect(pushed).toBeGreaterThan(0);
    let done = false;
    void sent.promise.then(() => {
      done = true;
    });
    await turns(20);
    expect(done).toBe(false);
    peer.socket.resume();
    await sent.promise;
    await waitFor(() => peer.received.some((m) => m.serviceMethod === 'Last'), 'the last push');
    const chunks = peer.received.filter((m) => m.serviceMethod === 'Chunk');
    expect(chunks).toHaveLength(pushed);
  });
});

describe('metadata limits', () => {
  it('maxMetadataEntries and maxMetadataBytes - a request past them gets an error reply, and the connection goes on', async () => {
    const { address } = await limitedServer({ maxMetadataEntries: 4, maxMetadataBytes: 256 });
    const peer = await peerOf(address);
    const many = new Map(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'v']));
    peer.send(request({ seq: 1n, metadata: many }));
    const big = new Map([['k', 'v'.repeat(300)]]);
    peer.send(request({ seq: 2n, metadata: big }));
    peer.send(request({ seq: 3n, metadata: new Map([['k', 'v']]) }));
    const [first, second, third] = [await peer.frame(0), await peer.frame(1), await peer.frame(2)];
    expect(first).toMatchObject({ seq: 1n, status: 1 });
    expect(first.metadata.get(ERROR_KEY)).toBe('metadata has more than maxMetadataEntries (4) entries');
    expect(second).toMatchObject({ seq: 2n, status: 1 });
    expect(second.metadata.get(ERROR_KEY)).toBe('metadata of 309 bytes exceeds maxMetadataBytes (256)');
    expect(third).toMatchObject({ seq: 3n, status: 0 });
  });

  it('a reply past the client limits fails its call with ProtocolError, and the connection goes on', async () => {
    const server = await rawServer((peer) => {
      void (async () => {
        for (let index = 0; ; index++) {
          const message = await peer.frame(index).catch(() => undefined);
          if (message === undefined) return;
          if (message.heartbeat) continue;
          const count = message.serviceMethod === 'Many' ? 10 : 1;
          const metadata = new Map(Array.from({ length: count }, (_, i) => [`k${i}`, 'v']));
          peer.send({ ...message, messageType: 1, metadata, payload: Buffer.from('"ok"') });
        }
      })();
    });
    defer(() => server.close());
    const connection = await openConnection(defer, server.address, {
      serializeType: 1,
      maxMetadataEntries: 5,
    });
    const error = await firstValueFrom(connection.call$('X', 'Many')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).message).toBe('metadata has more than maxMetadataEntries (5) entries');
    await expect(firstValueFrom(connection.call$('X', 'One'))).resolves.toBe('ok');
  });
});

describe('heartbeats under backpressure', () => {
  it('while replies are not leaving, at most one echo is held: the newest', async () => {
    const { address } = await startServer(defer, (s) =>
      s.register('Big', { Reply: () => new Uint8Array(1024 * KiB) }),
    );
    const peer = await peerOf(address);
    // One write: a call whose 1 MiB reply fills the socket, then 50 heartbeats read in the same chunk.
    const frames = [
      encodeMessage(request({ seq: 1n, servicePath: 'Big', serviceMethod: 'Reply', serializeType: 0 })),
    ];
    for (let seq = 100n; seq < 150n; seq++) {
      frames.push(
        encodeMessage(
          request({ heartbeat: true, servicePath: '', serviceMethod: '', seq, payload: new Uint8Array() }),
        ),
      );
    }
    peer.socket.write(Buffer.concat(frames));
    await waitFor(() => peer.received.some((m) => m.heartbeat && m.seq === 149n), 'the newest echo');
    await turns(10);
    const echoes = peer.received.filter((m) => m.heartbeat);
    expect(echoes.length).toBeLessThan(50);
    expect(peer.received.find((m) => m.seq === 1n)?.payload.length).toBe(1024 * KiB);
  });
});
