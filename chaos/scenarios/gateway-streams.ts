// gateway-streams: Server-Sent Events streams through the HTTP gateway (its own process, from
// dist) that are opened and never read. Each attacker asks for Stream.Flood (values of 16 KiB,
// forever, made only as credit pulls them), reads the status line, then reads nothing more; past
// maxStreams more attackers are refused. They hold their streams while a good HTTP client calls
// Echo.Say through the same gateway, then go away. Expects exactly maxStreams streams served and
// the rest refused 429; the server's producers held back (the values made bounded by what the
// kernel buffers of each stalled socket can hold plus the stream window, and none made in the
// last half of the hold, once those buffers were full); every handler ended once its client went
// away; a fresh stream served whole afterwards; the gateway and the server alive, the good client
// unaffected, and the gateway's RSS, fds and heap back within bounds.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { deadlineSignal, destroyAll, type HttpAttacker, openHttp } from '../support/attackers.js';
import type { GoodClientResult, ServerStats } from '../support/messages.js';
import {
  GOOD_CLIENT_MAX_MS,
  HEAP_TOLERANCE_BYTES,
  RSS_LIMIT_BYTES,
  runIfMain,
  type Scenario,
} from '../support/scenario.js';
import { type ServerChild, startServer } from '../support/server-child.js';
import { broken, check, info, mib, type Verdict, verdict } from '../support/verdict.js';
import {
  forkGoodHttpClient,
  type GatewayChild,
  type GoodHttpClient,
  httpCall,
  sampleGateway,
  settleGateway,
  startGateway,
} from './gateway.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const VALUE_BYTES = 16 * KiB;
/** The gateway's default streamWindow. */
const STREAM_WINDOW = 16;
/** Short, so that keepalives are due while the sockets are full (they must not be written then). */
const KEEPALIVE_MS = 500;

/** `GET /Stream/Flood` as Server-Sent Events: values of VALUE_BYTES, or `count` of them. */
function floodRequest(count?: number): Buffer {
  const args = encodeURIComponent(
    JSON.stringify({ bytes: VALUE_BYTES, ...(count === undefined ? {} : { count }) }),
  );
  return Buffer.from(
    `GET /Stream/Flood?args=${args} HTTP/1.1\r\nHost: gateway\r\nAccept: text/event-stream\r\n\r\n`,
    'latin1',
  );
}

/**
 * What the kernel may hold of one stalled socket: its largest send buffer and the peer's largest
 * receive buffer (`/proc/sys/net/ipv4/tcp_wmem` and `tcp_rmem`), 64 MiB when they cannot be read.
 */
function kernelBytesPerSocket(): number {
  try {
    const max = (file: string): number => Number(readFileSync(file, 'utf8').trim().split(/\s+/)[2]);
    const bytes = max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem');
    return Number.isFinite(bytes) && bytes > 0 ? bytes : 64 * MiB;
  } catch {
    return 64 * MiB;
  }
}

/**
 * Reads one whole Server-Sent Events stream; resolves with its data events and how it ended
 * (the last event's type), rejects past `timeoutMs` or on a status but 200.
 */
