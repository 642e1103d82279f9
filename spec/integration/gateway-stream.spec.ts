import { spawn } from 'node:child_process';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { create, createFileRegistry, type Message } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import protobuf from 'protobufjs';
import { concat, finalize, NEVER, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { connectEnvelope } from '../../lib/gateway/connect-envelope.js';
import { Gateway, type GatewayBackend, type GatewayOptions } from '../../lib/gateway/index.js';
import { type CallContext, silentLogger } from '../../lib/index.js';
import { type Deferred, deferred } from '../support/deferred.js';
import { EventStreamParser, parseEventStream, type ServerSentEvent } from '../support/event-stream.js';
import { trackHandles } from '../support/handles.js';
import { startServer } from '../support/servers.js';

const { defer } = trackHandles();

/** What the streaming handlers of one server did. */
interface Probe {
  /** Values `Forever` made. */
  produced: number;
  /** `Forever` and `Hang` handlers that started, had `ctx.signal` aborted, ended (`finally`). */
  started: number;
  aborted: number;
  stopped: number;
  /** Resolves when a `Forever` or `Hang` handler ends. */
  stop: Deferred<void>;
  /** Metadata the last `Meta` call saw. */
  metadata?: ReadonlyMap<string, string>;
}

/** A Ticker: `Count` and `Fail` end, `Forever` (paced by credit) and `Hang` do not. */
function ticker(probe: Probe) {
  const started = (ctx: CallContext): void => {
    probe.started++;
    ctx.signal.addEventListener('abort', () => {
      probe.aborted++;
    });
  };
  const stopped = (): void => {
    probe.stopped++;
    probe.stop.resolve();
  };
  return {
    async *Count(args: { n: number }) {
      for (let i = 0; i < args.n; i++) yield { i };
    },
    async *Fail(args: { n: number }) {
      for (let i = 0; i < args.n; i++) yield { i };
      throw new Error(`broke after ${args.n}`);
    },
    async *Forever(args: { bytes?: number } | undefined, ctx: CallContext) {
      started(ctx);
      const pad = 'x'.repeat(args?.bytes ?? 0);
      try {
        for (let i = 0; ; i++) {
          probe.produced++;
          yield { i, pad };
        }
      } finally {
        stopped();
      }
    },
    Hang(_args: unknown, ctx: CallContext) {
      started(ctx);
      return concat(of({ i: 0 }), NEVER).pipe(finalize(stopped));
    },
    One(args: unknown) {
      return { echo: args };
    },
    async *Meta(_args: unknown, ctx: CallContext) {
      probe.metadata = new Map(ctx.metadata);
      yield { tenant: ctx.metadata.get('tenant') ?? null };
    },
  };
}

function newProbe(): Probe {
  return { produced: 0, started: 0, aborted: 0, stopped: 0, stop: deferred() };
}

/** A Ticker server and a gateway in front of it; `url` is the gateway's. */
async function tickerGateway(options: Partial<GatewayOptions> = {}) {
  const probe = newProbe();
  const { address } = await startServer(defer, (server) => server.register('Ticker', ticker(probe)));
  const gateway = new Gateway({ addresses: [address], logger: silentLogger, ...options } as GatewayOptions);
  const url = await gateway.listen('http://127.0.0.1:0');
  defer(() => gateway.close({ graceMs: 0 }));
  return { url, gateway, probe, address };
}

/** A Ticker server answering HTTP on its RPC port (the in-process backend). */
async function tickerAnsweringHttp() {
  const probe = newProbe();
  const { address } = await startServer(defer, (server) => server.register('Ticker', ticker(probe)), {
    http: true,
  });
  return { url: `http://${address.replace(/^tcp@/, '')}`, probe };
}

/** A Server-Sent Events response being read with node:http. */
interface EventStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly parser: EventStreamParser;
  /** The raw text so far. */
  readonly text: () => string;
  /** Resolves with every event once the response has ended. */
  readonly ended: Promise<ServerSentEvent[]>;
  /** Resolves once `count` events have arrived. */
  events(count: number): Promise<ServerSentEvent[]>;
  /** Resolves once `count` comments (keepalives) have arrived. */
  comments(count: number): Promise<void>;
  /** Goes away: destroys the request and its socket. */
  close(): void;
}

