import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { Gateway, type GatewayOptions } from '../../lib/gateway/index.js';
import { type CallContext, memoryRegistry, type Server } from '../../lib/index.js';
import { deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { startServer } from '../support/servers.js';

type Defer = (cleanup: () => unknown) => void;

/** What the gateway forwards to in these tests. */
function helloWorld(
  server: Server,
  seen: { metadata?: ReadonlyMap<string, string>; signal?: AbortSignal } = {},
): void {
  server.register('HelloWorld', {
    Greet(args: { First: unknown }, ctx: CallContext) {
      seen.metadata = ctx.metadata;
      if (typeof args?.First !== 'string') throw new Error('First must be a string');
      ctx.replyMetadata.set('served-by', 'one');
      return { Second: `Hello ${args.First}` };
    },
    Big(args: { n: number }) {
      return { text: 'x'.repeat(args.n) };
    },
    Nothing() {
      return undefined;
    },
    Bytes(args: Uint8Array) {
      return Buffer.concat([Buffer.from('got:'), args]);
    },
    Forever(_args: unknown, ctx: CallContext) {
      seen.signal = ctx.signal;
      return new Promise(() => {});
    },
  });
}

async function gatewayFor(defer: Defer, options: Partial<GatewayOptions> = {}) {
  const seen: { metadata?: ReadonlyMap<string, string>; signal?: AbortSignal } = {};
  const started = await startServer(defer, (s) => helloWorld(s, seen));
  const gateway = new Gateway({ addresses: [started.address], ...options } as GatewayOptions);
  const url = await gateway.listen('http://127.0.0.1:0');
  defer(() => gateway.close({ graceMs: 0 }));
  return { gateway, url, seen, server: started.server, address: started.address };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function post(url: string, body: string | Uint8Array, headers: Record<string, string> = JSON_HEADERS) {
  return fetch(url, { method: 'POST', headers, body });
}

describe('gateway: plain JSON', () => {
  it('POST /{service}/{method} answers the reply JSON, with reply metadata in prefixed headers', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer);
    const response = await post(`${url}/HelloWorld/Greet`, '{"First":"budei"}');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('phobos-meta-served-by')).toBe('one');
    expect(await response.json()).toEqual({ Second: 'Hello budei' });
  });

  it('errors carry real statuses and a { code, message, details } body', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer);
    const cases: [string, string, Record<string, string>, number, string][] = [
      ['/HelloWorld/Greet', '{"First"', JSON_HEADERS, 400, 'invalid_argument'],
      ['/HelloWorld/Greet', '{"First":1}', JSON_HEADERS, 500, 'unknown'],
      ['/HelloWorld/Nope', '{}', JSON_HEADERS, 404, 'not_found'],
      ['/Nope/Greet', '{}', JSON_HEADERS, 404, 'not_found'],
      ['/HelloWorld', '{}', JSON_HEADERS, 404, 'not_found'],
      [
        '/HelloWorld/Greet',
        'a=b',
        { 'content-type': 'application/x-www-form-urlencoded' },
        415,
        'invalid_argument',
      ],
      ['/HelloWorld/Greet', '{}', { ...JSON_HEADERS, 'phobos-timeout-ms': 'soon' }, 400, 'invalid_argument'],
    ];
    for (const [path, body, headers, status, code] of cases) {
      const response = await post(`${url}${path}`, body, headers);
      const json = (await response.json()) as { code: string; message: string; details: object };
      expect([path, body, response.status, json.code]).toEqual([path, body, status, code]);
      expect(json.message).toEqual(expect.any(String));
      expect(json.details).toEqual(expect.any(Object));
    }
    const get = await fetch(`${url}/HelloWorld/Greet`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('a deadline header becomes the call deadline (504), and the server gives up too', async () => {
    const { defer } = trackHandles();
    const { url, seen } = await gatewayFor(defer);
    const response = await post(`${url}/HelloWorld/Forever`, '{}', {
      ...JSON_HEADERS,
      'phobos-timeout-ms': '30',
    });
    expect(response.status).toBe(504);
    expect(((await response.json()) as { code: string }).code).toBe('deadline_exceeded');
    await expect.poll(() => seen.signal?.aborted).toBe(true);
  });

  it('maps headers to metadata: the prefix, Authorization Bearer as __AUTH, trace context, x-forwarded-for', async () => {
    const { defer } = trackHandles();
    const { url, seen } = await gatewayFor(defer);
    await post(`${url}/HelloWorld/Greet`, '{"First":"m"}', {
      ...JSON_HEADERS,
      'phobos-meta-tenant': 'blue',
      'phobos-meta-__servertimeout': '1',
      authorization: 'Bearer tok',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    const metadata = seen.metadata as ReadonlyMap<string, string>;
    expect(metadata.get('tenant')).toBe('blue');
    expect(metadata.get('__AUTH')).toBe('tok');
    expect(metadata.get('traceparent')).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    expect(metadata.get('x-forwarded-for')).toBe('127.0.0.1');
    expect(metadata.has('__servertimeout')).toBe(false);
    expect(Number(metadata.get('__ServerTimeout'))).toBeGreaterThan(0);
  });

  it('gzip both ways: a gzip body is inflated; a large reply is gzipped when accepted', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer);
    const zipped = await post(`${url}/HelloWorld/Greet`, gzipSync('{"First":"zip"}'), {
      ...JSON_HEADERS,
      'content-encoding': 'gzip',
    });
    expect(await zipped.json()).toEqual({ Second: 'Hello zip' });
    const big = await import('node:http').then(
      (http) =>
        new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
          const request = http.request(
            `${url}/HelloWorld/Big`,
            { method: 'POST', headers: { ...JSON_HEADERS, 'accept-encoding': 'gzip' } },
            (response) => {
              const chunks: Buffer[] = [];
              response.on('data', (chunk: Buffer) => chunks.push(chunk));
              response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
            },
          );
          request.on('error', reject);
          request.end('{"n":5000}');
        }),
    );
    expect(big.headers['content-encoding']).toBe('gzip');
    expect(big.headers.vary).toBe('Accept-Encoding');
    expect(JSON.parse(gunzipSync(big.body).toString())).toEqual({ text: 'x'.repeat(5000) });
  });

  it('an empty reply is null; the services allow-list answers 404 for others', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer, { services: ['HelloWorld'] });
    const nothing = await post(`${url}/HelloWorld/Nothing`, '');
    expect(await nothing.text()).toBe('null');
    const other = await post(`${url}/Other/Greet`, '{}');
    expect(other.status).toBe(404);
    expect(((await other.json()) as { message: string }).message).toBe('unknown service "Other"');
  });
});

