import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import {
  ConnectionClosedError,
  ConnectionError,
  connect,
  ProtocolError,
  Server,
  silentLogger,
} from '../../lib/index.js';
import { encodeMessage, FrameSocket, type Message } from '../../lib/protocol/index.js';
import { FLUSH_AT_CHUNKS } from '../../lib/transport/frame-socket.js';
import { deferred, turns } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { closedPort } from '../support/ports.js';
import { type RawPeer, rawServer, request } from '../support/raw-peer.js';
import { startClient, startServer } from '../support/servers.js';
import { thrown } from '../support/thrown.js';
import { advanceTo } from '../support/virtual-time.js';

const { defer } = trackHandles();

const cert = readFileSync(new URL('../fixtures/tls-cert.pem', import.meta.url));
const key = readFileSync(new URL('../fixtures/tls-key.pem', import.meta.url));

const echo = {
  Say(args: unknown) {
    return args;
  },
};

/** Resolves with the error of the first dial of `address`, or rejects if the dial succeeds. */
function dialError(address: string, options: Parameters<typeof connect>[1] = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const subscription = connect(address, options).subscribe({
      next: () => reject(new Error(`connected to ${address}, expected the dial to fail`)),
      error: resolve,
    });
    defer(() => subscription.unsubscribe());
  });
}

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('no port');
  return `tcp@127.0.0.1:${bound.port}`;
}

describe('TLS', () => {
  async function tlsServer() {
    return startServer(defer, (server) => server.register('Echo', echo), { tls: { key, cert } });
  }

  it('TLS - a client trusting the certificate calls a TLS server at tcp@127.0.0.1', async () => {
    const { address } = await tlsServer();
    expect(address).toMatch(/^tcp@127\.0\.0\.1:\d+$/);
    const client = startClient(defer, address, { tls: { ca: cert } });
    await expect(client.call('Echo', 'Say', 'over tls')).resolves.toBe('over tls');
  });

  it('TLS - a host name address sends it as servername (tcp@localhost)', async () => {
    const { address } = await tlsServer();
    const port = address.split(':').at(-1);
    const client = startClient(defer, `tcp@localhost:${port}`, { tls: { ca: cert } });
    await expect(client.call('Echo', 'Say', 'by name')).resolves.toBe('by name');
  });

  it('TLS - an explicit servername is used with an IP address', async () => {
    const { address } = await tlsServer();
    const client = startClient(defer, address, { tls: { ca: cert, servername: 'localhost' } });
    await expect(client.call('Echo', 'Say', 'sni')).resolves.toBe('sni');
  });

  it('TLS - a client that does not trust the certificate fails with ConnectionError', async () => {
    const { address } = await tlsServer();
    const error = await dialError(address, { tls: {} });
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toContain(`cannot connect to ${address}`);
    expect((error as ConnectionError).details).toMatchObject({ address });
  });

  it('TLS - a TLS client against a plain server fails with ConnectionError, without waiting for the timeout', async () => {
    const { address, server } = await startServer(defer, (s) => s.register('Echo', echo));
    const error = await dialError(address, { tls: { ca: cert }, connectTimeoutMs: 30_000 });
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toContain(`cannot connect to ${address}`);
    expect((error as ConnectionError).message).not.toMatch(/no answer within/);
    // The plain server goes on serving plain clients.
    const client = startClient(defer, address);
    await expect(client.call('Echo', 'Say', 'plain')).resolves.toBe('plain');
    expect(server.connectionCount).toBe(1);
  });

  it('TLS - a plain client against a TLS server gets no reply, and the server goes on', async () => {
    const { address } = await tlsServer();
    const plain = startClient(defer, address);
    const error = await plain.call('Echo', 'Say', 'in clear').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    const secure = startClient(defer, address, { tls: { ca: cert } });
    await expect(secure.call('Echo', 'Say', 'still up')).resolves.toBe('still up');
  });
});

describe('unix sockets', () => {
  it('unix socket - a server listens on unix@/path and a client calls it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phobos-transport-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'phobos.sock');
    const server = new Server({ logger: silentLogger });
    server.register('Echo', echo);
    const address = await server.listen(`unix@${path}`);
    defer(() => server.shutdown({ graceMs: 0 }));
    expect(address).toBe(`unix@${path}`);
    const client = startClient(defer, address);
    await expect(client.call('Echo', 'Say', 'local')).resolves.toBe('local');
    expect(server.connectionCount).toBe(1);
  });

  it('unix socket - dialing a path nobody listens on fails with ConnectionError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'phobos-transport-'));
    defer(() => rmSync(dir, { recursive: true, force: true }));
    const address = `unix@${join(dir, 'nobody.sock')}`;
    const error = await dialError(address);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toContain(address);
  });
});