const SSE = { accept: 'text/event-stream' };

function openEvents(
  url: string,
  options: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: { ...SSE, ...options.headers }, agent: false },
      (response) => {
        const parser = new EventStreamParser();
        let text = '';
        const waiters: (() => void)[] = [];
        const wake = (): void => {
          for (const waiter of waiters.splice(0)) waiter();
        };
        const until = (ready: () => boolean): Promise<void> =>
          new Promise((done, fail) => {
            const check = (): void => {
              if (ready()) done();
              else if (response.complete || response.destroyed)
                fail(new Error(`the stream ended first; it held: ${text}`));
              else waiters.push(check);
            };
            check();
          });
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
          parser.push(chunk);
          wake();
        });
        const ended = new Promise<ServerSentEvent[]>((done, fail) => {
          response.on('end', () => {
            done(parser.events);
            wake();
          });
          response.on('error', fail);
          response.on('close', () => {
            if (!response.complete) fail(new Error('the response was cut short'));
            wake();
          });
        });
        ended.catch(() => {});
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          parser,
          text: () => text,
          ended,
          events: async (count) => {
            await until(() => parser.events.length >= count);
            return parser.events.slice(0, count);
          },
          comments: (count) => until(() => parser.comments >= count),
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const data = (events: readonly ServerSentEvent[]): unknown[] =>
  events.filter((event) => event.event === 'message').map((event) => JSON.parse(event.data));

const query = (args: unknown): string => `?args=${encodeURIComponent(JSON.stringify(args))}`;

/** Runs curl and resolves with what it printed, once it exits. */
function curl(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) =>
      reject(
        new Error(
          `curl did not run (${error.message}): install it (apt-get install -y curl) to run the gateway's curl tests`,
        ),
      ),
    );
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The envelopes of a Connect stream response body. */
function envelopes(body: Uint8Array): { flags: number; json: unknown }[] {
  const bytes = Buffer.from(body);
  const out: { flags: number; json: unknown }[] = [];
  for (let at = 0; at < bytes.length; ) {
    expect(bytes.length - at, 'an envelope prefix').toBeGreaterThanOrEqual(5);
    const flags = bytes[at] as number;
    const length = bytes.readUInt32BE(at + 1);
    out.push({ flags, json: JSON.parse(bytes.subarray(at + 5, at + 5 + length).toString()) });
    at += 5 + length;
  }
  return out;
}

function postConnect(url: string, message: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/connect+json', 'connect-protocol-version': '1', ...headers },
    body: connectEnvelope(0, Buffer.from(JSON.stringify(message))),
  });
}