function readStream(
  url: string,
  path: string,
  timeoutMs: number,
): Promise<{ values: number; ended: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { headers: { accept: 'text/event-stream' }, agent: false },
      (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`HTTP ${response.statusCode}`));
          response.resume();
          return;
        }
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => {
          clearTimeout(timer);
          const events = text.split('\n\n').filter((event) => event !== '' && !event.startsWith(':'));
          const last = events.at(-1) ?? '';
          resolve({
            values: events.filter((event) => event.startsWith('data: ')).length,
            ended: /^event: (\w+)/.exec(last)?.[1] ?? 'no end event',
          });
        });
        response.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`no end within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** Waits (up to 5 s) until every Stream.Flood handler has ended and the gateway serves no stream. */
async function streamsEnded(
  server: ServerChild,
  gateway: GatewayChild,
): Promise<{ server: ServerStats | undefined; gatewayStreams: number | undefined }> {
  let stats: ServerStats | undefined;
  let gatewayStreams: number | undefined;
  for (let waited = 0; waited <= 5_000; waited += 100) {
    stats = await server.stats().catch(() => undefined);
    gatewayStreams = (await gateway.stats().catch(() => undefined))?.streams;
    if (!stats || (stats.streamsStarted === stats.streamsEnded && gatewayStreams === 0)) break;
    await delay(100);
  }
  return { server: stats, gatewayStreams };
}

export const gatewayStreams: Scenario = {
  name: 'gateway-streams',
  async run({ quick }): Promise<Verdict> {
    const name = 'gateway-streams';
    const maxStreams = quick ? 16 : 48;
    const extra = quick ? 8 : 24;
    const holdMs = quick ? 3_000 : 15_000;
    let server: ServerChild | undefined;
    let gatewayChild: GatewayChild | undefined;
    let good: GoodHttpClient | undefined;
    let result: GoodClientResult | undefined;
    const attackers: HttpAttacker[] = [];
    try {
      server = await startServer({ options: {} });
      gatewayChild = await startGateway({
        backend: server.address,
        options: { maxStreams, streamKeepaliveMs: KEEPALIVE_MS },
      });
      const url = gatewayChild.address;
      const address = url.replace(/^http:\/\//, '');
      // Warm-up: a call, a stream read whole and one dropped, so the paths are compiled.
      const agent = new Agent({ keepAlive: false });
      await httpCall(url, { warm: true }, agent, 5_000);
      agent.destroy();
      await readStream(url, '/Stream/Flood?args=%7B%22count%22%3A20%7D', 5_000);
      const dropped = await openHttp(address);
      dropped.attacker.socket.write(floodRequest());
      await dropped.answered;
      await destroyAll([dropped.attacker]);
      const idle = await settleGateway(gatewayChild, undefined);
      if (!idle) return broken(name, new Error(`gateway ${gatewayChild.ended} before the attack`));
      const idleServer = await server.stats();
      const sampler = sampleGateway(gatewayChild, idle.rssBytes);
      good = forkGoodHttpClient(url);
      await good.ready;

      // One at a time, each waiting for its status, so that the first maxStreams are the served ones.
      const statuses = new Map<string, number>();
      for (let i = 0; i < maxStreams + extra && !sampler.overLimit.aborted; i++) {
        const http = await openHttp(address);
        attackers.push(http);
        http.attacker.socket.write(floodRequest());
        const limit = deadlineSignal(5_000, sampler.overLimit);
        const status = await Promise.race([
          http.answered,
          new Promise<undefined>((resolve) =>
            limit.signal.addEventListener('abort', () => resolve(undefined), { once: true }),
          ),
        ]);
        limit.clear();
        // From here on it reads nothing: the gateway's writes back up into the kernel, then stop.
        http.attacker.socket.pause();
        const key = status === undefined ? 'none' : String(status);
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
      const served = statuses.get('200') ?? 0;
      const refused = statuses.get('429') ?? 0;
      await delay(holdMs / 2, undefined, { signal: sampler.overLimit }).catch(() => {});
      const halfway = await server.stats();
      const holding = await gatewayChild.stats();
      await delay(holdMs / 2, undefined, { signal: sampler.overLimit }).catch(() => {});
      const held = await server.stats();
      const made = held.streamValues - idleServer.streamValues;
      const madeLate = held.streamValues - halfway.streamValues;
      const eventBytes = `data: ${JSON.stringify({ n: 0, pad: 'x'.repeat(VALUE_BYTES) })}\n\n`.length;
      const perStream = STREAM_WINDOW + 2 + Math.ceil(kernelBytesPerSocket() / eventBytes);
      const bound = served * perStream;

      await destroyAll(attackers.map((http) => http.attacker));
      const ended = await streamsEnded(server, gatewayChild);
      const started = (ended.server?.streamsStarted ?? 0) - idleServer.streamsStarted;
      const endedCount = (ended.server?.streamsEnded ?? 0) - idleServer.streamsEnded;
      let fresh: { values: number; ended: string } | Error;
      try {
        fresh = await readStream(url, `/Stream/Flood?args=${encodeURIComponent('{"count":100}')}`, 5_000);
      } catch (error) {
        fresh = error instanceof Error ? error : new Error(String(error));
      }
      result = await good.stop();
      await sampler.stop();
      const end = await settleGateway(gatewayChild, idle.fds);
      const rssGrowth = sampler.peakRssBytes - idle.rssBytes;
      const others = [...statuses].filter(([status]) => status !== '200' && status !== '429');
      const checks = [
        check(
          served === maxStreams && refused === extra && others.length === 0,
          `${maxStreams + extra} SSE streams of ${VALUE_BYTES / KiB} KiB values opened and never read: ` +
            `${served} served, ${refused} refused 429 (maxStreams ${maxStreams})` +
            `${others.length > 0 ? `, others: ${others.map(([s, n]) => `${n}x ${s}`).join(', ')}` : ''}`,
        ),
        check(
          holding.streams === maxStreams,
          `gateway streams in flight while held ${holding.streams} (of ${maxStreams})`,
        ),
        check(
          made <= bound,
          `server made ${made} values for them in ${holdMs / 1_000} s (${mib(made * eventBytes)}; limit ${bound}: ` +
            `window ${STREAM_WINDOW} + what a stalled socket's kernel buffers hold, per stream)`,
        ),
        check(
          madeLate <= served,
          `values made in the last half of the hold ${madeLate} (producers held back)`,
        ),
        check(
          started === endedCount && ended.gatewayStreams === 0,
          `attackers gone: ${endedCount} of ${started} handlers ended, gateway streams ${ended.gatewayStreams ?? 'n/a'}`,
        ),
        check(
          !(fresh instanceof Error) && fresh.values === 100 && fresh.ended === 'end',
          fresh instanceof Error
            ? `a fresh stream afterwards failed: ${fresh.message}`
            : `a fresh stream afterwards: ${fresh.values} values, then ${fresh.ended}`,
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
            `p99 ${Math.round(result.p99Ms)} ms${result.errors[0] ? ` (${result.errors[0]})` : ''}`,
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
      await destroyAll(attackers.map((http) => http.attacker));
      if (good && !result) await good.stop();
      await gatewayChild?.stop();
      await server?.stop();
    }
  },
};

await runIfMain(gatewayStreams, import.meta.url);