describe('gateway: Go Phobos and rpcx header protocols', () => {
  it('MRPC-Gateway-*: passes the body through, copies the request headers, says Normal, puts metadata in headers', async () => {
    const { defer } = trackHandles();
    const { url, seen } = await gatewayFor(defer);
    const response = await post(`${url}/ignored`, '{"First":"go"}', {
      'MRPC-Gateway-ServicePath': 'HelloWorld',
      'MRPC-Gateway-ServiceMethod': 'Greet',
      'MRPC-Gateway-SerializeType': '1',
      'MRPC-Gateway-MessageID': '18446744073709551615',
      'MRPC-Gateway-Meta': 'a=1&b=2&a=3',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('{"Second":"Hello go"}');
    expect(response.headers.get('MRPC-Gateway-MessageStatusType')).toBe('Normal');
    expect(response.headers.get('MRPC-Gateway-MessageID')).toBe('18446744073709551615');
    expect(response.headers.get('MRPC-Gateway-Meta')).toBe('a=1&b=2&a=3');
    expect(response.headers.get('served-by')).toBe('one');
    expect(seen.metadata?.get('a')).toBe('1');
    expect(seen.metadata?.get('b')).toBe('2');
  });

  it('takes the service from the URL path when the header is absent, and raw bytes by default', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer);
    const response = await post(`${url}/HelloWorld`, 'abc', { 'MRPC-Gateway-ServiceMethod': 'Bytes' });
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(await response.text()).toBe('got:abc');
  });

  it('X-RPCX-*: the same protocol with rpcx names; errors say Error and the message with a real status', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer);
    const response = await post(`${url}/`, '{"First":2}', {
      'Content-Type': 'application/rpcx',
      'X-RPCX-MesssageType': '0',
      'X-RPCX-ServicePath': 'HelloWorld',
      'X-RPCX-ServiceMethod': 'Greet',
      'X-RPCX-SerializeType': '1',
    });
    expect(response.status).toBe(500);
    expect(response.headers.get('X-Rpcx-Messagestatustype')).toBe('Error');
    expect(response.headers.get('X-Rpcx-Errormessage')).toBe('First must be a string');
    expect(response.headers.get('X-RPCX-MesssageType')).toBe('0');
    expect(await response.text()).toBe('');
  });

  it('bad header values are 400s naming the header; heartbeats answer Normal; oneway answers at once', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer);
    const base = { 'MRPC-Gateway-ServicePath': 'HelloWorld', 'MRPC-Gateway-ServiceMethod': 'Greet' };
    for (const [name, value] of [
      ['MRPC-Gateway-SerializeType', '16'],
      ['MRPC-Gateway-SerializeType', 'json'],
      ['MRPC-Gateway-MessageID', '18446744073709551616'],
      ['MRPC-Gateway-MessageID', '-1'],
    ] as const) {
      const response = await post(url, '{}', { ...base, [name]: value });
      expect([name, value, response.status]).toEqual([name, value, 400]);
      expect(response.headers.get('MRPC-Gateway-ErrorMessage')).toContain(name);
    }
    const noMethod = await post(`${url}/HelloWorld`, '{}', { 'MRPC-Gateway-SerializeType': '1' });
    expect(noMethod.status).toBe(400);
    const heartbeat = await post(url, '', { 'MRPC-Gateway-Heartbeat': '1' });
    expect([heartbeat.status, heartbeat.headers.get('MRPC-Gateway-MessageStatusType')]).toEqual([
      200,
      'Normal',
    ]);
    const oneway = await post(url, '{}', {
      ...base,
      'MRPC-Gateway-Oneway': '1',
      'MRPC-Gateway-SerializeType': '1',
    });
    expect([oneway.status, await oneway.text()]).toEqual([200, '']);
  });
});