describe('gateway streams: Server-Sent Events', () => {
  it('GET with ?args=<JSON>: a data event per value in order, then event: end, and the response ends', async () => {
    const { url } = await tickerGateway();
    const stream = await openEvents(`${url}/Ticker/Count${query({ n: 5 })}`);

    const events = await stream.ended;

    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream');
    expect(stream.headers['cache-control']).toBe('no-cache');
    expect(data(events)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(events.at(-1)).toEqual({ event: 'end', data: '{}' });
    expect(events).toHaveLength(6);
  });

  it('POST with a JSON body streams the same way; request headers reach the handler as metadata', async () => {
    const { url, probe } = await tickerGateway();
    const counted = await openEvents(`${url}/Ticker/Count`, {
      method: 'POST',
      body: '{"n":3}',
      headers: { 'content-type': 'application/json' },
    });
    expect(data(await counted.ended)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);

    const meta = await openEvents(`${url}/Ticker/Meta`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', 'phobos-meta-tenant': 'blue' },
    });
    expect(data(await meta.ended)).toEqual([{ tenant: 'blue' }]);
    expect(probe.metadata?.get('tenant')).toBe('blue');
  });

  it('a unary method asked as a stream gives one data event, then end', async () => {
    const { url } = await tickerGateway();
    const stream = await openEvents(`${url}/Ticker/One${query('hi')}`);

    expect(await stream.ended).toEqual([
      { event: 'message', data: '{"echo":"hi"}' },
      { event: 'end', data: '{}' },
    ]);
  });

  it('an error mid-stream: the values before it, then event: error with {code, message}, and the response ends', async () => {
    const { url } = await tickerGateway();
    const stream = await openEvents(`${url}/Ticker/Fail${query({ n: 2 })}`);

    const events = await stream.ended;

    expect(data(events)).toEqual([{ i: 0 }, { i: 1 }]);
    expect(events.at(-1)?.event).toBe('error');
    expect(JSON.parse(events.at(-1)?.data ?? '')).toEqual({ code: 'unknown', message: 'broke after 2' });
  });

  it('a method the server does not have: 200, then event: error not_found (the stream had started)', async () => {
    const { url } = await tickerGateway();
    const stream = await openEvents(`${url}/Ticker/Nope`);

    const events = await stream.ended;

    expect(events).toHaveLength(1);
    expect(events[0]?.event).toBe('error');
    expect(JSON.parse(events[0]?.data ?? '')).toMatchObject({ code: 'not_found' });
  });

  it('requests refused before the stream starts get their HTTP status and a JSON error body', async () => {
    const { url } = await tickerGateway({ services: ['Ticker'] });
    const cases: [string, { method?: string; body?: string; headers?: Record<string, string> }, number][] = [
      [`${url}/Ticker/Count?args=%7B`, {}, 400],
      [`${url}/Ticker/Count?args=1&args=2`, {}, 400],
      [
        `${url}/Ticker/Count`,
        { method: 'POST', body: '{"n":', headers: { 'content-type': 'application/json' } },
        400,
      ],
      [
        `${url}/Ticker/Count`,
        { method: 'POST', body: 'n=1', headers: { 'content-type': 'text/plain' } },
        415,
      ],
      [`${url}/Ticker/Count`, { method: 'PUT', body: '{}' }, 405],
      [`${url}/Ticker`, {}, 404],
      [`${url}/Other/Count`, {}, 404],
      [`${url}/Ticker/Count${query({ n: 1 })}`, { headers: { 'phobos-timeout-ms': 'soon' } }, 400],
    ];
    for (const [target, options, status] of cases) {
      const stream = await openEvents(target, options);
      await stream.ended;
      expect([target, stream.status]).toEqual([target, status]);
      expect(stream.headers['content-type']).toBe('application/json');
      expect(JSON.parse(stream.text())).toEqual({
        code: expect.any(String),
        message: expect.any(String),
        details: expect.any(Object),
      });
    }
    // Without Accept: text/event-stream, a GET is not a stream: the unary dialect refuses it.
    expect((await fetch(`${url}/Ticker/Count${query({ n: 1 })}`)).status).toBe(405);
  });

  it('the client going away cancels the stream on the server: ctx.signal aborts, the generator ends', async () => {
    const { url, gateway, probe } = await tickerGateway();
    const stream = await openEvents(`${url}/Ticker/Forever`);
    await stream.events(3);
    expect(gateway.streamsInFlight).toBe(1);

    stream.close();
    await probe.stop.promise;

    expect(probe.stopped).toBe(1);
    expect(probe.aborted).toBe(1);
    await expect.poll(() => gateway.streamsInFlight).toBe(0);
  });

  it('a quiet stream sends keepalive comments on streamKeepaliveMs, which readers skip', async () => {
    const { url } = await tickerGateway({ streamKeepaliveMs: 10 });
    const stream = await openEvents(`${url}/Ticker/Hang`);

    await stream.comments(3);

    expect(stream.text()).toContain(': keepalive\n\n');
    expect(data(stream.parser.events)).toEqual([{ i: 0 }]);
    stream.close();
  });

  it('maxStreamMs bounds a stream: event: error deadline_exceeded, and the server gives up too', async () => {
    const { url, probe } = await tickerGateway({ maxStreamMs: 50 });
    const stream = await openEvents(`${url}/Ticker/Hang`);

    const events = await stream.ended;

    expect(events.at(-1)?.event).toBe('error');
    expect(JSON.parse(events.at(-1)?.data ?? '')).toMatchObject({ code: 'deadline_exceeded' });
    await probe.stop.promise;
    expect(probe.aborted).toBe(1);
  });

  it('Phobos-Timeout-Ms sets a shorter deadline for the whole stream', async () => {
    const { url } = await tickerGateway();
    const stream = await openEvents(`${url}/Ticker/Hang`, { headers: { 'phobos-timeout-ms': '40' } });

    const events = await stream.ended;

    expect(JSON.parse(events.at(-1)?.data ?? '')).toMatchObject({ code: 'deadline_exceeded' });
  });

  it('maxStreams: one more stream is refused 429 with Retry-After, and served once a slot is free', async () => {
    const { url, gateway, probe } = await tickerGateway({ maxStreams: 2 });
    const first = await openEvents(`${url}/Ticker/Hang`);
    const second = await openEvents(`${url}/Ticker/Hang`);
    await Promise.all([first.events(1), second.events(1)]);

    const refused = await openEvents(`${url}/Ticker/Count${query({ n: 1 })}`);
    await refused.ended;
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(JSON.parse(refused.text())).toMatchObject({ code: 'resource_exhausted' });
    // A Connect stream is refused too, in its end-of-stream message.
    const connect = await postConnect(`${url}/Ticker/Count`, { n: 1 });
    expect(connect.status).toBe(200);
    expect(envelopes(new Uint8Array(await connect.arrayBuffer()))).toEqual([
      {
        flags: 2,
        json: {
          error: { code: 'resource_exhausted', message: expect.stringMatching(/more than 2 streams/) },
        },
      },
    ]);
    // Unary calls are not streams: they are still served.
    const unary = await fetch(`${url}/Ticker/One`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '1',
    });
    expect(await unary.json()).toEqual({ echo: 1 });

    first.close();
    await probe.stop.promise;
    await expect.poll(() => gateway.streamsInFlight).toBe(1);
    const again = await openEvents(`${url}/Ticker/Count${query({ n: 2 })}`);
    expect(data(await again.ended)).toEqual([{ i: 0 }, { i: 1 }]);
    second.close();
  });

  it('closing the gateway ends its streams at once with event: error unavailable, cancelled on the server', async () => {
    const { url, gateway, probe } = await tickerGateway();
    const stream = await openEvents(`${url}/Ticker/Hang`);
    await stream.events(1);

    await gateway.close({ graceMs: 60_000 });
    const events = await stream.ended;

    expect(events.at(-1)?.event).toBe('error');
    expect(JSON.parse(events.at(-1)?.data ?? '')).toMatchObject({ code: 'unavailable' });
    await probe.stop.promise;
    expect(probe.aborted).toBe(1);
  });

  it('a slow reader holds the producer back: what the server made is what the socket took, plus the window', async () => {
    const window = 4;
    const valueBytes = 64 * 1024;
    const probe = newProbe();
    const { address } = await startServer(defer, (server) => server.register('Ticker', ticker(probe)));
    const gateway = new Gateway({
      addresses: [address],
      logger: silentLogger,
      streamWindow: window,
      streamKeepaliveMs: 0,
    });
    defer(() => gateway.close({ graceMs: 0 }));
    // Mounted in a server of the test's own, to see the gateway's side of the slow socket.
    const responses: ServerResponse[] = [];
    const http = createServer((req, res) => {
      responses.push(res);
      gateway.handler(req, res);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    defer(async () => {
      const closed = new Promise((resolve) => http.close(resolve));
      http.closeAllConnections();
      await closed;
    });
    const port = (http.address() as AddressInfo).port;

    // The slow reader: asks for the stream, then reads nothing at all (node:http stops reading
    // its socket once the response's own small buffer is full).
    const slow = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(
        `http://127.0.0.1:${port}/Ticker/Forever${query({ bytes: valueBytes })}`,
        { headers: SSE, agent: false },
        resolve,
      );
      req.on('error', reject);
      defer(() => req.destroy());
      req.end();
    });
    expect(slow.statusCode).toBe(200);
    await expect.poll(() => probe.produced).toBeGreaterThan(0);

    // The clock: another stream through the same gateway and the same server connection, read
    // whole. A producer the slow reader did not hold back would have run on all the while.
    const clock = await openEvents(`http://127.0.0.1:${port}/Ticker/Count${query({ n: 2_000 })}`);
    expect(data(await clock.ended)).toHaveLength(2_000);

    // What the kernel took of the slow stream (written, and no longer in Node's buffer), in
    // values of the smallest size an event can have: more than the values it can hold.
    const socket = (responses[0] as ServerResponse).socket as Socket;
    const taken = socket.bytesWritten - socket.writableLength;
    const eventBytes = `data: ${JSON.stringify({ i: 0, pad: 'x'.repeat(valueBytes) })}\n\n`.length;
    const inKernel = Math.floor(taken / eventBytes);
    // Past those: the window, one value the server pulls ahead of its credit, one in the reader.
    expect(probe.produced).toBeLessThanOrEqual(inKernel + window + 2);

    // The reader reads at last: every value made arrives, in order.
    const parser = new EventStreamParser();
    const target = probe.produced + 8;
    const seen = deferred<void>();
    slow.setEncoding('utf8');
    slow.on('data', (chunk: string) => {
      parser.push(chunk);
      if (parser.events.length >= target) seen.resolve();
    });
    await seen.promise;
    const values = data(parser.events) as { i: number }[];
    expect(values.slice(0, target).map((value) => value.i)).toEqual([...Array(target).keys()]);

    slow.destroy();
    await probe.stop.promise;
  });

  it('new Server({ http: true }) streams on its RPC port, through its own connection', async () => {
    const { url } = await tickerAnsweringHttp();
    const stream = await openEvents(`${url}/Ticker/Count${query({ n: 3 })}`);

    expect(data(await stream.ended)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
  });

  it('a backend without stream$ answers 501', async () => {
    const backend: GatewayBackend = {
      call$: () => of({ data: new Uint8Array(0), metadata: new Map() }),
      close: async () => {},
    };
    const gateway = new Gateway({ backend });
    const url = await gateway.listen('http://127.0.0.1:0');
    defer(() => gateway.close({ graceMs: 0 }));
    const stream = await openEvents(`${url}/Ticker/Count`);
    await stream.ended;

    expect(stream.status).toBe(501);
    expect(JSON.parse(stream.text())).toMatchObject({ code: 'unimplemented' });
  });
});

