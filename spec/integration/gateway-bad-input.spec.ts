import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { BehaviorSubject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Gateway, type GatewayOptions } from '../../lib/gateway/index.js';
import { type CallContext, CancelledError, type Discovery, type ServiceInstance } from '../../lib/index.js';
import { recordingLogger } from '../support/bad-input-logger.js';
import { type Deferred, deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { startServer } from '../support/servers.js';

const { defer } = trackHandles();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_BODY_BYTES = 64 * KiB;

/** The phobos server behind the gateway: `Echo.Say` returns its args, `Echo.Wait` holds until `release`. */
async function backend() {
  let calls = 0;
  const entered: CallContext[] = [];
  const enteredWaiters: Array<{ count: number; done: Deferred<void> }> = [];
  const aborted = deferred<unknown>();
  const gate = deferred();
  const { server, address } = await startServer(defer, (server) =>
    server.register('Echo', {
      Say(args: unknown) {
        calls += 1;
        return args;
      },
      Wait(args: unknown, ctx: CallContext) {
        calls += 1;
        entered.push(ctx);
        for (const waiter of enteredWaiters) if (entered.length >= waiter.count) waiter.done.resolve();
        ctx.signal.addEventListener('abort', () => aborted.resolve(ctx.signal.reason), { once: true });
        return gate.promise.then(() => args);
      },
    }),
  );
  // A handler still waiting at the end would hold the server's shutdown for nothing.
  defer(() => gate.resolve());
  return {
    address,
    calls: () => calls,
    /** Connections the server has open (the gateway's to it). */
    connections: () => server.connectionCount,
    /** Resolves once `count` Wait handlers have started. */
    entered(count: number): Promise<void> {
      const done = deferred();
      if (entered.length >= count) done.resolve();
      else enteredWaiters.push({ count, done });
      return done.promise;
    },
    /** The reason of the first Wait handler's aborted signal. */
    aborted: aborted.promise,
    /** Lets every Wait handler return. */
    release: () => gate.resolve(),
  };
}

/** A gateway on a free loopback port in front of `address`, closed by the test's cleanup. */
async function startGateway(options: GatewayOptions) {
  const log = recordingLogger();
  const gateway = new Gateway({ logger: log.logger, maxBodyBytes: MAX_BODY_BYTES, ...options });
  const url = await gateway.listen('http://127.0.0.1:0');
  defer(() => gateway.close({ graceMs: 0 }));
  return { gateway, url, port: Number(new URL(url).port), log };
}

/** One HTTP response, its body as text. */
interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** POSTs `body` on a connection of its own (or of `agent`) and reads the whole answer. */
function post(
  url: string,
  path: string,
  body: string | Buffer,
  headers: OutgoingHttpHeaders = { 'content-type': 'application/json' },
  agent?: Agent,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url}${path}`,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        agent: agent ?? false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The JSON error body of an answer. */
function errorOf(answer: Answer): { code: string; message: string } {
  expect(answer.headers['content-type']).toBe('application/json');
  return JSON.parse(answer.body) as { code: string; message: string };
}

/** Checks that a good call goes through the gateway and reaches the service. */
async function expectServing(url: string): Promise<void> {
  const answer = await post(url, '/Echo/Say', '{"still":"here"}');
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body)).toEqual({ still: 'here' });
}

/** A response read off a raw connection. */
interface RawAnswer {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

/** A raw TCP connection to the gateway: the test controls every byte it sends. */
interface RawConnection {
  readonly socket: Socket;
  /** The first response on the connection (rejects when the server closes without one). */
  readonly answer: Promise<RawAnswer>;
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;
  write(bytes: string | Buffer): void;
}

function rawConnection(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const answer = deferred<RawAnswer>();
    const closed = deferred();
    let received = Buffer.alloc(0);
    const parse = (ended: boolean): void => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) {
        if (ended) answer.reject(new Error(`closed without a response: ${JSON.stringify(String(received))}`));
        return;
      }
      const [statusLine = '', ...lines] = received.subarray(0, end).toString('latin1').split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const length = headers.get('content-length');
      const body = received.subarray(end + 4);
      if (length !== undefined && body.length < Number(length) && !ended) return;
      if (length === undefined && !ended) return;
      answer.resolve({
        status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1] ?? 0),
        headers,
        body: body.subarray(0, length === undefined ? body.length : Number(length)).toString(),
      });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      parse(false);
    });
    socket.on('end', () => parse(true));
    // A reset after the server answered is what some of these requests earn.
    socket.on('error', () => {});
    socket.once('close', () => {
      parse(true);
      closed.resolve();
    });
    answer.promise.catch(() => {});
    defer(async () => {
      socket.destroy();
      await closed.promise;
    });
    socket.once('connect', () =>
      resolve({
        socket,
        answer: answer.promise,
        closed: closed.promise,
        write: (bytes) => socket.write(bytes),
      }),
    );
    socket.once('error', reject);
  });
}

/** Request head bytes for `POST path` with the given extra header lines. */
function head(path: string, lines: readonly string[]): string {
  return `POST ${path} HTTP/1.1\r\nHost: gateway\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`;
}

/** Waits for a condition that the event loop will make true (a close, a cleanup). */
async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 2_000) throw new Error(`never happened: ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
  }
}

