// metrics-endpoint: serveMetrics (phobos/metrics, from dist) attacked on its HTTP port, in a
// target process that also runs a phobos Server counted by serverMetrics, while a good RPC
// client calls Echo.Say on that server and a good scraper (its own process) GETs the metrics on
// a fresh connection every 25 ms. First, at once: slowloris connections that never finish their
// request (half stop inside the request line, half inside the headers, each trickling a byte
// every 500 ms), requests with headers past Node's 16 KiB, 100 MiB bodies sent as fast as the
// socket takes them, and wrong paths, methods and garbage, each on a connection of its own. Then
// a flood: far more connections than maxConnections, opened at once and held without a byte.
//
// Expects each slowloris connection closed (408) within 4.6 s of connecting (headersTimeoutMs
// 2 s, node:http's next check 1 s later, then 1 s + 20% of slack); every oversized request 431; every body answered (405, or 404 off the path) and
// closed within 1 s of the answer before the target took it all, its RSS growing by less than
// one body; every wrong request its 404, 405 or 400; of the flood, the excess refused within 1 s
// and the connections kept (at most maxConnections) closed within the headers limit; the good
// scraper never failing outside the flood (during it, it reports how many scrapes the limit
// refused); its Echo.Say counter rising and ending equal to the handler's own count; the target
// alive, the good client unaffected, and the target's RSS, fds and heap within bounds.
//
// The file is also the target (`--metrics-target`): its `ready` address is
// `{"rpc":"tcp@...","metrics":"http://.../metrics"}` as JSON.
import { readdirSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type * as MetricsModule from '../../lib/metrics/index.js';
import {
  type Attacker,
  connectMany,
  deadlineSignal,
  destroyAll,
  type HttpAttacker,
  longestUntilClose,
  openHttp,
  send,
  waitClosed,
  withSlack,
} from '../support/attackers.js';
import { forkGoodClient } from '../support/good-client.js';
import {
  forkGoodScraper,
  type GoodScraperResult,
  type ScrapeTally,
  scrapeOnce,
  seriesValue,
} from '../support/good-scraper.js';
import type { FromChild, GoodClientResult, ServerStats, ToChild } from '../support/messages.js';
import { phobos } from '../support/phobos.js';
import { sampleServer } from '../support/sampler.js';
import {
  GOOD_CLIENT_MAX_MS,
  HEAP_TOLERANCE_BYTES,
  RSS_LIMIT_BYTES,
  runIfMain,
  type Scenario,
} from '../support/scenario.js';
import { forkServingChild, type ServerChild } from '../support/server-child.js';
import {
  broken,
  type Check,
  check,
  duration,
  mib,
  quote,
  type Verdict,
  verdict,
} from '../support/verdict.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const HEADERS_TIMEOUT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 3_000;
const MAX_CONNECTIONS = 32;
const TRICKLE_EVERY_MS = 500;
const BODY_BYTES = 100 * MiB;
/** A refused connection is one the target closes this soon after it connected. */
const REFUSED_WITHIN_MS = 1_000;
/** A body the target does not read must be closed this soon after its answer. */
const CLOSED_AFTER_ANSWER_MS = withSlack(0);
/** node:http checks headersTimeoutMs once a second: a connection may live that second too. */
const HEADERS_LIMIT_MS = withSlack(HEADERS_TIMEOUT_MS + 1_000);
/** Scrapes the good scraper must get right after the flood, before the scenario ends. */
const SCRAPES_AFTER = 10;
const ECHO_SAY = ['service="Echo"', 'method="Say"'];
const STARTED_TOTAL = 'phobos_server_started_total';
const TARGET_CHILD = '--metrics-target';
const SELF = fileURLToPath(import.meta.url);

const text = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A request that must get one status, on a connection of its own. */
interface BadRequest {
  readonly name: string;
  readonly bytes: Buffer;
  readonly status: number;
}

const get = (target: string, lines: readonly string[] = []): Buffer =>
  text(`GET ${target} HTTP/1.1\r\nHost: metrics\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`);

/** Headers past the 16 KiB node:http allows (it counts names and values). */
const OVERSIZED_HEADERS: readonly BadRequest[] = [
  { name: 'one 20 KiB header', bytes: get('/metrics', [`X-Big: ${'x'.repeat(20 * KiB)}`]), status: 431 },
  {
    name: '100 headers of 200 bytes',
    bytes: get(
      '/metrics',
      Array.from({ length: 100 }, (_, i) => `X-Many-${i}: ${'v'.repeat(200)}`),
    ),
    status: 431,
  },
  { name: 'a 20 KiB query', bytes: get(`/metrics?${'q'.repeat(20 * KiB)}`), status: 431 },
];

/** Wrong paths (404), wrong methods (405) and requests the parser refuses (400). */
const WRONG: readonly BadRequest[] = [
  { name: 'GET /', bytes: get('/'), status: 404 },
  { name: 'GET /metrics/x', bytes: get('/metrics/x'), status: 404 },
  { name: 'GET /metricsx', bytes: get('/metricsx'), status: 404 },
  { name: 'absolute URL', bytes: get('http://metrics/metrics'), status: 404 },
  { name: 'OPTIONS *', bytes: text('OPTIONS * HTTP/1.1\r\nHost: metrics\r\n\r\n'), status: 404 },
  { name: 'DELETE', bytes: text('DELETE /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n'), status: 405 },
  {
    name: 'empty POST',
    bytes: text('POST /metrics HTTP/1.1\r\nHost: metrics\r\nContent-Length: 0\r\n\r\n'),
    status: 405,
  },
  {
    name: 'empty PUT',
    bytes: text('PUT /metrics HTTP/1.1\r\nHost: metrics\r\nContent-Length: 0\r\n\r\n'),
    status: 405,
  },
  { name: 'OPTIONS', bytes: text('OPTIONS /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n'), status: 405 },
  { name: 'TRACE', bytes: text('TRACE /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n'), status: 405 },
  {
    name: 'TLS hello',
    bytes: Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]),
    status: 400,
  },
  { name: 'bare method', bytes: text('GET\r\n\r\n'), status: 400 },
  { name: 'HTTP/9.9', bytes: text('GET /metrics HTTP/9.9\r\nHost: metrics\r\n\r\n'), status: 400 },
  { name: 'unknown method', bytes: text('FOO /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n'), status: 400 },
  { name: 'lowercase method', bytes: text('get /metrics HTTP/1.1\r\nHost: metrics\r\n\r\n'), status: 400 },
  { name: 'control byte in the path', bytes: get('/met\u0001rics'), status: 400 },
  { name: 'no Host', bytes: text('GET /metrics HTTP/1.1\r\n\r\n'), status: 400 },
  { name: 'CR in a header', bytes: get('/metrics', ['X-A: a\rb']), status: 400 },
  { name: 'NUL in a header', bytes: get('/metrics', ['X-A: a\u0000b']), status: 400 },
  { name: 'header without a colon', bytes: get('/metrics', ['NoColon']), status: 400 },
  { name: 'space in a header name', bytes: get('/metrics', ['X A: b']), status: 400 },
  { name: 'bad Content-Length', bytes: get('/metrics', ['Content-Length: abc']), status: 400 },
  {
    name: 'two Content-Lengths',
    bytes: get('/metrics', ['Content-Length: 1', 'Content-Length: 2']),
    status: 400,
  },
  {
    name: 'Content-Length and chunked',
    bytes: text(
      'POST /metrics HTTP/1.1\r\nHost: metrics\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ),
    status: 400,
  },
];

