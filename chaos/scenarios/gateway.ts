// gateway: an HTTP gateway from dist (its own process) in front of a server child, attacked on
// its HTTP port while a good HTTP client (its own process) calls Echo.Say through it. Five kinds
// of attackers at once: slowloris connections that never finish their headers (half stall, half
// trickle a header line every 500 ms); slow bodies (whole headers, 13 of 1,000 body bytes, then
// nothing); oversized bodies (a Content-Length of 100 MiB, a chunked body past maxBodyBytes, a
// gzip bomb); malformed requests (garbage, a bad request line, CR or NUL in a header, headers
// past 16 KiB, bad JSON, a bad Content-Type, bad gzip, bad timeout and message id headers, GET,
// a path of three parts, an unknown service), each on a connection of its own; and clients that
// call Slow.Wait and go away mid-call. Expects each malformed and oversized request answered
// with its 4xx, each slowloris connection closed (408) within headersTimeoutMs (+ 2 s + 20%),
// each slow body answered 408 and closed within bodyTimeoutMs (+ 1 s + 20%), every
// Slow.Wait handler that started aborted on the server, the gateway and the server alive, the
// good client unaffected, and the gateway's RSS, fds and heap back within bounds.
//
// The file is also the gateway child (`--gateway-child`) and the good HTTP client
// (`--good-http-client`), each forked with its config as JSON after the flag.
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type * as GatewayModule from '../../lib/gateway/index.js';
import {
  type Attacker,
  deadlineSignal,
  destroyAll,
  type HttpAttacker,
  openHttp,
  send,
  waitClosed,
  withSlack,
} from '../support/attackers.js';
import type { FromChild, GoodClientResult, ServerStats, ToChild } from '../support/messages.js';
import {
  GOOD_CLIENT_MAX_MS,
  HEAP_TOLERANCE_BYTES,
  RSS_LIMIT_BYTES,
  runIfMain,
  type Scenario,
} from '../support/scenario.js';
import {
  forkServingChild,
  type ServerChild,
  type ServingChild,
  startServer,
} from '../support/server-child.js';
import {
  broken,
  type Check,
  check,
  duration,
  info,
  mib,
  quote,
  type Verdict,
  verdict,
} from '../support/verdict.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_BODY_BYTES = 64 * KiB;
const BODY_TIMEOUT_MS = 2_000;
const HEADERS_TIMEOUT_MS = 2_000;
const TRICKLE_EVERY_MS = 500;
const GATEWAY_CHILD = '--gateway-child';
const GOOD_HTTP_CLIENT = '--good-http-client';
const SELF = fileURLToPath(import.meta.url);

/** How the parent starts the gateway child. */
export interface GatewayConfig {
  readonly backend: string;
  /** Gateway options of the scenario, over the ones this scenario's gateway takes. */
  readonly options?: Readonly<Record<string, unknown>>;
}

/** The gateway child's figures. */
export interface GatewayStats {
  readonly rssBytes: number;
  readonly fds: number;
  readonly heapBytes: number;
  readonly inFlight: number;
  /** `gateway.streamsInFlight`. */
  readonly streams: number;
  readonly warnings: number;
}

type ToGateway = ToChild;
type FromGateway = FromChild<GatewayStats>;
type FromGoodClient =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: GoodClientResult };

/** A request that must get one HTTP status, on a connection of its own. */
interface BadRequest {
  readonly name: string;
  readonly bytes: () => Buffer;
  readonly status: number;
}

const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** `POST path` with a body and the given header lines (Host and Content-Length added). */
function post(
  path: string,
  body: Buffer | string,
  lines: readonly string[] = ['Content-Type: application/json'],
): Buffer {
  const payload = typeof body === 'string' ? text(body) : body;
  return Buffer.concat([
    text(
      `POST ${path} HTTP/1.1\r\nHost: gateway\r\n${lines.map((line) => `${line}\r\n`).join('')}` +
        `Content-Length: ${payload.length}\r\n\r\n`,
    ),
    payload,
  ]);
}