describe('gateway: JSON-RPC 2.0', () => {
  const rpc = (url: string, body: unknown) => post(`${url}/jsonrpc`, JSON.stringify(body));

  it('a call answers its result; a notification answers 204; params may be a one-element array', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer);
    const one = await rpc(url, { jsonrpc: '2.0', method: 'HelloWorld.Greet', params: { First: 'x' }, id: 1 });
    expect(await one.json()).toEqual({ jsonrpc: '2.0', id: 1, result: { Second: 'Hello x' } });
    const positional = await rpc(url, {
      jsonrpc: '2.0',
      method: 'HelloWorld.Greet',
      params: [{ First: 'p' }],
      id: 'a',
    });
    expect(await positional.json()).toEqual({ jsonrpc: '2.0', id: 'a', result: { Second: 'Hello p' } });
    const notification = await rpc(url, {
      jsonrpc: '2.0',
      method: 'HelloWorld.Greet',
      params: { First: 'n' },
    });
    expect([notification.status, await notification.text()]).toEqual([204, '']);
  });

  it('a batch answers the calls with ids, in order, with the standard error codes', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer);
    const response = await rpc(url, [
      { jsonrpc: '2.0', method: 'HelloWorld.Greet', params: { First: 'a' }, id: 1 },
      { jsonrpc: '2.0', method: 'HelloWorld.Greet', params: { First: 'n' } },
      { jsonrpc: '2.0', method: 'HelloWorld.Nope', id: 2 },
      { jsonrpc: '2.0', method: 'Greet', id: 3 },
      { jsonrpc: '2.0', method: 'HelloWorld.Greet', params: 7, id: 4 },
      { jsonrpc: '2.0', method: 'HelloWorld.Greet', params: { First: 1 }, id: 5 },
      { jsonrpc: '1.0', method: 'HelloWorld.Greet', id: 6 },
      42,
    ]);
    const answers = (await response.json()) as { id: unknown; result?: unknown; error?: { code: number } }[];
    expect(answers.map((answer) => [answer.id, answer.result ?? answer.error?.code])).toEqual([
      [1, { Second: 'Hello a' }],
      [2, -32601],
      [3, -32601],
      [4, -32602],
      [5, -32000],
      [6, -32600],
      [null, -32600],
    ]);
  });

  it('a body that does not parse is -32700; an empty or oversized batch is -32600', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer, { maxBatchSize: 2 });
    const parse = await post(`${url}/jsonrpc`, '[');
    expect(((await parse.json()) as { error: { code: number } }).error.code).toBe(-32700);
    const empty = await rpc(url, []);
    expect(((await empty.json()) as { error: { code: number } }).error.code).toBe(-32600);
    const call = { jsonrpc: '2.0', method: 'HelloWorld.Greet', params: { First: 'a' }, id: 1 };
    const big = await rpc(url, [call, call, call]);
    expect(((await big.json()) as { error: { code: number } }).error.code).toBe(-32600);
  });
});