describe('gateway streams: curl', () => {
  it('curl -N -H "Accept: text/event-stream" prints each event as it comes, then end', async () => {
    const { url } = await tickerGateway();
    const run = await curl([
      '-sS',
      '-N',
      '-H',
      'Accept: text/event-stream',
      '-G',
      '--data-urlencode',
      'args={"n":4}',
      `${url}/Ticker/Count`,
    ]);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { events } = parseEventStream(run.stdout);
    expect(data(events)).toEqual([0, 1, 2, 3].map((i) => ({ i })));
    expect(events.at(-1)).toEqual({ event: 'end', data: '{}' });
  });

  it('curl POSTing JSON gets the values, then the error that ended the stream', async () => {
    const { url } = await tickerGateway();
    const run = await curl([
      '-sS',
      '-N',
      '-H',
      'Accept: text/event-stream',
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"n":1}',
      `${url}/Ticker/Fail`,
    ]);

    expect(run.code).toBe(0);
    expect(parseEventStream(run.stdout).events).toEqual([
      { event: 'message', data: '{"i":0}' },
      { event: 'error', data: '{"code":"unknown","message":"broke after 1"}' },
    ]);
  });
});

describe('gateway streams: Connect server streaming', () => {
  it('application/connect+json: an envelope per value (flag 0), then the end-of-stream envelope {} (flag 2)', async () => {
    const { url } = await tickerGateway();
    const response = await postConnect(`${url}/Ticker/Count`, { n: 3 });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/connect+json');
    expect(envelopes(new Uint8Array(await response.arrayBuffer()))).toEqual([
      { flags: 0, json: { i: 0 } },
      { flags: 0, json: { i: 1 } },
      { flags: 0, json: { i: 2 } },
      { flags: 2, json: {} },
    ]);
  });

  it('an error mid-stream ends with {"error":{code, message}} in the end-of-stream envelope', async () => {
    const { url } = await tickerGateway();
    const response = await postConnect(`${url}/Ticker/Fail`, { n: 1 });

    expect(envelopes(new Uint8Array(await response.arrayBuffer()))).toEqual([
      { flags: 0, json: { i: 0 } },
      { flags: 2, json: { error: { code: 'unknown', message: 'broke after 1' } } },
    ]);
  });

  it('a gzipped envelope (Connect-Content-Encoding: gzip) is inflated', async () => {
    const { gzipSync } = await import('node:zlib');
    const { url } = await tickerGateway();
    const response = await fetch(`${url}/Ticker/Count`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+json', 'connect-content-encoding': 'gzip' },
      body: connectEnvelope(1, gzipSync('{"n":2}')),
    });

    expect(envelopes(new Uint8Array(await response.arrayBuffer()))).toEqual([
      { flags: 0, json: { i: 0 } },
      { flags: 0, json: { i: 1 } },
      { flags: 2, json: {} },
    ]);
  });

  it('a bad request is answered in the end-of-stream envelope (HTTP 200), a bad Content-Type 415, a GET 405', async () => {
    const { url } = await tickerGateway();
    const cases: [string, Record<string, string>, Uint8Array | string, string][] = [
      ['not an envelope', {}, '{"n":1}', 'invalid_argument'],
      ['not JSON', {}, connectEnvelope(0, Buffer.from('{"n":')), 'invalid_argument'],
      [
        'a bad timeout',
        { 'connect-timeout-ms': 'x' },
        connectEnvelope(0, Buffer.from('{}')),
        'invalid_argument',
      ],
      [
        'an unknown compression',
        { 'connect-content-encoding': 'br' },
        connectEnvelope(0, Buffer.from('{}')),
        'unimplemented',
      ],
      [
        'a compressed flag without an encoding',
        {},
        connectEnvelope(1, Buffer.from('{}')),
        'invalid_argument',
      ],
      [
        'version 2',
        { 'connect-protocol-version': '2' },
        connectEnvelope(0, Buffer.from('{}')),
        'invalid_argument',
      ],
    ];
    for (const [name, headers, body, code] of cases) {
      const response = await fetch(`${url}/Ticker/Count`, {
        method: 'POST',
        headers: { 'content-type': 'application/connect+json', ...headers },
        body,
      });
      const read = envelopes(new Uint8Array(await response.arrayBuffer()));
      expect([name, response.status, read.length, read[0]?.flags]).toEqual([name, 200, 1, 2]);
      expect(read[0]?.json, name).toEqual({ error: { code, message: expect.any(String) } });
    }
    const xml = await fetch(`${url}/Ticker/Count`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+xml' },
      body: '<n/>',
    });
    expect(xml.status).toBe(415);
    const get = await fetch(`${url}/Ticker/Count`, {
      headers: { 'content-type': 'application/connect+json' },
    });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('the client going away cancels the stream on the server', async () => {
    const { url, probe, gateway } = await tickerGateway();
    const response = await postConnect(`${url}/Ticker/Forever`, {});
    const reader = response.body?.getReader();
    await reader?.read();
    await reader?.cancel();

    await probe.stop.promise;
    expect(probe.aborted).toBe(1);
    await expect.poll(() => gateway.streamsInFlight).toBe(0);
  });
});