/** A keep-alive agent closed by the test's cleanup. */
function keepAliveAgent(maxSockets: number): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets });
  defer(() => agent.destroy());
  return agent;
}

/** Runs `count` tasks, `lanes` at a time. */
async function inLanes(count: number, lanes: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) {
        const index = next++;
        await task(index);
      }
    }),
  );
}

describe('the gateway facing bad HTTP input', () => {
  it('malformed JSON - 400 saying so; the service is never called and the next call is served', async () => {
    const service = await backend();
    const { url, log } = await startGateway({ addresses: [service.address] });

    for (const body of ['{"First":', 'not json', '{"a":1}}', '\u0000', '[1,2', '"unterminated']) {
      const answer = await post(url, '/Echo/Say', body);
      expect(answer.status, body).toBe(400);
      expect(errorOf(answer)).toMatchObject({ code: 'invalid_argument', message: /the body is not JSON/ });
    }

    expect(service.calls()).toBe(0);
    await expectServing(url);
    expect(service.calls()).toBe(1);
    expect(log.logs).toEqual([]);
  });

  it('wrong content types and encodings - 415; nothing reaches the service', async () => {
    const service = await backend();
    const { url } = await startGateway({ addresses: [service.address] });

    for (const type of [
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
    ]) {
      const answer = await post(url, '/Echo/Say', '{}', { 'content-type': type });
      expect(answer.status, type).toBe(415);
      expect(errorOf(answer).message).toMatch(/is not served here/);
    }
    // Connect: a type it does not take, unary or streaming (connect+json and +proto are streams,
    // spec/integration/gateway-stream.spec.ts).
    for (const type of ['text/plain', 'application/connect+xml', 'application/connect+']) {
      const answer = await post(url, '/Echo/Say', '\u0000\u0000\u0000\u0000\u0002{}', {
        'content-type': type,
        'connect-protocol-version': '1',
      });
      expect(answer.status, type).toBe(415);
    }
    for (const encoding of ['br', 'deflate', 'compress']) {
      const answer = await post(url, '/Echo/Say', '{}', {
        'content-type': 'application/json',
        'content-encoding': encoding,
      });
      expect(answer.status, encoding).toBe(415);
      expect(errorOf(answer).message).toMatch(/Content-Encoding/);
    }

    expect(service.calls()).toBe(0);
    await expectServing(url);
  });

  it('maxBodyBytes - a body of exactly the limit is served, one byte more is 413', async () => {
    const service = await backend();
    const { url } = await startGateway({ addresses: [service.address] });
    const fits = JSON.stringify('x'.repeat(MAX_BODY_BYTES - 2));
    expect(fits.length).toBe(MAX_BODY_BYTES);

    const atLimit = await post(url, '/Echo/Say', fits);
    const over = await post(url, '/Echo/Say', `${fits} `);

    expect(atLimit.status).toBe(200);
    expect(atLimit.body).toBe(fits);
    expect(over.status).toBe(413);
    expect(errorOf(over)).toMatchObject({ code: 'resource_exhausted' });
    expect(service.calls()).toBe(1);
  });

  it('a Content-Length past maxBodyBytes - 413 at once, before the body is sent, and the connection closes', async () => {
    const service = await backend();
    const { url, port } = await startGateway({ addresses: [service.address] });
    const raw = await rawConnection(port);

    raw.write(head('/Echo/Say', ['Content-Type: application/json', `Content-Length: ${100 * MiB}`]));

    const answer = await raw.answer;
    expect(answer.status).toBe(413);
    expect(answer.headers.get('connection')).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'resource_exhausted' });
    await raw.closed;
    expect(service.calls()).toBe(0);
    await expectServing(url);
  });

  it('a chunked body growing past maxBodyBytes - 413 once the limit is passed, and the connection closes', async () => {
    const service = await backend();
    const { url, port } = await startGateway({ addresses: [service.address] });
    const raw = await rawConnection(port);
    const chunk = Buffer.alloc(4 * KiB, 0x20);

    raw.write(head('/Echo/Say', ['Content-Type: application/json', 'Transfer-Encoding: chunked']));
    // Past the limit by one chunk, and no last chunk: the body never ends by itself.
    for (let sent = 0; sent <= MAX_BODY_BYTES; sent += chunk.length) {
      raw.write(Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]));
    }

    const answer = await raw.answer;
    expect(answer.status).toBe(413);
    expect(answer.headers.get('connection')).toBe('close');
    await raw.closed;
    expect(service.calls()).toBe(0);
    await expectServing(url);
  });

  it('a gzip bomb - 413 when it would inflate past maxBodyBytes; one inflating to just under is served', async () => {
    const service = await backend();
    const { url } = await startGateway({ addresses: [service.address] });
    const json = (bytes: number): Buffer => Buffer.from(JSON.stringify(' '.repeat(bytes - 2)));
    const bomb = gzipSync(json(64 * MAX_BODY_BYTES), { level: 9 });
    const small = gzipSync(json(MAX_BODY_BYTES - 1), { level: 9 });
    // Both are small on the wire: only inflating tells them apart.
    expect(bomb.length).toBeLessThan(MAX_BODY_BYTES / 8);

    const refused = await post(url, '/Echo/Say', bomb, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    const served = await post(url, '/Echo/Say', small, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });

    expect(refused.status).toBe(413);
    expect(errorOf(refused)).toMatchObject({ code: 'resource_exhausted' });
    expect(served.status).toBe(200);
    expect(served.body.length).toBe(MAX_BODY_BYTES - 1);
    expect(service.calls()).toBe(1);
  });

  it('gzip that does not inflate - 400 saying so', async () => {
    const service = await backend();
    const { url } = await startGateway({ addresses: [service.address] });
    const good = gzipSync(Buffer.from('{"a":1}'));

    for (const body of [
      Buffer.from('plainly not gzip'),
      good.subarray(0, good.length - 6),
      Buffer.concat([good.subarray(0, 10), Buffer.alloc(20, 0xff)]),
    ]) {
      const answer = await post(url, '/Echo/Say', body, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      });
      expect(answer.status).toBe(400);
      expect(errorOf(answer)).toMatchObject({
        code: 'invalid_argument',
        message: /the gzip body does not inflate/,
      });
    }

    expect(service.calls()).toBe(0);
    await expectServing(url);
  });

  it('a slow body - 408 after bodyTimeoutMs, the connection closes, the service is never called', async () => {
    const service = await backend();
    const { url, port } = await startGateway({ addresses: [service.address], bodyTimeoutMs: 300 });
    const raw = await rawConnection(port);

    raw.write(head('/Echo/Say', ['Content-Type: application/json', 'Content-Length: 100']));
    raw.write('{"First": "sl');

    const answer = await raw.answer;
    expect(answer.status).toBe(408);
    expect(answer.headers.get('connection')).toBe('close');
    expect(JSON.parse(answer.body)).toMatchObject({
      code: 'deadline_exceeded',
      message: 'the request body did not arrive within 300 ms',
    });
    await raw.closed;
    expect(service.calls()).toBe(0);
    await expectServing(url);
  });

  it.each([
    ['a CR', 'a\rb'],
    ['a LF', 'a\nb'],
    ['a NUL', 'a\u0000b'],
    ['a CR LF and a line without a colon', 'a\r\nno colon here'],
    ['a DEL', 'a\u007fb'],
  ])(
    'a header value with %s - the HTTP parser answers 400 and the gateway stays up',
    async (_name, value) => {
      const service = await backend();
      const { url, port, gateway, log } = await startGateway({ addresses: [service.address] });
      const raw = await rawConnection(port);

      raw.write(`${head('/Echo/Say', [`Phobos-Meta-Tag: ${value}`, 'Content-Length: 2'])}{}`);

      const answer = await raw.answer;
      expect(answer.status).toBe(400);
      await raw.closed;
      expect(service.calls()).toBe(0);
      expect(gateway.requestsInFlight).toBe(0);
      await expectServing(url);
      expect(log.logs).toEqual([]);
    },
  );

  it('unknown services behind fixed addresses - 404 from the server, and no more clients than maxServices', async () => {
    const service = await backend();
    const { url } = await startGateway({ addresses: [service.address], maxServices: 4 });

    for (let i = 0; i < 50; i++) {
      const answer = await post(url, `/NoSuchService${i}/Say`, '{}');
      expect(answer.status).toBe(404);
      expect(errorOf(answer)).toMatchObject({ code: 'not_found' });
    }

    // A client that the server answered "no such service" is dropped at once: none is kept per
    // made-up name, and its connection closes (a moment later at the server).
    await eventually(() => service.connections() === 0, `no connection kept (${service.connections()})`);
    await expectServing(url);
    expect(service.connections()).toBe(1);
    // A service that has answered keeps its client through an unknown method.
    const missing = await post(url, '/Echo/NoSuchMethod', '{}');
    expect(missing.status).toBe(404);
    await expectServing(url);
    expect(service.connections()).toBe(1);
  });

  it('many calls at once to one made-up service - every one gets its own 404, none a cut connection', async () => {
    const service = await backend();
    const { url } = await startGateway({ addresses: [service.address] });
    for (let round = 0; round < 5; round++) {
      const answers = await Promise.all(
        Array.from({ length: 40 }, () => post(url, `/Ghost${round}/Say`, '{}')),
      );
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 404));
    }
    await eventually(() => service.connections() === 0, `no connection kept (${service.connections()})`);
  });

  it("headers that never finish - 408 after headersTimeoutMs, on the gateway's listener and on an RPC port with http", async () => {
    const service = await backend();
    const gateway = new Gateway({ addresses: [service.address] });
    const url = await gateway.listen('http://127.0.0.1:0', { headersTimeoutMs: 200 });
    defer(() => gateway.close({ graceMs: 0 }));
    const { address } = await startServer(
      defer,
      (s) => s.register('Echo', { Say: (args: unknown) => args }),
      {
        http: true,
        frameTimeoutMs: 200,
      },
    );
    for (const port of [Number(new URL(url).port), Number(address.split(':').pop())]) {
      const connection = await rawConnection(port);
      connection.write('POST /Echo/Say HTTP/1.1\r\nHost: x\r\n');
      // Trickled header lines do not keep it open.
      const trickle = setInterval(() => connection.write('X-Slow: 1\r\n'), 20);
      await connection.closed.finally(() => clearInterval(trickle));
      expect((await connection.answer).status).toBe(408);
    }
  });

  it('an error answered before an empty body is read keeps the connection; with a body unread it closes', async () => {
    const service = await backend();
    const { url } = await startGateway({ addresses: [service.address] });
    const agent = keepAliveAgent(1);
    const badTimeout = { 'content-type': 'application/json', 'connect-timeout-ms': 'soon' };
    const empty = await post(url, '/Echo/Say', '', badTimeout, agent);
    expect(empty.status).toBe(400);
    expect(empty.headers.connection).toBe('keep-alive');
    const withBody = await post(url, '/Echo/Say', '{}', badTimeout, agent);
    expect(withBody.status).toBe(400);
    expect(withBody.headers.connection).toBe('close');
    const grpcWeb = await post(url, '/Echo/Say', '{}', { 'content-type': 'application/grpc-web+json' });
    expect(grpcWeb.status).toBe(415);
  });

  it('a service outside the services list - 404 without asking discovery', async () => {
    const service = await backend();
    const asked: string[] = [];
    const { url } = await startGateway({
      services: ['Echo'],
      discovery: (name) => {
        asked.push(name);
        return singleServer(service.address);
      },
    });

    const answer = await post(url, '/Elsewhere/Say', '{}');

    expect(answer.status).toBe(404);
    expect(errorOf(answer).message).toBe('unknown service "Elsewhere"');
    expect(asked).toEqual([]);
    await expectServing(url);
    expect(asked).toEqual(['Echo']);
  });

  it('1,000 made-up service names with discovery that knows none - each refused, no client kept per name', async () => {
    const service = await backend();
    const made: string[] = [];
    let closed = 0;
    const { url } = await startGateway({
      discovery: (name) => {
        if (name === 'Echo') return singleServer(service.address);
        made.push(name);
        return {
          instances$: new BehaviorSubject<readonly ServiceInstance[]>([]).asObservable(),
          close: () => {
            closed += 1;
          },
        };
      },
    });
    const agent = keepAliveAgent(8);
    const statuses = new Map<number, number>();
    await expectServing(url);
    const handlesBefore = activeHandleCount();

    await inLanes(1_000, 8, async (index) => {
      const name = `Made${index}x${Math.random().toString(36).slice(2)}`;
      const answer = await post(url, `/${name}/Say`, '{}', undefined, agent);
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    });

    // No server offers any of them: unavailable, with a hint to retry.
    expect([...statuses]).toEqual([[503, 1_000]]);
    expect(made).toHaveLength(1_000);
    // Each discovery is released once its call failed: none is kept for a name no server has.
    await eventually(
      () => closed === made.length,
      `all ${made.length} discoveries closed (${closed} so far)`,
    );
    // Handles and timers while the gateway still runs: the agent's 8 connections (both ends)
    // come and go; a client kept per name, with its timers, would add hundreds.
    expect(activeHandleCount() - handlesBefore).toBeLessThan(2 * 8 + 16);
    await expectServing(url);
  });

  it('a backend killed while a call waits in its handler - 502 or 503 JSON at once, not a hang', async () => {
    const child = await childServer();
    // A far-off deadline: only the backend's death can end this call within the test.
    const { url } = await startGateway({ addresses: [child.address], timeoutMs: 120_000 });

    const pending = post(url, '/Echo/Wait', '{"n":1}');
    await child.inHandler;
    child.process.kill('SIGKILL');
    const answer = await pending;

    expect([502, 503]).toContain(answer.status);
    expect(errorOf(answer)).toMatchObject({ code: 'unavailable' });
    expect(answer.headers['retry-after']).toBe('1');
    // The next call does not wait for the dead server either.
    const next = await post(url, '/Echo/Wait', '{"n":2}');
    expect([502, 503]).toContain(next.status);
  });

  it("a client that goes away mid-call - the handler's signal aborts", async () => {
    const service = await backend();
    const { port, gateway } = await startGateway({ addresses: [service.address] });
    const raw = await rawConnection(port);

    raw.write(`${head('/Echo/Wait', ['Content-Type: application/json', 'Content-Length: 2'])}{}`);
    await service.entered(1);
    raw.socket.destroy();

    const reason = await service.aborted;
    expect(reason).toBeInstanceOf(CancelledError);
    await eventually(() => gateway.requestsInFlight === 0, 'the request is over');
  });

  // A few seconds on a quiet machine; a busy one may take several times that.
  it('10,000 requests with bad headers over keep-alive - each its 400, then good calls; no leak, memory bounded', {
    timeout: 120_000,
  }, async () => {
    const service = await backend();
    const { url, log } = await startGateway({ addresses: [service.address] });
    const agent = keepAliveAgent(8);
    const bad: readonly BadHeaders[] = [
      {
        path: '/Echo/Say',
        headers: { 'content-type': 'application/json', 'connect-timeout-ms': 'soon' },
        message: /timeout header must be 1 to 10 digits/,
      },
      {
        path: '/Echo/Say',
        headers: { 'content-type': 'application/json', 'connect-timeout-ms': '12345678901' },
        message: /timeout header must be 1 to 10 digits/,
      },
      {
        path: '/Echo',
        headers: { 'mrpc-gateway-servicemethod': 'Say', 'mrpc-gateway-serializetype': '99' },
        message: /MRPC-Gateway-SerializeType must be 0\.\.15/,
      },
      {
        path: '/Echo',
        headers: { 'mrpc-gateway-servicemethod': 'Say', 'mrpc-gateway-messageid': 'one' },
        message: /MRPC-Gateway-MessageID must be a decimal uint64/,
      },
      {
        path: '/Echo',
        headers: { 'mrpc-gateway-servicemethod': 'Say', 'mrpc-gateway-messageid': '18446744073709551616' },
        message: /MRPC-Gateway-MessageID must be a decimal uint64/,
      },
      {
        path: '/Echo/Say',
        headers: { 'content-type': 'application/json', 'connect-protocol-version': '2' },
        message: /Connect-Protocol-Version must be 1/,
      },
      {
        path: '/Echo/Say',
        headers: { 'content-type': 'application/json', 'phobos-meta-tag': 'x' },
        body: '{"First":',
        message: /the body is not JSON/,
      },
    ];
    // Over keep-alive connections: an error answered before a body was read closes its
    // connection (the agent dials another), one answered after it keeps the connection.
    const send = async (index: number): Promise<void> => {
      const kind = bad[index % bad.length] as BadHeaders;
      const answer = await post(url, kind.path, kind.body ?? '{}', kind.headers, agent);
      if (answer.status !== 400) throw new Error(`request ${index}: ${answer.status} ${answer.body}`);
      const message =
        answer.headers['mrpc-gateway-errormessage'] ??
        (JSON.parse(answer.body) as { message: string }).message;
      if (!kind.message.test(String(message))) throw new Error(`request ${index}: ${message}`);
    };

    // A first round compiles the code paths and fills the pools before the heap is measured.
    await inLanes(1_000, 8, send);
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    await inLanes(10_000, 8, send);
    gc();
    gc();
    const grown = process.memoryUsage().heapUsed - before;

    // A gateway that kept anything per request (the request, its response, a listener on the
    // socket) would hold a few KiB for each of 10,000: tens of MiB. What is left besides is
    // the collector's slack and code compiled along the way, a few MiB; 32 MiB leaves room
    // for that on any machine while catching a per-request leak of 4 KiB or more.
    expect(grown).toBeLessThan(32 * MiB);
    expect(service.calls()).toBe(0);
    await expectServing(url);
    const good = await post(url, '/Echo/Say', '{"again":true}', undefined, agent);
    expect(good.status).toBe(200);
    expect(log.logs).toEqual([]);
  });

  it('maxInFlight - past it 429 with Retry-After; once the calls finish everything is served', async () => {
    const service = await backend();
    const { url } = await startGateway({ addresses: [service.address], maxInFlight: 2 });

    const first = post(url, '/Echo/Wait', '{"n":1}');
    const second = post(url, '/Echo/Wait', '{"n":2}');
    await service.entered(2);
    const third = await post(url, '/Echo/Say', '{"n":3}');

    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect(errorOf(third)).toMatchObject({ code: 'resource_exhausted' });
    service.release();
    expect((await first).body).toBe('{"n":1}');
    expect((await second).body).toBe('{"n":2}');
    const fourth = await post(url, '/Echo/Say', '{"n":4}');
    expect(fourth.status).toBe(200);
    expect(fourth.body).toBe('{"n":4}');
    // Two Wait calls and the fourth: the refused one never reached the service.
    expect(service.calls()).toBe(3);
  });
});