const GZIP_BOMB = gzipSync(Buffer.from(JSON.stringify(' '.repeat(32 * MAX_BODY_BYTES))), { level: 9 });
const CHUNK = Buffer.alloc(16 * KiB, 0x20);
const CHUNKED_PAST_LIMIT = Buffer.concat([
  text(
    'POST /Echo/Say HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
  ),
  ...Array.from({ length: MAX_BODY_BYTES / CHUNK.length + 1 }, () =>
    Buffer.concat([text(`${CHUNK.length.toString(16)}\r\n`), CHUNK, text('\r\n')]),
  ),
]);

/** Whole headers announcing 1,000 body bytes, and 13 of them. */
const SLOW_BODY = text(
  'POST /Echo/Say HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"n": 1, "x":',
);

/** Bodies too large: refused 413. */
const OVERSIZED: readonly BadRequest[] = [
  {
    name: 'Content-Length 100 MiB',
    bytes: () =>
      text(
        'POST /Echo/Say HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n' +
          `Content-Length: ${100 * MiB}\r\n\r\n`,
      ),
    status: 413,
  },
  { name: 'chunked past maxBodyBytes', bytes: () => CHUNKED_PAST_LIMIT, status: 413 },
  {
    name: 'gzip bomb',
    bytes: () => post('/Echo/Say', GZIP_BOMB, ['Content-Type: application/json', 'Content-Encoding: gzip']),
    status: 413,
  },
];

/** Requests the HTTP parser or the gateway refuse. */
const MALFORMED: readonly BadRequest[] = [
  {
    name: 'garbage',
    bytes: () => Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]),
    status: 400,
  },
  { name: 'bad request line', bytes: () => text('POST\r\n\r\n'), status: 400 },
  { name: 'CR in a header', bytes: () => post('/Echo/Say', '{}', ['Phobos-Meta-Tag: a\rb']), status: 400 },
  {
    name: 'NUL in a header',
    bytes: () => post('/Echo/Say', '{}', ['Phobos-Meta-Tag: a\u0000b']),
    status: 400,
  },
  {
    name: 'headers past 16 KiB',
    bytes: () => post('/Echo/Say', '{}', [`Phobos-Meta-Tag: ${'x'.repeat(20 * KiB)}`]),
    status: 431,
  },
  { name: 'bad JSON', bytes: () => post('/Echo/Say', '{"n":'), status: 400 },
  {
    name: 'bad Content-Type',
    bytes: () => post('/Echo/Say', '{}', ['Content-Type: text/plain']),
    status: 415,
  },
  {
    name: 'bad gzip',
    bytes: () =>
      post('/Echo/Say', 'not gzip at all', ['Content-Type: application/json', 'Content-Encoding: gzip']),
    status: 400,
  },
  {
    name: 'bad Connect-Timeout-Ms',
    bytes: () => post('/Echo/Say', '{}', ['Content-Type: application/json', 'Connect-Timeout-Ms: soon']),
    status: 400,
  },
  {
    name: 'bad MRPC-Gateway-MessageID',
    bytes: () => post('/Echo', '{}', ['MRPC-Gateway-ServiceMethod: Say', 'MRPC-Gateway-MessageID: x']),
    status: 400,
  },
  { name: 'GET', bytes: () => text('GET /Echo/Say HTTP/1.1\r\nHost: gateway\r\n\r\n'), status: 405 },
  { name: 'three-part path', bytes: () => post('/Echo/Say/More', '{}'), status: 404 },
  { name: 'unknown service', bytes: () => post('/NoSuchService/Say', '{}'), status: 404 },
];

/**
 * Sends bad requests, one connection each, round robin over `kinds`, until `stop`; each waits
 * up to 5 s for its answer unless `abort` (the gateway is over its memory limit or gone).
 */