/** The Ticker as a Connect client sees it: Count is a server stream of Tick. */
const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'ticker.proto',
    syntax: 'proto3',
    messageType: [
      { name: 'CountArgs', field: [int32Field('n')] },
      { name: 'Tick', field: [int32Field('i')] },
    ],
    service: [
      {
        name: 'Ticker',
        method: ['Count', 'Fail', 'Hang'].map((name) => ({
          name,
          inputType: '.CountArgs',
          outputType: '.Tick',
          serverStreaming: true,
        })),
      },
    ],
  }),
  () => undefined,
);

function int32Field(name: string) {
  return {
    name,
    jsonName: name,
    number: 1,
    label: FieldDescriptorProto_Label.OPTIONAL,
    type: FieldDescriptorProto_Type.INT32,
  };
}

type CountArgs = Message<'CountArgs'> & { n: number };
type Tick = Message<'Tick'> & { i: number };
type Streaming = { methodKind: 'server_streaming'; input: GenMessage<CountArgs>; output: GenMessage<Tick> };
type TickerService = GenService<{ count: Streaming; fail: Streaming; hang: Streaming }>;

function tickerClient(url: string, format: 'json' | 'binary') {
  const service = registry.getService('Ticker');
  if (service === undefined) throw new Error('the descriptor has no Ticker service');
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: '1.1',
    useBinaryFormat: format === 'binary',
  });
  // A registry's descriptors carry no static types: this is the type code generation would declare.
  return createClient(service as unknown as TickerService, transport);
}