describe('gateway: Connect unary', () => {
  it('JSON with Connect-Protocol-Version answers the reply; errors are Connect error JSON', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer);
    const headers = { ...JSON_HEADERS, 'connect-protocol-version': '1' };
    const ok = await post(`${url}/HelloWorld/Greet`, '{"First":"c"}', headers);
    expect(await ok.json()).toEqual({ Second: 'Hello c' });
    const empty = await post(`${url}/HelloWorld/Nothing`, '{}', headers);
    expect(await empty.text()).toBe('{}');
    const missing = await post(`${url}/HelloWorld/Nope`, '{}', headers);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      code: 'not_found',
      message: 'can not find method "Nope" of service "HelloWorld"',
    });
    const slow = await post(`${url}/HelloWorld/Forever`, '{}', { ...headers, 'connect-timeout-ms': '20' });
    expect([slow.status, ((await slow.json()) as { code: string }).code]).toEqual([504, 'deadline_exceeded']);
    // A streaming Content-Type is a Connect stream: a body that is not an envelope is refused in
    // the end-of-stream envelope (flag 2), as the protocol does (spec/integration/gateway-stream.spec.ts).
    const stream = await post(`${url}/HelloWorld/Greet`, '{}', {
      'content-type': 'application/connect+json',
    });
    expect([stream.status, stream.headers.get('content-type')]).toEqual([200, 'application/connect+json']);
    const end = Buffer.from(await stream.arrayBuffer());
    expect(end[0]).toBe(2);
    expect(JSON.parse(end.subarray(5).toString())).toMatchObject({ error: { code: 'invalid_argument' } });
  });

  it('application/proto: decoded with the types registered on the gateway, the call made in JSON', async () => {
    const { defer } = trackHandles();
    const root = protobuf.parse(
      'syntax = "proto3"; message Args { string First = 1; } message Reply { string Second = 1; }',
      { keepCase: true },
    ).root;
    const Args = root.lookupType('Args');
    const Reply = root.lookupType('Reply');
    const { url } = await gatewayFor(defer, {
      protobuf: { 'HelloWorld.Greet': { requestType: Args, replyType: Reply } },
    });
    const body = Args.encode({ First: 'proto' }).finish();
    const response = await post(`${url}/HelloWorld/Greet`, body, {
      'content-type': 'application/proto',
      'connect-protocol-version': '1',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/proto');
    expect(Reply.decode(new Uint8Array(await response.arrayBuffer())).toJSON()).toEqual({
      Second: 'Hello proto',
    });
    const bad = await post(`${url}/HelloWorld/Greet`, new Uint8Array([0xff, 0xff, 0xff]), {
      'content-type': 'application/proto',
    });
    expect(bad.status).toBe(400);
  });
});

