import { connect as netConnect } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  type CallContext,
  SerializeType,
  Server,
  type ServerInterceptor,
  silentLogger,
} from '../../lib/index.js';
import { deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { startClient, startServer } from '../support/servers.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

function greeter(server: Server, gate?: Promise<void>): void {
  server.register('HelloWorld', {
    async Greet(args: { First: string }, ctx: CallContext) {
      if (args.First === 'wait') await gate;
      return {
        Second: `Hello ${args.First}`,
        from: ctx.remoteAddress,
        forwarded: ctx.metadata.get('x-forwarded-for'),
      };
    },
  });
}

function httpUrl(address: string): string {
  return `http://127.0.0.1:${address.split(':').pop()}`;
}

describe('Server { http: true }: HTTP on the RPC port', () => {
  it('one port answers RPC clients and HTTP clients, calling the services in process', async () => {
    const { defer } = trackHandles();
    const { address } = await startServer(defer, (server) => greeter(server), { http: true });
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    const response = await fetch(`${httpUrl(address)}/HelloWorld/Greet`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: '{"First":"http"}',
    });
    expect(await response.json()).toEqual({
      Second: 'Hello http',
      from: 'in-process@',
      forwarded: '127.0.0.1',
    });
    const reply = await client.call<{ Second: string }>('HelloWorld', 'Greet', { First: 'rpc' });
    expect(reply.Second).toBe('Hello rpc');
    const rpc = await fetch(`${httpUrl(address)}/jsonrpc`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'HelloWorld.Greet', params: { First: 'j' }, id: 1 }),
    });
    expect(((await rpc.json()) as { result: { Second: string } }).result.Second).toBe('Hello j');
  });

  it('authorize refuses one HTTP call (401) without cutting the calls of other HTTP clients', async () => {
    const { defer } = trackHandles();
    const gate = deferred<void>();
    const { address } = await startServer(defer, (server) => greeter(server, gate.promise), {
      http: true,
      authorize: (token) => token === 'good',
    });
    const url = `${httpUrl(address)}/HelloWorld/Greet`;
    const waiting = fetch(url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: 'Bearer good' },
      body: '{"First":"wait"}',
    });
    const refused = await fetch(url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, authorization: 'Bearer bad' },
      body: '{"First":"x"}',
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { code: string }).code).toBe('unauthenticated');
    gate.resolve();
    expect(((await (await waiting).json()) as { Second: string }).Second).toBe('Hello wait');
  });

  it('interceptors run for HTTP calls too', async () => {
    const { defer } = trackHandles();
    const seen: string[] = [];
    const logging: ServerInterceptor = (next) => (call) => {
      seen.push(`${call.service}.${call.method}`);
      return next(call);
    };
    const { address } = await startServer(
      defer,
      (server) => {
        greeter(server);
        server.use(logging);
      },
      { http: true },
    );
    await fetch(`${httpUrl(address)}/HelloWorld/Greet`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: '{"First":"i"}',
    });
    expect(seen).toEqual(['HelloWorld.Greet']);
  });

  it('a first byte that is not a frame goes to HTTP, even "B" without version 0; silence is closed', async () => {
    const { defer } = trackHandles();
    const { address } = await startServer(defer, (server) => greeter(server), {
      http: true,
      frameTimeoutMs: 50,
    });
    const port = Number(address.split(':').pop());
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = netConnect(port, '127.0.0.1', () =>
        socket.end('BIND /HelloWorld/Greet HTTP/1.1\r\nHost: x\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 (400|405)/);
    const closed = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.on('close', () => resolve(true));
      socket.on('error', () => {});
    });
    expect(closed).toBe(true);
  });

  it('shutdown drains HTTP requests in flight and closes keep-alive connections', async () => {
    trackHandles();
    const gate = deferred<void>();
    const server = new Server({ logger: silentLogger, http: true });
    greeter(server, gate.promise);
    const address = await server.listen('tcp@127.0.0.1:0');
    const waiting = fetch(`${httpUrl(address)}/HelloWorld/Greet`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: '{"First":"wait"}',
    });
    await expect.poll(() => server.connectionCount).toBeGreaterThan(0);
    const down = server.shutdown({ graceMs: 10_000 });
    gate.resolve();
    expect(((await (await waiting).json()) as { Second: string }).Second).toBe('Hello wait');
    await down;
  });

  it('rejects an http option that is neither a boolean nor an object', () => {
    expect(() => new Server({ http: 'yes' as never })).toThrow(/http must be an object/);
  });
});