async function badRequests(
  address: string,
  kinds: readonly BadRequest[],
  lanes: number,
  stop: AbortSignal,
  abort: AbortSignal,
): Promise<{ sent: number; wrong: Map<string, number> }> {
  let next = 0;
  const wrong = new Map<string, number>();
  const lane = async (): Promise<void> => {
    while (!stop.aborted) {
      const kind = kinds[next++ % kinds.length] as BadRequest;
      let http: HttpAttacker;
      try {
        http = await openHttp(address);
      } catch {
        wrong.set(`${kind.name}: dial failed`, (wrong.get(`${kind.name}: dial failed`) ?? 0) + 1);
        continue;
      }
      void send(http.attacker, kind.bytes());
      const limit = deadlineSignal(5_000, abort);
      const status = await Promise.race([
        http.answered,
        new Promise<'no answer'>((resolve) =>
          limit.signal.addEventListener('abort', () => resolve('no answer'), { once: true }),
        ),
      ]);
      limit.clear();
      await destroyAll([http.attacker]);
      if (status !== kind.status) {
        const key = `${kind.name}: ${status ?? 'closed without an answer'} (expected ${kind.status})`;
        wrong.set(key, (wrong.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { sent: next, wrong };
}

/** Calls Slow.Wait and goes away 20-200 ms later, one connection each, until `stop`. */
async function disconnectMidCall(address: string, lanes: number, stop: AbortSignal): Promise<number> {
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (!stop.aborted) {
      const http = await openHttp(address).catch(() => undefined);
      if (!http) continue;
      sent += 1;
      await send(http.attacker, post('/Slow/Wait', '{"ms":60000}'));
      await delay(20 + Math.floor(Math.random() * 180));
      await destroyAll([http.attacker]);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return sent;
}

export const gateway: Scenario = {
  name: 'gateway',
  async run({ quick }): Promise<Verdict> {
    const name = 'gateway';
    const attackMs = quick ? 3_000 : 20_000;
    const slowlorisCount = quick ? 100 : 500;
    const slowBodyCount = quick ? 50 : 200;
    let server: ServerChild | undefined;
    let gatewayChild: GatewayChild | undefined;
    let good: GoodHttpClient | undefined;
    let result: GoodClientResult | undefined;
    const attackers: Attacker[] = [];
    let trickle: NodeJS.Timeout | undefined;
    try {
      server = await startServer({ options: {} });
      gatewayChild = await startGateway({ backend: server.address });
      const address = gatewayChild.address.replace(/^http:\/\//, '');
      await warmUp(gatewayChild.address, address);
      const idle = await settleGateway(gatewayChild, undefined);
      if (!idle) return broken(name, new Error(`gateway ${gatewayChild.ended} before the attack`));
      const idleServer = await server.stats();
      const sampler = sampleGateway(gatewayChild, idle.rssBytes);
      good = forkGoodHttpClient(gatewayChild.address);
      await good.ready;

      const stop = deadlineSignal(attackMs, sampler.overLimit);
      // Slowloris: half send the request line and one header, then stall; half trickle.
      const slowloris: HttpAttacker[] = [];
      for (let i = 0; i < slowlorisCount && !stop.signal.aborted; i++) {
        const http = await openHttp(address).catch(() => undefined);
        if (!http) continue;
        slowloris.push(http);
        attackers.push(http.attacker);
        void send(http.attacker, text('POST /Echo/Say HTTP/1.1\r\nHost: gateway\r\n'));
      }
      trickle = setInterval(() => {
        for (const [i, http] of slowloris.entries()) {
          if (i % 2 === 1 && http.attacker.closedAt === undefined)
            void send(http.attacker, text(`X-Trickle-${i}: x\r\n`));
        }
      }, TRICKLE_EVERY_MS);
      // Slow bodies: the headers whole, 13 of 1,000 body bytes, then nothing.
      const slowBodies: HttpAttacker[] = [];
      for (let i = 0; i < slowBodyCount && !stop.signal.aborted; i++) {
        const http = await openHttp(address).catch(() => undefined);
        if (!http) continue;
        slowBodies.push(http);
        attackers.push(http.attacker);
        void send(http.attacker, SLOW_BODY);
      }
      const [oversized, malformed, disconnects] = await Promise.all([
        badRequests(address, OVERSIZED, 2, stop.signal, sampler.overLimit),
        badRequests(address, MALFORMED, 4, stop.signal, sampler.overLimit),
        disconnectMidCall(address, 2, stop.signal),
      ]);
      stop.clear();
      const bodyLimitMs = withSlack(BODY_TIMEOUT_MS);
      const slowOpen = await waitClosed(
        slowBodies.map((http) => http.attacker),
        (a) => (a.lastByteAt ?? a.connectedAt) + bodyLimitMs,
      );
      const slowAnswered = slowBodies.filter((http) => http.status === 408).length;
      let slowLongest = 0;
      for (const http of slowBodies) {
        const { closedAt, lastByteAt } = http.attacker;
        if (closedAt !== undefined && lastByteAt !== undefined)
          slowLongest = Math.max(slowLongest, closedAt - lastByteAt);
      }
      // Headers must be whole within headersTimeoutMs of the first byte, which node:http checks
      // once a second: the limit allows that second too.
      const headersLimitMs = withSlack(HEADERS_TIMEOUT_MS + 1_000);
      const slowlorisOpen = await waitClosed(
        slowloris.map((http) => http.attacker),
        (a) => a.connectedAt + headersLimitMs,
      );
      clearInterval(trickle);
      let slowlorisLongest = 0;
      for (const http of slowloris) {
        const { closedAt, connectedAt } = http.attacker;
        if (closedAt !== undefined) slowlorisLongest = Math.max(slowlorisLongest, closedAt - connectedAt);
      }
      const slowloris408 = slowloris.filter((http) => http.status === 408).length;
      result = await good.stop();
      await destroyAll(attackers);
      await sampler.stop();
      const aborted = await handlersAborted(server, idleServer);
      const end = await settleGateway(gatewayChild, idle.fds);
      const rssGrowth = sampler.peakRssBytes - idle.rssBytes;
      const wrongText = (wrong: Map<string, number>): string =>
        [...wrong]
          .slice(0, 2)
          .map(([what, count]) => `${count}x ${quote(what, 80)}`)
          .join(', ');
      const oversizedWrong = [...oversized.wrong.values()].reduce((sum, n) => sum + n, 0);
      const malformedWrong = [...malformed.wrong.values()].reduce((sum, n) => sum + n, 0);
      const checks: Check[] = [
        check(
          slowlorisOpen.length === 0 && slowloris.length > 0,
          `${slowloris.length} slowloris conns (half stalled, half trickled a header line every ${TRICKLE_EVERY_MS} ms): ` +
            `${slowloris.length - slowlorisOpen.length} closed by the gateway (${slowloris408} with 408), longest ` +
            `${duration(slowlorisLongest)} (headersTimeoutMs ${HEADERS_TIMEOUT_MS}, limit ${duration(headersLimitMs)})`,
        ),
        check(
          slowOpen.length === 0 && slowAnswered === slowBodies.length && slowBodies.length > 0,
          `${slowBodies.length} slow bodies: ${slowAnswered} answered 408, ${slowBodies.length - slowOpen.length} closed, ` +
            `longest ${duration(slowLongest)} after their last byte (bodyTimeoutMs ${BODY_TIMEOUT_MS}, limit ${duration(bodyLimitMs)})`,
        ),
        check(
          oversizedWrong === 0 && oversized.sent > 0,
          `${oversized.sent} oversized bodies (${OVERSIZED.map((kind) => kind.name).join(', ')}): ` +
            `${oversized.sent - oversizedWrong} answered 413${oversizedWrong ? `, wrong: ${wrongText(oversized.wrong)}` : ''}`,
        ),
        check(
          malformedWrong === 0 && malformed.sent > 0,
          `${malformed.sent} malformed requests of ${MALFORMED.length} kinds: ${malformed.sent - malformedWrong} got their 4xx` +
            `${malformedWrong ? `, wrong: ${wrongText(malformed.wrong)}` : ''}`,
        ),
        check(
          aborted.ok,
          `${disconnects} clients went away mid-call: ${aborted.started} Slow.Wait handlers started, ${aborted.aborted} aborted`,
        ),
        check(
          gatewayChild.ended === undefined && server.ended === undefined,
          gatewayChild.ended === undefined
            ? server.ended === undefined
              ? 'gateway and server alive'
              : `server DIED (${server.ended})`
            : `gateway DIED (${gatewayChild.ended})`,
        ),
        check(
          result.calls > 0 && result.failed === 0 && result.maxMs < GOOD_CLIENT_MAX_MS,
          `good HTTP client ${result.calls} calls, ${result.failed} failed, max ${Math.round(result.maxMs)} ms, ` +
            `p99 ${Math.round(result.p99Ms)} ms${result.errors[0] ? ` (${quote(result.errors[0], 100)})` : ''}`,
        ),
        check(
          rssGrowth <= RSS_LIMIT_BYTES,
          `gateway RSS +${mib(rssGrowth)} peak (limit ${RSS_LIMIT_BYTES / MiB})` +
            `${sampler.overLimit.aborted && !gatewayChild.ended ? ', attack cut short at the limit' : ''}`,
        ),
        check(end !== undefined && end.fds <= idle.fds, `gateway fds ${idle.fds} -> ${end?.fds ?? 'n/a'}`),
        check(
          end !== undefined && end.heapBytes - idle.heapBytes <= HEAP_TOLERANCE_BYTES,
          `gateway heap ${mib(idle.heapBytes)} -> ${end ? mib(end.heapBytes) : 'n/a'} (tolerance +${HEAP_TOLERANCE_BYTES / MiB})`,
        ),
        info(`gateway warnings logged ${(end?.warnings ?? 0) - idle.warnings}`),
      ];
      return verdict(name, checks);
    } catch (error) {
      return broken(name, error);
    } finally {
      clearInterval(trickle);
      await destroyAll(attackers);
      if (good && !result) await good.stop();
      await gatewayChild?.stop();
      await server?.stop();
    }
  },
};

/**
 * A good call, then one request of every bad kind and a client that goes away mid-call, so the
 * code paths the attack takes are compiled before the idle heap is measured.
 */
async function warmUp(url: string, address: string): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  try {
    const reply = await httpCall(url, { warm: true }, agent, 5_000);
    if (reply !== '{"warm":true}') throw new Error(`warm-up call answered ${reply}`);
    for (const kind of [...OVERSIZED, ...MALFORMED]) {
      const http = await openHttp(address);
      await send(http.attacker, kind.bytes());
      const limit = new AbortController();
      await Promise.race([http.answered, delay(5_000, undefined, { signal: limit.signal }).catch(() => {})]);
      limit.abort();
      await destroyAll([http.attacker]);
    }
    const midCall = await openHttp(address);
    await send(midCall.attacker, post('/Slow/Wait', '{"ms":60000}'));
    await delay(100);
    await destroyAll([midCall.attacker]);
  } finally {
    agent.destroy();
  }
}

/**
 * Waits (up to 5 s) until every Slow.Wait handler the server started has been aborted; counts
 * those started since `before`.
 */
async function handlersAborted(
  server: ServerChild,
  before: ServerStats,
): Promise<{ ok: boolean; started: number; aborted: number }> {
  let stats: ServerStats | undefined;
  for (let waited = 0; waited <= 5_000; waited += 100) {
    stats = await server.stats().catch(() => undefined);
    if (!stats || stats.slowStarted === stats.slowAborted) break;
    await delay(100);
  }
  return {
    ok: stats !== undefined && stats.slowStarted === stats.slowAborted,
    started: (stats?.slowStarted ?? 0) - before.slowStarted,
    aborted: (stats?.slowAborted ?? 0) - before.slowAborted,
  };
}

/** POSTs args to Echo.Say; resolves with the reply body, rejects past `timeoutMs` or on any status but 200. */
export function httpCall(url: string, args: unknown, agent: Agent, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(args);
    const req = request(
      `${url}/Echo/Say`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString();
          if (response.statusCode === 200) resolve(text);
          else reject(new Error(`HTTP ${response.statusCode}: ${text}`));
        });
        response.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(body);
  });
}

/** The gateway child, as the parent sees it: its `address` is its URL. */
export type GatewayChild = ServingChild<GatewayStats>;

/** Forks the gateway child (`node --expose-gc --import tsx`) and waits for its URL. */
export function startGateway(config: GatewayConfig): Promise<GatewayChild> {
  return forkServingChild<GatewayStats>(SELF, [GATEWAY_CHILD, JSON.stringify(config)], 'gateway');
}

/**
 * Waits (up to 5 s) until the gateway's fds are back to `fds`, or when none is given, until
 * they hold still for three samples (connections of the warm-up are closing); then returns its
 * figures after a GC, or undefined when the gateway is gone.
 */
export async function settleGateway(
  child: GatewayChild,
  fds: number | undefined,
): Promise<GatewayStats | undefined> {
  try {
    let previous = -1;
    let still = 0;
    for (let waited = 0; waited < 5_000; waited += 100) {
      const now = (await child.stats()).fds;
      still = now === previous ? still + 1 : 0;
      previous = now;
      if (fds === undefined ? still >= 2 : now <= fds) break;
      await delay(100);
    }
    return await child.stats({ gc: true });
  } catch {
    return undefined;
  }
}

/** What {@link sampleGateway} measures. */
export interface GatewaySampler {
  /** Aborts when the gateway's RSS passes the limit or it exits: stop attacking then. */
  readonly overLimit: AbortSignal;
  readonly peakRssBytes: number;
  stop(): Promise<void>;
}

/** The peak RSS of the gateway child, sampled every 100 ms; `overLimit` aborts past the limit or when it exits. */
export function sampleGateway(child: GatewayChild, idleRssBytes: number): GatewaySampler {
  const over = new AbortController();
  const stopping = new AbortController();
  let peakRssBytes = idleRssBytes;
  void child.exited.then(() => over.abort(new Error(`gateway ${child.ended}`)));
  const loop = (async () => {
    while (!stopping.signal.aborted && !child.ended) {
      const stats = await child.stats().catch(() => undefined);
      if (!stats) return;
      peakRssBytes = Math.max(peakRssBytes, stats.rssBytes);
      if (stats.rssBytes - idleRssBytes > RSS_LIMIT_BYTES && !over.signal.aborted)
        over.abort(new Error('gateway RSS over the limit'));
      await delay(100, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();
  return {
    overLimit: over.signal,
    get peakRssBytes() {
      return peakRssBytes;
    },
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}

/** The good HTTP client, as the parent sees it. */
export interface GoodHttpClient {
  /** Resolves once its first call settled. */
  readonly ready: Promise<void>;
  /** Tells it to stop and resolves with what it saw. */
  stop(): Promise<GoodClientResult>;
}

export function forkGoodHttpClient(url: string): GoodHttpClient {
  const child = fork(SELF, [GOOD_HTTP_CLIENT, JSON.stringify({ url })], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ended = '';
  let result: GoodClientResult | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = signal ? `signal ${signal}` : `exit ${code}`;
      resolve();
    }),
  );
  const ready = new Promise<void>((resolve) => {
    child.on('message', (message: FromGoodClient) => {
      if (message.type === 'ready') resolve();
      else result = message.result;
    });
    void exited.then(resolve);
  });
  return {
    ready,
    async stop() {
      if (child.connected) child.send({ type: 'stop' });
      // Its calls have a 5 s deadline; past that it is stuck.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return (
        result ?? {
          calls: 0,
          failed: 1,
          errors: [`the good HTTP client ended (${ended}) without a result`],
          maxMs: 0,
          p99Ms: 0,
        }
      );
    },
  };
}

/** In the gateway child: a Gateway from dist in front of the backend, answering stats over IPC. */
async function gatewayChildMain(config: GatewayConfig): Promise<void> {
  const reply = (message: FromGateway, then?: () => void): void => {
    process.send?.(message, undefined, {}, () => then?.());
  };
  process.on('uncaughtException', (error: unknown) => {
    const described = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`[chaos gateway ${process.pid}] uncaught: ${described}\n`);
    setTimeout(() => process.exit(70), 500).unref();
    reply({ type: 'crash', error: described.split('\n').slice(0, 2).join(' ') }, () => process.exit(70));
  });
  const compiled = new URL('../../dist/gateway/index.js', import.meta.url);
  const { Gateway }: typeof GatewayModule = await import(compiled.href);
  let warnings = 0;
  const gateway = new Gateway({
    addresses: [config.backend],
    maxBodyBytes: MAX_BODY_BYTES,
    bodyTimeoutMs: BODY_TIMEOUT_MS,
    logger: {
      warn: () => {
        warnings += 1;
      },
    },
    ...config.options,
  });
  const url = await gateway.listen('http://127.0.0.1:0', { headersTimeoutMs: HEADERS_TIMEOUT_MS });
  reply({ type: 'ready', address: url });
  let exiting = false;
  const exit = (): void => {
    if (exiting) return;
    exiting = true;
    setTimeout(() => process.exit(0), 2_000).unref();
    void gateway.close({ graceMs: 0 }).finally(() => process.exit(0));
  };
  process.on('message', (message: ToGateway) => {
    if (message.type === 'exit') exit();
    else {
      if (message.gc) {
        globalThis.gc?.();
        globalThis.gc?.();
      }
      const status = readFileSync('/proc/self/status', 'utf8');
      const rss = /^VmRSS:\s+(\d+) kB$/m.exec(status);
      reply({
        type: 'stats',
        id: message.id,
        stats: {
          rssBytes: rss ? Number(rss[1]) * 1024 : Number.NaN,
          fds: readdirSync('/proc/self/fd').length,
          heapBytes: process.memoryUsage().heapUsed,
          inFlight: gateway.requestsInFlight,
          streams: gateway.streamsInFlight,
          warnings,
        },
      });
    }
  });
  process.on('disconnect', exit);
}

/** In the good HTTP client: Echo.Say through the gateway, one call at a time, 5 ms apart. */
async function goodHttpClientMain(url: string): Promise<void> {
  const stopping = new AbortController();
  process.on('disconnect', () => stopping.abort());
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stop') stopping.abort();
  });
  const tell = (message: FromGoodClient): Promise<void> =>
    new Promise((resolve) => process.send?.(message, undefined, {}, () => resolve()));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  const errors: string[] = [];
  let failed = 0;
  for (let n = 0; !stopping.signal.aborted; n += 1) {
    const started = performance.now();
    try {
      const args = { n, text: 'good client' };
      const reply = await httpCall(url, args, agent, 5_000);
      if (reply !== JSON.stringify(args)) throw new Error(`wrong reply ${reply} to call ${n}`);
    } catch (error) {
      failed += 1;
      if (errors.length < 3) errors.push(error instanceof Error ? error.message : String(error));
    }
    latencies.push(performance.now() - started);
    if (n === 0) await tell({ type: 'ready' });
    await delay(5, undefined, { signal: stopping.signal }).catch(() => undefined);
  }
  agent.destroy();
  latencies.sort((a, b) => a - b);
  await tell({
    type: 'result',
    result: {
      calls: latencies.length,
      failed,
      errors,
      maxMs: latencies.at(-1) ?? 0,
      p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? latencies.at(-1) ?? 0,
    },
  });
  process.disconnect();
}

const [role, roleConfig] = process.argv.slice(2);
if (role === GATEWAY_CHILD) await gatewayChildMain(JSON.parse(roleConfig ?? '{}') as GatewayConfig);
else if (role === GOOD_HTTP_CLIENT)
  await goodHttpClientMain((JSON.parse(roleConfig ?? '{}') as { url: string }).url);
else await runIfMain(gateway, import.meta.url);