describe('dialing and listening', () => {
  it('dial - a closed port fails with ConnectionError naming the address', async () => {
    const address = `tcp@127.0.0.1:${await closedPort()}`;
    const error = await dialError(address);
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error).not.toBeInstanceOf(ConnectionClosedError);
    expect((error as ConnectionError).code).toBe('UNAVAILABLE');
    expect((error as ConnectionError).message).toContain(`cannot connect to ${address}`);
    expect((error as ConnectionError).message).toMatch(/ECONNREFUSED/);
    expect((error as ConnectionError).details).toEqual({ address });
  });

  it('dial - the Client rejects its call with the same ConnectionError, and retries on the next call', async () => {
    const port = await closedPort();
    const address = `tcp@127.0.0.1:${port}`;
    const client = startClient(defer, address);
    await expect(client.call('Echo', 'Say', 1)).rejects.toThrow(ConnectionError);
    const server = new Server({ logger: silentLogger });
    server.register('Echo', echo);
    await server.listen(address);
    defer(() => server.shutdown({ graceMs: 0 }));
    await expect(client.call('Echo', 'Say', 2)).resolves.toBe(2);
  });

  // A TCP connect to loopback never hangs (the kernel answers at once), so the timeout is shown
  // on the TLS handshake, which connectTimeoutMs covers too: the peer accepts and never answers.
  it('dial - connectTimeoutMs bounds the whole dial, TLS handshake included', async () => {
    const address = await silentServer();
    const error = await dialError(address, { tls: { ca: cert }, connectTimeoutMs: 100 });
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toBe(`cannot connect to ${address}: no answer within 100 ms`);
    expect((error as ConnectionError).details).toEqual({ address, connectTimeoutMs: 100 });
  });

  it('dial - the connect timeout runs on the client’s scheduler: not at 499 virtual ms, at 500', async () => {
    const address = await silentServer();
    const scheduler = new VirtualTimeScheduler();
    let settled: unknown;
    void dialError(address, { tls: { ca: cert }, connectTimeoutMs: 500, scheduler }).then((error) => {
      settled = error;
    });
    advanceTo(scheduler, 499);
    await turns(3);
    expect(settled).toBeUndefined();
    advanceTo(scheduler, 500);
    await turns(3);
    expect(settled).toBeInstanceOf(ConnectionError);
    expect((settled as ConnectionError).message).toBe(
      `cannot connect to ${address}: no answer within 500 ms`,
    );
  });

  it('listen - an address already in use rejects with ConnectionError naming it', async () => {
    const { address } = await startServer(defer, (server) => server.register('Echo', echo));
    const second = new Server({ logger: silentLogger });
    defer(() => second.shutdown({ graceMs: 0 }));
    const error = await second.listen(address).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).message).toContain(`cannot listen on ${address}`);
    expect((error as ConnectionError).message).toMatch(/EADDRINUSE/);
    expect((error as ConnectionError).details).toEqual({ address });
    // The first server is unaffected.
    const client = startClient(defer, address);
    await expect(client.call('Echo', 'Say', 'first')).resolves.toBe('first');
  });

  it('listen - port 0 resolves to the bound port', async () => {
    const server = new Server({ logger: silentLogger });
    server.register('Echo', echo);
    defer(() => server.shutdown({ graceMs: 0 }));
    const address = await server.listen('127.0.0.1:0');
    expect(address).toMatch(/^tcp@127\.0\.0\.1:[1-9]\d*$/);
  });

  it('listen - a malformed address rejects with a RangeError before anything is opened', async () => {
    const server = new Server({ logger: silentLogger });
    defer(() => server.shutdown({ graceMs: 0 }));
    await expect(server.listen('udp@127.0.0.1:0')).rejects.toThrow(RangeError);
    expect(thrown(() => connect('tcp@127.0.0.1'))).toBeInstanceOf(RangeError);
  });
});