/** A 100 MiB body, sent as fast as the socket takes it: `head`, then `piece` until the body is whole, then `end`. */
interface BodyKind {
  readonly name: string;
  readonly head: Buffer;
  readonly piece: Buffer;
  readonly end: Buffer;
  readonly status: number;
}

const PIECE = Buffer.alloc(64 * KiB, 0x61);
const BODIES: readonly BodyKind[] = [
  {
    name: 'POST /metrics, Content-Length 100 MiB',
    head: text(`POST /metrics HTTP/1.1\r\nHost: metrics\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`),
    piece: PIECE,
    end: Buffer.alloc(0),
    status: 405,
  },
  {
    name: 'POST /metrics, 100 MiB chunked',
    head: text('POST /metrics HTTP/1.1\r\nHost: metrics\r\nTransfer-Encoding: chunked\r\n\r\n'),
    piece: Buffer.concat([text(`${PIECE.length.toString(16)}\r\n`), PIECE, text('\r\n')]),
    end: text('0\r\n\r\n'),
    status: 405,
  },
  {
    name: 'PUT /upload, Content-Length 100 MiB',
    head: text(`PUT /upload HTTP/1.1\r\nHost: metrics\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`),
    piece: PIECE,
    end: Buffer.alloc(0),
    status: 404,
  },
];