/** protobufjs types of the same messages, registered on the gateway for the binary format. */
const root = protobuf.parse(
  'syntax = "proto3"; message CountArgs { int32 n = 1; } message Tick { int32 i = 1; }',
  { keepCase: true },
).root;
const PROTOBUF = Object.fromEntries(
  ['Count', 'Fail', 'Hang'].map((method) => [
    `Ticker.${method}`,
    { requestType: root.lookupType('CountArgs'), replyType: root.lookupType('Tick') },
  ]),
);

const FORMATS = [['JSON', 'json'] as const, ['binary (application/connect+proto)', 'binary'] as const];

describe('gateway streams: a Connect client', () => {
  it.each(FORMATS)('%s - a server stream yields every value, in order', async (_name, format) => {
    const { url } = await tickerGateway({ protobuf: PROTOBUF });
    const client = tickerClient(url, format);

    const ticks: number[] = [];
    for await (const tick of client.count({ n: 4 })) ticks.push(tick.i);

    expect(ticks).toEqual([0, 1, 2, 3]);
  });

  it.each(FORMATS)(
    '%s - an error mid-stream is a ConnectError with its code and message',
    async (_name, format) => {
      const { url } = await tickerGateway({ protobuf: PROTOBUF });
      const client = tickerClient(url, format);

      const ticks: number[] = [];
      let failure: unknown;
      try {
        for await (const tick of client.fail({ n: 2 })) ticks.push(tick.i);
      } catch (error) {
        failure = error;
      }

      expect(ticks).toEqual([0, 1]);
      expect(failure).toBeInstanceOf(ConnectError);
      expect((failure as ConnectError).code).toBe(Code.Unknown);
      expect((failure as ConnectError).rawMessage).toBe('broke after 2');
    },
  );

  it('timeoutMs bounds the stream: DeadlineExceeded, and the server gives up too', async () => {
    const { url, probe } = await tickerGateway({ protobuf: PROTOBUF });
    const client = tickerClient(url, 'json');

    let failure: unknown;
    try {
      for await (const _tick of client.hang({}, { timeoutMs: 100 })) {
        // The first value arrives; then nothing until the deadline.
      }
    } catch (error) {
      failure = error;
    }

    expect((failure as ConnectError).code).toBe(Code.DeadlineExceeded);
    await probe.stop.promise;
  });

  it('against new Server({ http: true }): a server stream from the RPC port', async () => {
    const { url } = await tickerAnsweringHttp();
    const client = tickerClient(url, 'json');

    const ticks: number[] = [];
    for await (const tick of client.count({ n: 3 })) ticks.push(tick.i);

    expect(ticks).toEqual([0, 1, 2]);
  });
});
