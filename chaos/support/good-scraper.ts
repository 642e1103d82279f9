// The good scraper, in its own process (so that its latencies measure the target and not the
// attacker sharing its event loop): a plain node:http GET of a metrics URL on a fresh
// connection, 25 ms apart, 5 s deadline each, checking the status and that the body holds the
// series it follows. The parent names the phase the target is in (`calm`, `flood`, `after`);
// each scrape counts under the phase it started in, so a verdict can require every scrape
// outside a flood to succeed and only report what a connection limit refuses during one.
//
// forkGoodScraper runs this same file as the child's main (with `--good-scraper`).
import { fork } from 'node:child_process';
import { request } from 'node:http';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROLE = '--good-scraper';
const SCRAPE_EVERY_MS = 25;
const SCRAPE_TIMEOUT_MS = 5_000;
/** Errors that mean the target refused or dropped the connection before answering. */
const REFUSALS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE']);

/** What the target is going through while a scrape starts. */
export type ScrapePhase = 'calm' | 'flood' | 'after';

/** What the good scraper reads. */
export interface GoodScraperConfig {
  /** The metrics URL, e.g. `http://127.0.0.1:40123/metrics`. */
  readonly url: string;
  /** The series to follow: a metric name and label pairs it must carry (`service="Echo"`). */
  readonly metric: string;
  readonly labels: readonly string[];
}

/** The scrapes that started in one phase. */
export interface ScrapeTally {
  readonly scrapes: number;
  /** Answered 200 with the series in the body. */
  readonly ok: number;
  /** Refused or reset by the target before any answer. */
  readonly refused: number;
  /** Anything else: another status, no series, no answer within 5 s. */
  readonly failed: number;
  /** The first few messages of the refused and failed scrapes. */
  readonly errors: readonly string[];
  /** The slowest scrape that succeeded, and the slowest refusal. */
  readonly maxOkMs: number;
  readonly maxRefusedMs: number;
}

/** What the good scraper found, sent when told to stop. */
export interface GoodScraperResult {
  readonly phases: Readonly<Record<ScrapePhase, ScrapeTally>>;
  /** The series' value in the first and in the last successful scrape. */
  readonly first: number | undefined;
  readonly last: number | undefined;
  /** Whether the value ever went down from one successful scrape to the next. */
  readonly decreased: boolean;
}

type ToGoodScraper =
  | { readonly type: 'start'; readonly config: GoodScraperConfig }
  | { readonly type: 'phase'; readonly phase: ScrapePhase }
  | { readonly type: 'stop' };

type FromGoodScraper =
  | { readonly type: 'ready' }
  | { readonly type: 'scraped'; readonly phase: ScrapePhase }
  | { readonly type: 'result'; readonly result: GoodScraperResult };

/** A good scraper process, as its parent sees it. */
export interface GoodScraper {
  /** Starts scraping; resolves once the first scrape settled. */
  start(config: GoodScraperConfig): Promise<void>;
  /** Counts the scrapes that start from now on under `phase`. */
  phase(phase: ScrapePhase): void;
  /** Resolves true once `count` scrapes of `phase` settled, false when `timeoutMs` passed first. */
  scraped(phase: ScrapePhase, count: number, timeoutMs: number): Promise<boolean>;
  /** Tells it to stop and resolves with what it saw (a scraper that died reports so as a failure). */
  stop(): Promise<GoodScraperResult>;
}

/** One GET of a metrics URL. */
export interface Scrape {
  /** The status, or undefined when the request failed. */
  readonly status: number | undefined;
  readonly body: string;
  /** Why it failed, and the error's code when it had one. */
  readonly error: string | undefined;
  readonly code: string | undefined;
  readonly ms: number;
}

/**
 * GETs `url` on a fresh connection (closed after the answer); never rejects.
 *
 * @example
 * ```ts
 * const { status, body } = await scrapeOnce('http://127.0.0.1:9464/metrics', 5_000);
 * ```
 */
export function scrapeOnce(url: string, timeoutMs: number): Promise<Scrape> {
  const started = performance.now();
  return new Promise((settle) => {
    const done = (
      status: number | undefined,
      body: string,
      error: string | undefined,
      code: string | undefined,
    ): void => {
      clearTimeout(timer);
      settle({ status, body, error, code, ms: performance.now() - started });
    };
    const req = request(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        done(response.statusCode, Buffer.concat(chunks).toString('utf8'), undefined, undefined),
      );
      response.on('error', (error: NodeJS.ErrnoException) => done(undefined, '', error.message, error.code));
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => done(undefined, '', error.message, error.code));
    req.end();
  });
}

/**
 * The value of the series `metric{...labels...}` in a text exposition, or undefined when no
 * line carries it.
 *
 * @example
 * ```ts
 * seriesValue(body, 'phobos_server_started_total', ['service="Echo"', 'method="Say"']); // 42
 * ```
 */