describe('FrameSocket', () => {
  /** A FrameSocket on a client socket, connected to a raw peer that decodes what arrives. */
  async function framePair(): Promise<{ frames: FrameSocket; socket: Socket; peer: RawPeer }> {
    const accepted = deferred<RawPeer>();
    const server = await rawServer((peer) => accepted.resolve(peer));
    defer(() => server.close());
    const [host, port] = server.address.replace(/^tcp@/, '').split(':') as [string, string];
    const socket = netConnect({ host, port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const closed = deferred();
    const frames = new FrameSocket(
      socket,
      { maxMessageBytes: 1 << 20 },
      { onMessage: () => {}, onClose: () => closed.resolve() },
    );
    defer(async () => {
      frames.destroy();
      await closed.promise;
    });
    return { frames, socket, peer: await accepted.promise };
  }

  function numbered(count: number, payloadBytes: number): Message[] {
    return Array.from({ length: count }, (_, n) =>
      request({
        seq: BigInt(n),
        serviceMethod: `M${n}`,
        payload: Buffer.alloc(payloadBytes, n % 256),
      }),
    );
  }

  it('FrameSocket - 100 frames sent in one tick leave in writes of FLUSH_AT_CHUNKS as they fill, the rest at the end of the tick, and arrive intact', async () => {
    const { frames, socket, peer } = await framePair();
    const write = vi.spyOn(socket, 'write');
    const messages = numbered(100, 10);
    for (const message of messages) expect(frames.send(message)).toBe(true);
    expect(write).toHaveBeenCalledTimes(Math.floor(100 / FLUSH_AT_CHUNKS));
    await peer.frame(99);
    expect(write).toHaveBeenCalledTimes(Math.ceil(100 / FLUSH_AT_CHUNKS));
    const written = Buffer.concat(write.mock.calls.map((call) => call[0] as Buffer));
    expect(written.equals(Buffer.concat(messages.map((message) => encodeMessage(message))))).toBe(true);
    expect(peer.received).toHaveLength(100);
    peer.received.forEach((received, n) => {
      expect(received).toEqual({ ...messages[n], payload: expect.anything() });
      expect(Buffer.from(received.payload).equals(Buffer.from(messages[n]?.payload ?? []))).toBe(true);
    });
  });

  it('FrameSocket - a batch past 64 KiB is written as one corked vector and arrives intact', async () => {
    const { frames, socket, peer } = await framePair();
    const write = vi.spyOn(socket, 'write');
    const cork = vi.spyOn(socket, 'cork');
    const uncork = vi.spyOn(socket, 'uncork');
    // 20 frames of 4 KiB: past 64 KiB, in fewer chunks than FLUSH_AT_CHUNKS.
    const messages = numbered(20, 4096);
    for (const message of messages) frames.send(message);
    await peer.frame(19);
    expect(cork).toHaveBeenCalledTimes(1);
    expect(uncork).toHaveBeenCalledTimes(1);
    expect(write).toHaveBeenCalledTimes(20);
    const corkedAt = cork.mock.invocationCallOrder[0] ?? 0;
    const uncorkedAt = uncork.mock.invocationCallOrder[0] ?? 0;
    for (const order of write.mock.invocationCallOrder) {
      expect(order).toBeGreaterThan(corkedAt);
      expect(order).toBeLessThan(uncorkedAt);
    }
    expect(peer.received.map((message) => message.seq)).toEqual(messages.map((message) => message.seq));
    for (const [n, received] of peer.received.entries()) {
      expect(Buffer.from(received.payload).equals(Buffer.from(messages[n]?.payload ?? []))).toBe(true);
    }
  });

  it('FrameSocket - frames sent in separate ticks leave in separate writes', async () => {
    const { frames, socket, peer } = await framePair();
    const write = vi.spyOn(socket, 'write');
    frames.send(request({ seq: 1n }));
    await peer.frame(0);
    frames.send(request({ seq: 2n }));
    await peer.frame(1);
    expect(write).toHaveBeenCalledTimes(2);
  });

  it('FrameSocket - after a write, frames of later ticks in the same turn of the event loop leave together at its end', async () => {
    const { frames, socket, peer } = await framePair();
    const write = vi.spyOn(socket, 'write');
    const tick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
    frames.send(request({ seq: 1n }));
    await tick();
    expect(write).toHaveBeenCalledTimes(1);
    frames.send(request({ seq: 2n }));
    await tick();
    frames.send(request({ seq: 3n }));
    await tick();
    expect(write).toHaveBeenCalledTimes(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(write).toHaveBeenCalledTimes(2);
    await peer.frame(2);
    expect(peer.received.map((message) => message.seq)).toEqual([1n, 2n, 3n]);
  });

  it('FrameSocket - a frame past maxMessageBytes throws ProtocolError and queues nothing', async () => {
    const { frames, socket, peer } = await framePair();
    const write = vi.spyOn(socket, 'write');
    const tooBig = request({ seq: 1n, payload: Buffer.alloc(1 << 20) });
    expect(() => frames.send(tooBig)).toThrow(ProtocolError);
    expect(() => frames.send(tooBig)).toThrow(/exceeds maxMessageBytes \(1048576\)/);
    frames.send(request({ seq: 2n }));
    await peer.frame(0);
    expect(peer.received.map((message) => message.seq)).toEqual([2n]);
    expect(write).toHaveBeenCalledTimes(1);
  });

  it('FrameSocket - send after the socket closed returns false', async () => {
    const { frames, peer } = await framePair();
    await peer.close();
    await new Promise<void>((resolve) => {
      if (!frames.open) resolve();
      else frames.socket.once('close', () => resolve());
    });
    expect(frames.open).toBe(false);
    expect(frames.send(request())).toBe(false);
  });
});