describe('gateway: CORS, limits, draining', () => {
  it('CORS: an allowed origin gets its preflight and headers; another gets 403 and none', async () => {
    const { defer } = trackHandles();
    const { url } = await gatewayFor(defer, { cors: { origins: ['http://app.example'] } });
    const preflight = await fetch(`${url}/HelloWorld/Greet`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type, authorization');
    const denied = await fetch(`${url}/HelloWorld/Greet`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(denied.status).toBe(403);
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    const call = await post(`${url}/HelloWorld/Greet`, '{"First":"o"}', {
      ...JSON_HEADERS,
      origin: 'http://app.example',
    });
    expect(call.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(call.headers.get('access-control-expose-headers')).toBe('*');
  });

  it('past maxInFlight a request gets 429 with Retry-After; a client that leaves cancels its call', async () => {
    const { defer } = trackHandles();
    const { url, seen } = await gatewayFor(defer, { maxInFlight: 1 });
    const controller = new AbortController();
    const first = fetch(`${url}/HelloWorld/Forever`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: '{}',
      signal: controller.signal,
    });
    await expect.poll(() => seen.signal !== undefined).toBe(true);
    const refused = await post(`${url}/HelloWorld/Greet`, '{"First":"x"}');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { code: string }).code).toBe('resource_exhausted');
    controller.abort();
    await expect(first).rejects.toThrow();
    await expect.poll(() => seen.signal?.aborted).toBe(true);
    const after = await post(`${url}/HelloWorld/Greet`, '{"First":"again"}');
    expect(await after.json()).toEqual({ Second: 'Hello again' });
  });

  it('close() drains: a request in flight finishes, then the gateway stops', async () => {
    const { defer } = trackHandles();
    const release = deferred<void>();
    const started = await startServer(defer, (server) =>
      server.register('Slow', {
        async Run() {
          await release.promise;
          return 'done';
        },
      }),
    );
    const gateway = new Gateway({ addresses: [started.address] });
    const url = await gateway.listen('http://127.0.0.1:0');
    const inFlight = post(`${url}/Slow/Run`, '{}');
    await expect.poll(() => gateway.requestsInFlight).toBe(1);
    const closed = gateway.close();
    release.resolve();
    const response = await inFlight;
    expect(await response.json()).toBe('done');
    await closed;
    await expect(post(`${url}/Slow/Run`, '{}')).rejects.toThrow();
  });

  it('a discovery factory: one XClient per service, made on first use', async () => {
    const { defer } = trackHandles();
    const registry = memoryRegistry();
    await startServer(defer, (server) => helloWorld(server), { registries: [registry] });
    const asked: string[] = [];
    const gateway = new Gateway({
      discovery: (service) => {
        asked.push(service);
        return registry.discovery(service);
      },
    });
    const url = await gateway.listen('http://127.0.0.1:0');
    defer(() => gateway.close({ graceMs: 0 }));
    for (const name of ['a', 'b']) {
      const response = await post(`${url}/HelloWorld/Greet`, JSON.stringify({ First: name }));
      expect(await response.json()).toEqual({ Second: `Hello ${name}` });
    }
    const none = await post(`${url}/Ghost/Greet`, '{}');
    expect(none.status).toBe(503);
    expect(none.headers.get('retry-after')).toBe('1');
    await post(`${url}/Ghost/Greet`, '{}');
    // HelloWorld is kept; Ghost, which no server offers, is asked for afresh each time.
    expect(asked).toEqual(['HelloWorld', 'Ghost', 'Ghost']);
  });
});