/** Resolves 'no answer' when `signal` aborts. */
function noAnswer(signal: AbortSignal): Promise<'no answer'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('no answer');
    signal.addEventListener('abort', () => resolve('no answer'), { once: true });
  });
}

/** How many requests of some kinds were sent, and the wrong outcomes by kind. */
interface Tally {
  readonly sent: number;
  readonly wrong: Map<string, number>;
}

/**
 * Sends every kind `rounds` times, `lanes` connections at a time, each on a connection of its
 * own, and checks its status (5 s for an answer, less when `abort` fires).
 */
async function badRequests(
  address: string,
  kinds: readonly BadRequest[],
  rounds: number,
  lanes: number,
  abort: AbortSignal,
): Promise<Tally> {
  const queue = Array.from({ length: rounds }, () => kinds).flat();
  let next = 0;
  const wrong = new Map<string, number>();
  const note = (key: string): void => {
    wrong.set(key, (wrong.get(key) ?? 0) + 1);
  };
  const lane = async (): Promise<void> => {
    while (next < queue.length && !abort.aborted) {
      const kind = queue[next++] as BadRequest;
      const http = await openHttp(address).catch(() => undefined);
      if (!http) {
        note(`${kind.name}: dial failed`);
        continue;
      }
      void send(http.attacker, kind.bytes);
      const limit = deadlineSignal(5_000, abort);
      const status = await Promise.race([http.answered, noAnswer(limit.signal)]);
      limit.clear();
      await destroyAll([http.attacker]);
      if (status !== kind.status)
        note(`${kind.name}: ${status ?? 'closed without an answer'} (expected ${kind.status})`);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { sent: next, wrong };
}

/** What one body attack saw. */
interface BodyOutcome {
  readonly kind: BodyKind;
  readonly status: number | 'no answer' | undefined;
  /** From the answer to the target's close; undefined when it did not close in time. */
  readonly closedAfterMs: number | undefined;
  /** Body bytes the kernel took before the close. */
  readonly takenBytes: number;
}

/** Resolves on the socket's next 'drain' or its 'close'. */
function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) {
      resolve();
      return;
    }
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/**
 * Sends a 100 MiB body: its head and first piece, then, once answered (5 s at most), the rest as
 * fast as the socket takes it; waits {@link CLOSED_AFTER_ANSWER_MS} from the answer for the
 * target to close.
 */
async function sendBody(address: string, kind: BodyKind, abort: AbortSignal): Promise<BodyOutcome> {
  const http = await openHttp(address);
  const { socket } = http.attacker;
  // The answer is awaited before the rest is sent: a write that fails on the target's reset
  // destroys the socket before it reads what had arrived, and would lose the answer.
  await send(http.attacker, Buffer.concat([kind.head, kind.piece]));
  let takenBytes = http.attacker.lastByteAt === undefined ? 0 : PIECE.length;
  const limit = deadlineSignal(5_000, abort);
  const status = await Promise.race([http.answered, noAnswer(limit.signal)]);
  limit.clear();
  const closing = deadlineSignal(CLOSED_AFTER_ANSWER_MS, abort);
  const pumping = (async () => {
    for (let queued = PIECE.length; queued < BODY_BYTES; queued += PIECE.length) {
      if (socket.destroyed || closing.signal.aborted) return;
      const more = socket.write(kind.piece, (error) => {
        if (!error) takenBytes += PIECE.length;
      });
      if (!more) await drainedOrClosed(socket);
    }
    if (!socket.destroyed) socket.write(kind.end);
  })();
  await Promise.race([http.attacker.closed, noAnswer(closing.signal)]);
  closing.clear();
  const { closedAt } = http.attacker;
  const { answeredAt } = http;
  await destroyAll([http.attacker]);
  await pumping;
  return {
    kind,
    status,
    closedAfterMs: closedAt !== undefined && answeredAt !== undefined ? closedAt - answeredAt : undefined,
    takenBytes,
  };
}

/** Sends every body kind `rounds` times, `lanes` at a time. */
async function bodies(
  address: string,
  rounds: number,
  lanes: number,
  abort: AbortSignal,
): Promise<BodyOutcome[]> {
  const queue = Array.from({ length: rounds }, () => BODIES).flat();
  let next = 0;
  const outcomes: BodyOutcome[] = [];
  const lane = async (): Promise<void> => {
    while (next < queue.length && !abort.aborted) {
      outcomes.push(await sendBody(address, queue[next++] as BodyKind, abort));
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return outcomes;
}

/** What the slowloris waves saw. */
interface SlowlorisOutcome {
  readonly conns: number;
  readonly open: number;
  readonly answered408: number;
  readonly longestMs: number;
}

/**
 * `waves` waves of `perWave` connections that never finish their request: even ones stop in
 * the request line, odd ones in a header value; each trickles a byte every 500 ms until the
 * target closes it or {@link HEADERS_LIMIT_MS} passed since it connected.
 */
async function slowloris(
  address: string,
  waves: number,
  perWave: number,
  abort: AbortSignal,
): Promise<SlowlorisOutcome> {
  let conns = 0;
  let open = 0;
  let answered408 = 0;
  let longestMs = 0;
  for (let round = 0; round < waves && !abort.aborted; round++) {
    const wave: HttpAttacker[] = [];
    for (let i = 0; i < perWave && !abort.aborted; i++) {
      const http = await openHttp(address).catch(() => undefined);
      if (!http) continue;
      wave.push(http);
      void send(
        http.attacker,
        text(i % 2 === 0 ? 'GET /metrics' : 'GET /metrics HTTP/1.1\r\nHost: metrics\r\nX-Slow: '),
      );
    }
    const trickle = setInterval(() => {
      for (const http of wave) if (http.attacker.closedAt === undefined) void send(http.attacker, text('x'));
    }, TRICKLE_EVERY_MS);
    const attackers = wave.map((http) => http.attacker);
    const stillOpen = await waitClosed(attackers, (a) => a.connectedAt + HEADERS_LIMIT_MS, abort);
    clearInterval(trickle);
    conns += wave.length;
    open += stillOpen.length;
    answered408 += wave.filter((http) => http.status === 408).length;
    longestMs = Math.max(
      longestMs,
      longestUntilClose(attackers, (a) => a.connectedAt),
    );
    await destroyAll(attackers);
  }
  return { conns, open, answered408, longestMs };
}

/** What the flood saw. */
interface FloodOutcome {
  readonly conns: number;
  /** Dials that failed, and connections closed within {@link REFUSED_WITHIN_MS} of connecting. */
  readonly refused: number;
  readonly longestRefusedMs: number;
  /** Connections the target kept past {@link REFUSED_WITHIN_MS}. */
  readonly kept: number;
  /** Of those, the ones still open {@link HEADERS_LIMIT_MS} after connecting, and the 408s. */
  readonly keptOpen: number;
  readonly kept408: number;
  readonly longestKeptMs: number;
}

/**
 * Opens `count` connections at once, sends nothing on them and holds them until the target
 * closes them or {@link HEADERS_LIMIT_MS} passed; then lets them go.
 */
async function flood(address: string, count: number, abort: AbortSignal): Promise<FloodOutcome> {
  const statuses = new Map<Attacker, number>();
  const { attackers, failedDials } = await connectMany(address, count, {
    concurrency: count,
    signal: abort,
    onData: (chunk, attacker) => {
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(chunk.toString('latin1', 0, 16));
      if (match && !statuses.has(attacker)) statuses.set(attacker, Number(match[1]));
    },
  });
  const kept = await waitClosed(attackers, (a) => a.connectedAt + REFUSED_WITHIN_MS, abort);
  const refused = attackers.filter((a) => !kept.includes(a));
  const keptOpen = await waitClosed(kept, (a) => a.connectedAt + HEADERS_LIMIT_MS, abort);
  const outcome: FloodOutcome = {
    conns: attackers.length + failedDials,
    refused: refused.length + failedDials,
    longestRefusedMs: longestUntilClose(refused, (a) => a.connectedAt),
    kept: kept.length,
    keptOpen: keptOpen.length,
    kept408: kept.filter((a) => statuses.get(a) === 408).length,
    longestKeptMs: longestUntilClose(kept, (a) => a.connectedAt),
  };
  await destroyAll(attackers);
  return outcome;
}

export const metricsEndpoint: Scenario = {
  name: 'metrics-endpoint',
  async run({ quick }): Promise<Verdict> {
    const name = 'metrics-endpoint';
    const waves = quick ? 1 : 3;
    const perWave = quick ? 16 : 20;
    const wrongRounds = quick ? 2 : 10;
    const oversizedRounds = quick ? 3 : 20;
    const bodyRounds = quick ? 1 : 4;
    const floodCount = quick ? 200 : 500;
    const good = forkGoodClient();
    const scraper = forkGoodScraper();
    let goodResult: GoodClientResult | undefined;
    let scraped: GoodScraperResult | undefined;
    let target: ServerChild | undefined;
    try {
      target = await startTarget();
      const { rpc, metricsUrl } = targetAddresses(target.address);
      const metricsAddress = new URL(metricsUrl).host;
      await warmUp(rpc, metricsUrl, metricsAddress);
      const idle = await settleTarget(target, undefined);
      if (!idle) return broken(name, new Error(`target ${target.ended} before the attack`));
      const sampler = sampleServer(target, { idleRssBytes: idle.rssBytes, rssLimitBytes: RSS_LIMIT_BYTES });
      const stop = sampler.overLimit;
      await good.start({ address: rpc });
      await scraper.start({ url: metricsUrl, metric: STARTED_TOTAL, labels: ECHO_SAY });
      // With the good client's connection and one scrape in flight, the target is back at rest.
      const atRest = (stats: ServerStats): boolean => stats.fds <= idle.fds + 2;

      const [slow, oversized, wrong, bodyOutcomes] = await Promise.all([
        slowloris(metricsAddress, waves, perWave, stop),
        badRequests(metricsAddress, OVERSIZED_HEADERS, oversizedRounds, 1, stop),
        badRequests(metricsAddress, WRONG, wrongRounds, 2, stop),
        bodies(metricsAddress, bodyRounds, 1, stop),
      ]);
      const bodiesRssGrowth = sampler.peakRssBytes - idle.rssBytes;
      await sampler.waitFor(atRest, 5_000);

      scraper.phase('flood');
      const flooded = await flood(metricsAddress, floodCount, stop);
      await sampler.waitFor(atRest, 5_000);
      scraper.phase('after');
      await scraper.scraped('after', SCRAPES_AFTER, 5_000);

      goodResult = await good.stop();
      scraped = await scraper.stop();
      await sampler.stop();
      const final = await scrapeOnce(metricsUrl, 5_000);
      const runs = await target.stats().catch(() => undefined);
      const end = await settleTarget(target, idle.fds);

      const checks: Check[] = [
        slowlorisCheck(slow),
        floodCheck(flooded),
        ...scraperChecks(scraped),
        tallyCheck(
          oversized,
          `oversized headers (${OVERSIZED_HEADERS.map((kind) => kind.name).join(', ')})`,
          'answered 431',
        ),
        ...bodyChecks(bodyOutcomes, bodiesRssGrowth),
        tallyCheck(wrong, `wrong requests of ${WRONG.length} kinds`, 'got their 404, 405 or 400'),
        metricsCheck(scraped, final.status === 200 ? final.body : undefined, runs),
        check(
          target.ended === undefined,
          target.ended === undefined ? 'target alive' : `target DIED (${target.ended})`,
        ),
        check(
          goodResult.calls > 0 && goodResult.failed === 0 && goodResult.maxMs < GOOD_CLIENT_MAX_MS,
          `good client ${goodResult.calls} calls, ${goodResult.failed} failed, max ${Math.round(goodResult.maxMs)} ms, ` +
            `p99 ${Math.round(goodResult.p99Ms)} ms${goodResult.errors[0] ? ` (${quote(goodResult.errors[0], 100)})` : ''}`,
        ),
        check(
          sampler.peakRssBytes - idle.rssBytes <= RSS_LIMIT_BYTES,
          `RSS +${mib(sampler.peakRssBytes - idle.rssBytes)} peak (limit ${RSS_LIMIT_BYTES / MiB})` +
            `${stop.aborted && !target.ended ? ', attack cut short at the limit' : ''}`,
        ),
        check(end !== undefined && end.fds === idle.fds, `fds ${idle.fds} -> ${end?.fds ?? 'n/a'}`),
        check(
          end !== undefined && end.heapBytes - idle.heapBytes <= HEAP_TOLERANCE_BYTES,
          `heap ${mib(idle.heapBytes)} -> ${end ? mib(end.heapBytes) : 'n/a'} (tolerance +${HEAP_TOLERANCE_BYTES / MiB})`,
        ),
      ];
      return verdict(name, checks);
    } catch (error) {
      return broken(name, error);
    } finally {
      if (!goodResult) await good.stop();
      if (!scraped) await scraper.stop();
      await target?.stop();
    }
  },
};

/** The flood's excess refused at once; what the target kept, no more than maxConnections, closed in time. */
function floodCheck(f: FloodOutcome): Check {
  return check(
    f.kept <= MAX_CONNECTIONS && f.keptOpen === 0 && f.conns > MAX_CONNECTIONS,
    `flood of ${f.conns} conns at once: ${f.refused} refused <= ${duration(f.longestRefusedMs)} after connecting, ` +
      `${f.kept} kept (maxConnections ${MAX_CONNECTIONS}), ` +
      (f.keptOpen === 0
        ? `all closed by the target (${f.kept408} with 408) <= ${duration(f.longestKeptMs)} after connecting`
        : `${f.keptOpen} still open ${duration(HEADERS_LIMIT_MS)} after connecting`) +
      ` (headersTimeoutMs ${HEADERS_TIMEOUT_MS}, limit ${duration(HEADERS_LIMIT_MS)})`,
  );
}

/** Each slowloris connection closed by the target in time. */
function slowlorisCheck(s: SlowlorisOutcome): Check {
  return check(
    s.open === 0 && s.conns > 0,
    `${s.conns} slowloris conns (half stopped in the request line, half in a header, a byte every ` +
      `${TRICKLE_EVERY_MS} ms): ` +
      (s.open === 0
        ? `all closed by the target (${s.answered408} with 408) <= ${duration(s.longestMs)} after connecting`
        : `${s.open} still open ${duration(HEADERS_LIMIT_MS)} after connecting`) +
      ` (headersTimeoutMs ${HEADERS_TIMEOUT_MS}, limit ${duration(HEADERS_LIMIT_MS)})`,
  );
}

/**
 * The good scraper: no failure outside the flood, and {@link SCRAPES_AFTER} good scrapes after
 * it; during the flood, every scrape either answered or refused at once (what maxConnections
 * does when the flood holds every slot), reported.
 */
function scraperChecks(s: GoodScraperResult): Check[] {
  const { calm, flood: during, after } = s.phases;
  const firstError = (tally: ScrapeTally): string =>
    tally.errors[0] === undefined ? '' : ` (${quote(tally.errors[0], 80)})`;
  const outside = calm.refused + calm.failed + after.refused + after.failed;
  const slowest = Math.max(calm.maxOkMs, after.maxOkMs);
  return [
    check(
      outside === 0 && calm.ok > 0 && after.ok >= SCRAPES_AFTER && slowest < GOOD_CLIENT_MAX_MS,
      `good scraper outside the flood ${calm.scrapes + after.scrapes} scrapes, ${outside} failed, max ` +
        `${Math.round(slowest)} ms${firstError(calm)}${firstError(after)}; after it ${after.ok} of ${after.scrapes} got 200`,
    ),
    check(
      during.failed === 0,
      `during the flood ${during.ok} of ${during.scrapes} scrapes got 200, ${during.refused} were refused at once ` +
        `(<= ${Math.round(during.maxRefusedMs)} ms) while it held every slot` +
        `${during.failed ? `, ${during.failed} failed otherwise${firstError(during)}` : ''}`,
    ),
  ];
}

/** Every request of a {@link badRequests} tally got its status. */
function tallyCheck(tally: Tally, what: string, expected: string): Check {
  const wrong = [...tally.wrong.values()].reduce((sum, n) => sum + n, 0);
  const examples = [...tally.wrong]
    .slice(0, 2)
    .map(([why, count]) => `${count}x ${quote(why, 80)}`)
    .join(', ');
  return check(
    wrong === 0 && tally.sent > 0,
    `${tally.sent} ${what}: ${tally.sent - wrong} ${expected}${wrong ? `, wrong: ${examples}` : ''}`,
  );
}

/** Each body answered, closed soon after without being taken whole, and RSS not grown by one. */
function bodyChecks(outcomes: readonly BodyOutcome[], rssGrowth: number): Check[] {
  const answered = outcomes.filter((o) => o.status === o.kind.status).length;
  const closed = outcomes.filter(
    (o) => o.closedAfterMs !== undefined && o.closedAfterMs <= CLOSED_AFTER_ANSWER_MS,
  ).length;
  const whole = outcomes.filter((o) => o.takenBytes >= BODY_BYTES).length;
  const longest = Math.max(0, ...outcomes.map((o) => o.closedAfterMs ?? 0));
  const mostTaken = Math.max(0, ...outcomes.map((o) => o.takenBytes));
  const firstWrong = outcomes.find((o) => o.status !== o.kind.status);
  return [
    check(
      answered === outcomes.length && closed === outcomes.length && whole === 0 && outcomes.length > 0,
      `${outcomes.length} bodies of ${mib(BODY_BYTES)} (${BODIES.map((kind) => kind.name).join('; ')}): ` +
        `${answered} got their 405/404${firstWrong ? ` (${firstWrong.kind.name}: ${firstWrong.status ?? 'closed without an answer'})` : ''}, ` +
        (closed === outcomes.length
          ? `all closed by the target <= ${duration(longest)} after the answer`
          : `${outcomes.length - closed} still open ${duration(CLOSED_AFTER_ANSWER_MS)} after the answer`) +
        ` (limit ${duration(CLOSED_AFTER_ANSWER_MS)}), ${whole} taken whole (the most the kernel took ${mib(mostTaken)})`,
    ),
    check(
      rssGrowth < BODY_BYTES,
      `target RSS +${mib(rssGrowth)} peak while they were sent (limit: less than one body)`,
    ),
  ];
}

/**
 * The scrapes reflect the RPC traffic: the Echo.Say series rose over the good scraper's scrapes
 * and never fell, and a last scrape after the good client stopped equals the handler's count.
 */
function metricsCheck(
  s: GoodScraperResult,
  finalBody: string | undefined,
  stats: ServerStats | undefined,
): Check {
  const final = finalBody === undefined ? undefined : seriesValue(finalBody, STARTED_TOTAL, ECHO_SAY);
  const rose = s.first !== undefined && s.last !== undefined && s.last > s.first && !s.decreased;
  return check(
    rose && final !== undefined && final === stats?.handlerRuns,
    `${STARTED_TOTAL}{${ECHO_SAY.join(',')}} ${s.first ?? 'n/a'} -> ${s.last ?? 'n/a'} over the scrapes` +
      `${s.decreased ? ' (it FELL at least once)' : ''}, last ${final ?? 'n/a'} = ${stats?.handlerRuns ?? 'n/a'} handler runs`,
  );
}

/** `{"rpc": ..., "metrics": ...}` as the target reports it. */
function targetAddresses(reported: string): { rpc: string; metricsUrl: string } {
  const parsed: unknown = JSON.parse(reported);
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    'rpc' in parsed &&
    typeof parsed.rpc === 'string' &&
    'metrics' in parsed &&
    typeof parsed.metrics === 'string'
  )
    return { rpc: parsed.rpc, metricsUrl: parsed.metrics };
  throw new Error(`the target reported ${reported}, not its addresses`);
}

/** Forks the target (`node --expose-gc --import tsx`) and waits for its addresses. */
function startTarget(): Promise<ServerChild> {
  return forkServingChild<ServerStats>(SELF, [TARGET_CHILD], 'metrics target');
}

/**
 * An RPC call, a few scrapes, one request of every bad kind and the start of every body, so
 * the code paths the attacks take are compiled before the idle heap is measured.
 */
async function warmUp(rpc: string, metricsUrl: string, metricsAddress: string): Promise<void> {
  const client = new phobos.Client(rpc, { serializeType: phobos.SerializeType.JSON, timeoutMs: 5_000 });
  try {
    const reply = await client.call<{ warm: boolean }>('Echo', 'Say', { warm: true });
    if (reply?.warm !== true) throw new Error(`warm-up call answered ${JSON.stringify(reply)}`);
  } finally {
    await client.close();
  }
  for (let i = 0; i < 3; i++) {
    const scrape = await scrapeOnce(metricsUrl, 5_000);
    if (scrape.status !== 200) throw new Error(`warm-up scrape: ${scrape.status ?? scrape.error}`);
  }
  const never = new AbortController().signal;
  await badRequests(metricsAddress, [...OVERSIZED_HEADERS, ...WRONG], 1, 1, never);
  for (const kind of BODIES) {
    const http = await openHttp(metricsAddress);
    await send(http.attacker, Buffer.concat([kind.head, kind.piece]));
    const limit = deadlineSignal(5_000, never);
    await Promise.race([http.answered, noAnswer(limit.signal)]);
    limit.clear();
    await destroyAll([http.attacker]);
  }
}

/**
 * Waits (up to 5 s) until the target holds no RPC connection and its fds are back to `fds`,
 * or when none is given, hold still for three samples; then returns its figures after a GC,
 * or undefined when the target is gone.
 */
async function settleTarget(target: ServerChild, fds: number | undefined): Promise<ServerStats | undefined> {
  try {
    let previous = -1;
    let still = 0;
    for (let waited = 0; waited < 5_000; waited += 100) {
      const now = await target.stats();
      still = now.fds === previous ? still + 1 : 0;
      previous = now.fds;
      if (now.connections === 0 && (fds === undefined ? still >= 2 : now.fds <= fds)) break;
      await delay(100);
    }
    return await target.stats({ gc: true });
  } catch {
    return undefined;
  }
}

/**
 * In the target: a phobos Server serving Echo.Say, counted by serverMetrics, and serveMetrics
 * with short limits, both from dist; answers stats over IPC as a server child does.
 */
async function targetMain(): Promise<void> {
  const reply = (message: FromChild<ServerStats>, then?: () => void): void => {
    process.send?.(message, undefined, {}, () => then?.());
  };
  process.on('uncaughtException', (error: unknown) => {
    const described = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`[chaos metrics target ${process.pid}] uncaught: ${described}\n`);
    setTimeout(() => process.exit(70), 500).unref();
    reply({ type: 'crash', error: described.split('\n').slice(0, 2).join(' ') }, () => process.exit(70));
  });
  const compiled = new URL('../../dist/metrics/index.js', import.meta.url);
  const metrics: typeof MetricsModule = await import(compiled.href);
  const counters = { warnings: 0, handlerRuns: 0 };
  const server = new phobos.Server({
    logger: {
      warn: () => {
        counters.warnings += 1;
      },
    },
  });
  server.register('Echo', {
    Say(args: unknown) {
      counters.handlerRuns += 1;
      return args;
    },
  });
  metrics.serverMetrics(server);
  const rpc = await server.listen('tcp@127.0.0.1:0');
  const endpoint = await metrics.serveMetrics({
    address: '127.0.0.1:0',
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    maxConnections: MAX_CONNECTIONS,
  });
  reply({ type: 'ready', address: JSON.stringify({ rpc, metrics: endpoint.url }) });
  let exiting = false;
  const exit = (): void => {
    if (exiting) return;
    exiting = true;
    setTimeout(() => process.exit(0), 2_000).unref();
    void Promise.all([endpoint.close(), server.shutdown({ graceMs: 0 })]).finally(() => process.exit(0));
  };
  process.on('message', (message: ToChild) => {
    if (message.type === 'exit') {
      exit();
      return;
    }
    if (message.gc) {
      // Twice: the first pass may only queue finalizers whose objects the second frees.
      globalThis.gc?.();
      globalThis.gc?.();
    }
    const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    reply({
      type: 'stats',
      id: message.id,
      stats: {
        rssBytes: rss ? Number(rss[1]) * 1024 : Number.NaN,
        fds: readdirSync('/proc/self/fd').length,
        heapBytes: process.memoryUsage().heapUsed,
        connections: server.connectionCount,
        warnings: counters.warnings,
        handlerRuns: counters.handlerRuns,
        unauthorizedRuns: 0,
        slowStarted: 0,
        slowAborted: 0,
        pushesAccepted: 0,
        pushesRefused: 0,
        streamsStarted: 0,
        streamsEnded: 0,
        streamValues: 0,
      },
    });
  });
  process.on('disconnect', exit);
}

if (resolve(process.argv[1] ?? '') === SELF && process.argv[2] === TARGET_CHILD) await targetMain();
else await runIfMain(metricsEndpoint, import.meta.url);