export function seriesValue(text: string, metric: string, labels: readonly string[]): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`)) continue;
    const close = line.indexOf('} ');
    if (close < 0) continue;
    const pairs = line.slice(metric.length + 1, close).split(',');
    if (labels.every((label) => pairs.includes(label))) return Number(line.slice(close + 2));
  }
  return undefined;
}

/**
 * Forks the good scraper; it waits for {@link GoodScraper.start}.
 *
 * @example
 * ```ts
 * const scraper = forkGoodScraper();
 * await scraper.start({ url, metric: 'phobos_server_started_total', labels: [] });
 * scraper.phase('flood');
 * const { phases } = await scraper.stop();
 * ```
 */
export function forkGoodScraper(): GoodScraper {
  const child = fork(SELF, [ROLE], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ended = '';
  let result: GoodScraperResult | undefined;
  const counts: Record<ScrapePhase, number> = { calm: 0, flood: 0, after: 0 };
  const waiters = new Set<() => void>();
  const exited = new Promise<void>((done) =>
    child.once('exit', (code, signal) => {
      ended = signal ? `signal ${signal}` : `exit ${code}`;
      for (const wake of [...waiters]) wake();
      done();
    }),
  );
  const ready = new Promise<void>((done) => {
    child.on('message', (message: FromGoodScraper) => {
      if (message.type === 'ready') done();
      else if (message.type === 'scraped') {
        counts[message.phase] += 1;
        for (const wake of [...waiters]) wake();
      } else result = message.result;
    });
    void exited.then(done);
  });
  const tell = (message: ToGoodScraper): void => {
    if (child.connected) child.send(message);
  };
  return {
    async start(config) {
      tell({ type: 'start', config });
      await ready;
    },
    phase(phase) {
      tell({ type: 'phase', phase });
    },
    scraped(phase, count, timeoutMs) {
      return new Promise((done) => {
        const wake = (): void => {
          if (counts[phase] < count && !ended) return;
          clearTimeout(timer);
          waiters.delete(wake);
          done(counts[phase] >= count);
        };
        const timer = setTimeout(() => {
          waiters.delete(wake);
          done(false);
        }, timeoutMs);
        waiters.add(wake);
        wake();
      });
    },
    async stop() {
      tell({ type: 'stop' });
      // The longest a scrape can take is its 5 s deadline; past that the scraper is stuck.
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      return result ?? deadScraper(ended);
    },
  };
}

/** A {@link ScrapeTally} being counted. */
interface Counting {
  scrapes: number;
  ok: number;
  refused: number;
  failed: number;
  errors: string[];
  maxOkMs: number;
  maxRefusedMs: number;
}

function counting(): Counting {
  return { scrapes: 0, ok: 0, refused: 0, failed: 0, errors: [], maxOkMs: 0, maxRefusedMs: 0 };
}

function deadScraper(ended: string): GoodScraperResult {
  return {
    phases: {
      calm: { ...counting(), failed: 1, errors: [`the good scraper ended (${ended}) without a result`] },
      flood: counting(),
      after: counting(),
    },
    first: undefined,
    last: undefined,
    decreased: false,
  };
}

/** In the child: scrapes until told to stop, counting each scrape under its phase. */
async function goodScraperMain(): Promise<void> {
  const tell = (message: FromGoodScraper): Promise<void> =>
    new Promise((done) => process.send?.(message, undefined, {}, () => done()));
  const stopping = new AbortController();
  let phase: ScrapePhase = 'calm';
  let config: GoodScraperConfig | undefined;
  let configured = (): void => {};
  const started = new Promise<void>((done) => {
    configured = done;
  });
  process.on('disconnect', () => {
    stopping.abort();
    configured();
  });
  process.on('message', (message: ToGoodScraper) => {
    if (message.type === 'start') {
      config = message.config;
      configured();
    } else if (message.type === 'phase') phase = message.phase;
    else {
      stopping.abort();
      configured();
    }
  });
  await started;
  if (!config) {
    if (process.connected) process.disconnect();
    return;
  }
  const tallies: Record<ScrapePhase, Counting> = { calm: counting(), flood: counting(), after: counting() };
  let first: number | undefined;
  let last: number | undefined;
  let decreased = false;
  for (let n = 0; !stopping.signal.aborted; n += 1) {
    const at = phase;
    const tally = tallies[at];
    const scrape = await scrapeOnce(config.url, SCRAPE_TIMEOUT_MS);
    const value = scrape.status === 200 ? seriesValue(scrape.body, config.metric, config.labels) : undefined;
    tally.scrapes += 1;
    let problem: string | undefined;
    if (value !== undefined) {
      tally.ok += 1;
      tally.maxOkMs = Math.max(tally.maxOkMs, scrape.ms);
      if (last !== undefined && value < last) decreased = true;
      first ??= value;
      last = value;
    } else if (scrape.code !== undefined && REFUSALS.has(scrape.code)) {
      tally.refused += 1;
      tally.maxRefusedMs = Math.max(tally.maxRefusedMs, scrape.ms);
      problem = `refused: ${scrape.error}`;
    } else {
      tally.failed += 1;
      problem =
        scrape.status === undefined
          ? `${scrape.error}`
          : scrape.status === 200
            ? `no ${config.metric}{${config.labels.join(',')}} in the body`
            : `HTTP ${scrape.status}`;
    }
    if (problem !== undefined && tally.errors.length < 3) tally.errors.push(problem);
    if (n === 0) await tell({ type: 'ready' });
    await tell({ type: 'scraped', phase: at });
    await delay(SCRAPE_EVERY_MS, undefined, { signal: stopping.signal }).catch(() => undefined);
  }
  await tell({ type: 'result', result: { phases: tallies, first, last, decreased } });
  if (process.connected) process.disconnect();
}

if (resolve(process.argv[1] ?? '') === SELF && process.argv[2] === ROLE) await goodScraperMain();