describe('gateway: listening and mounting', () => {
  const key = readFileSync(new URL('../fixtures/tls-key.pem', import.meta.url));
  const cert = readFileSync(new URL('../fixtures/tls-cert.pem', import.meta.url));

  it('listens on https with the tls option', async () => {
    const { defer } = trackHandles();
    const started = await startServer(defer, (server) => helloWorld(server));
    const gateway = new Gateway({ addresses: [started.address] });
    const url = await gateway.listen('https://127.0.0.1:0', { tls: { key, cert } });
    defer(() => gateway.close({ graceMs: 0 }));
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const reply = await new Promise<string>((resolve, reject) => {
      const request = httpsRequest(
        `${url}/HelloWorld/Greet`,
        { method: 'POST', headers: JSON_HEADERS, ca: cert },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          response.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
      request.end('{"First":"tls"}');
    });
    expect(JSON.parse(reply)).toEqual({ Second: 'Hello tls' });
  });

  it("its handler mounts in a node:http server of one's own, beside other routes", async () => {
    const { defer } = trackHandles();
    const started = await startServer(defer, (server) => helloWorld(server));
    const gateway = new Gateway({ addresses: [started.address] });
    defer(() => gateway.close({ graceMs: 0 }));
    const own = createServer((request, response) => {
      if (request.url === '/health') response.end('ok');
      else gateway.handler(request, response);
    });
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    defer(() => new Promise<void>((resolve) => own.close(() => resolve())));
    defer(() => own.closeAllConnections());
    const url = `http://127.0.0.1:${(own.address() as AddressInfo).port}`;
    expect(await (await fetch(`${url}/health`)).text()).toBe('ok');
    const response = await post(`${url}/HelloWorld/Greet`, '{"First":"mounted"}');
    expect(await response.json()).toEqual({ Second: 'Hello mounted' });
  });
});

describe('Gateway options', () => {
  it('rejects bad options at construction, naming them', () => {
    const addresses = ['tcp@127.0.0.1:1'];
    expect(() => new Gateway(undefined as unknown as GatewayOptions)).toThrow(/exactly one of discovery/);
    expect(() => new Gateway({ addresses, discovery: () => memoryRegistry().discovery('x') })).toThrow(
      /exactly one/,
    );
    expect(() => new Gateway({ addresses: [] })).toThrow(/addresses must be a non-empty list/);
    expect(() => new Gateway({ addresses, maxBodyBytes: -1 })).toThrow(/maxBodyBytes/);
    expect(() => new Gateway({ addresses, bodyTimeoutMs: 0 })).toThrow(/bodyTimeoutMs/);
    expect(() => new Gateway({ addresses, maxInFlight: 0 })).toThrow(/maxInFlight/);
    expect(() => new Gateway({ addresses, timeoutMs: 10, maxTimeoutMs: 5 })).toThrow(/timeoutMs/);
    expect(() => new Gateway({ addresses, jsonRpcPath: 'rpc' })).toThrow(/jsonRpcPath/);
    expect(() => new Gateway({ addresses, metadataPrefix: 'Bad Prefix' })).toThrow(/metadataPrefix/);
    expect(() => new Gateway({ addresses, cors: { origins: '*', credentials: true } })).toThrow(
      /credentials/,
    );
    expect(() => new Gateway({ addresses, cors: { origins: 'x' as never } })).toThrow(/cors.origins/);
    expect(() => new Gateway({ addresses, failMode: 'sometimes' as never })).toThrow(/failMode/);
    expect(() => new Gateway({ addresses, backend: {} as never })).toThrow(/exactly one/);
  });

  it('listen() rejects addresses that are not http(s)://host:port, and https without tls', async () => {
    const gateway = new Gateway({ addresses: ['tcp@127.0.0.1:1'] });
    await expect(gateway.listen('tcp@127.0.0.1:0')).rejects.toThrow(/URL like http/);
    await expect(gateway.listen('ftp://127.0.0.1:0')).rejects.toThrow(/http:\/\/host:port/);
    await expect(gateway.listen('http://127.0.0.1')).rejects.toThrow(/http:\/\/host:port/);
    await expect(gateway.listen('https://127.0.0.1:0')).rejects.toThrow(/tls option/);
    await expect(gateway.listen('http://127.0.0.1:0', { maxConnections: 0 })).rejects.toThrow(
      /maxConnections/,
    );
    await gateway.close();
    await expect(gateway.listen('http://127.0.0.1:0')).rejects.toThrow(/closed/);
  });
});