/** A request refused for a bad header (or body): what it sends and what its 400 must say. */
interface BadHeaders {
  readonly path: string;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: string;
  readonly message: RegExp;
}

/** The process's active handles and timers. */
function activeHandleCount(): number {
  return process.getActiveResourcesInfo().length;
}

/** A discovery of one server. */
function singleServer(address: string): Discovery {
  return {
    instances$: new BehaviorSubject<readonly ServiceInstance[]>([
      { key: address, address, metadata: {} },
    ]).asObservable(),
  };
}

/** The program of {@link childServer}: `Echo.Wait` says so on stdout and never returns. */
const CHILD_SERVER = `
const { Server, silentLogger } = await import(${JSON.stringify(new URL('../../lib/index.ts', import.meta.url).href)});
const server = new Server({ logger: silentLogger });
server.register('Echo', { Wait() { process.stdout.write('in handler\\n'); return new Promise(() => {}); } });
process.stdout.write(JSON.stringify({ address: await server.listen('tcp@127.0.0.1:0') }) + '\\n');
`;

/** A phobos server in a process of its own, to be killed; its `Echo.Wait` reports entering. */
async function childServer(): Promise<{ address: string; inHandler: Promise<void>; process: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD_SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const address = deferred<string>();
  const inHandler = deferred();
  lines.on('line', (line) => {
    if (line === 'in handler') inHandler.resolve();
    else address.resolve((JSON.parse(line) as { address: string }).address);
  });
  void exited.then(() => address.reject(new Error('the child server exited before it listened')));
  return { address: await address.promise, inHandler: inHandler.promise, process: child };
}
