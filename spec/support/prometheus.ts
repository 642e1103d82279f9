import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

/** How long {@link startPrometheus} waits for `/-/ready` to answer 200. */
export const DEFAULT_READY_TIMEOUT_MS = 20_000;

/**
 * How long `waitForScrape()` and `waitForNextScrape()` wait by default. Prometheus hands new targets
 * to its scrape loops only every 5 s, so the first scrape comes about 5 s after the start.
 */
export const DEFAULT_SCRAPE_TIMEOUT_MS = 20_000;

/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
export const DEFAULT_STOP_GRACE_MS = 5_000;

/** Default scrape (and rule evaluation) interval: 200 ms. */
export const DEFAULT_SCRAPE_INTERVAL_MS = 200;

/** Default `job_name` of the scrape config, and so the `job` label of every scraped series. */
export const DEFAULT_JOB_NAME = 'phobos';

/** How long Prometheus keeps samples: far longer than a test, far shorter than the default 15 days. */
export const PROMETHEUS_RETENTION = '1h';

/** The message of the error thrown when no `prometheus` binary is on PATH. */
export const PROMETHEUS_NOT_INSTALLED =
  'prometheus is not installed: run `bash scripts/ensure-prometheus.sh` (as root), or put prometheus 2.x on PATH';

const LOG_TAIL_LINES = 50;
const POLL_INTERVAL_MS = 50;
const REQUEST_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;
const TARGET_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
const JOB_NAME_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/** One sample of an instant vector, as `/api/v1/query` returns it: `[unix seconds, value]`. */
export interface PrometheusSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: readonly [number, string];
}

/** The `data.result` of an instant query whose `resultType` is `vector`. */
export type PrometheusVector = readonly PrometheusSample[];

/** One series of a range vector, as `/api/v1/query_range` returns it. */
export interface PrometheusSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly values: readonly (readonly [number, string])[];
}

/** The `data.result` of a range query (`resultType` `matrix`). */
export type PrometheusMatrix = readonly PrometheusSeries[];

/** The time range and resolution of {@link PrometheusServer.queryRange}. */
export interface PrometheusRange {
  /** Start, in ms since the epoch. */
  readonly startMs: number;
  /** End, in ms since the epoch. */
  readonly endMs: number;
  /** Resolution; Prometheus refuses more than 11,000 points per series. */
  readonly stepMs: number;
}

/** One active target as `/api/v1/targets` reports it. */
export interface PrometheusTarget {
  /** Its `instance` label: the `host:port` it was configured with. */
  readonly instance: string;
  readonly scrapeUrl: string;
  /** `unknown` until the first scrape. */
  readonly health: 'up' | 'down' | 'unknown';
  /** Empty when the last scrape succeeded. */
  readonly lastError: string;
  /** When the last scrape started, in ms since the epoch; 0 before the first scrape. */
  readonly lastScrapeMs: number;
}

/** Options of `waitForScrape()` and `waitForNextScrape()`. */
export interface WaitForScrapeOptions {
  /** Default {@link DEFAULT_SCRAPE_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

/** A Prometheus server in a child process, listening on 127.0.0.1 only. */
export interface PrometheusServer {
  /** Base URL of its HTTP API, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  /** The temporary dir holding its config and TSDB; deleted by `stop()`. */
  readonly dir: string;
  /** The pid of its process. */
  readonly pid: number;
  /** The `host:port` of every scraped `/metrics` endpoint. */
  readonly targets: readonly string[];
  /** The `job` label of every scraped series. */
  readonly jobName: string;
  /**
   * Evaluates an instant query (at `timeMs`, default now) and returns its vector. Rejects with a
   * {@link PrometheusQueryError} carrying Prometheus's message when it refuses the query (a PromQL
   * parse error, for one) or when the result is not a vector (a scalar or a string).
   */
  query(promql: string, options?: { readonly timeMs?: number }): Promise<PrometheusVector>;
  /** Evaluates a range query and returns its matrix; rejects like `query`. */
  queryRange(promql: string, range: PrometheusRange): Promise<PrometheusMatrix>;
  /** The active targets reported by `/api/v1/targets`, empty until Prometheus has picked them up. */
  activeTargets(): Promise<readonly PrometheusTarget[]>;
  /**
   * Resolves once every target has been scraped successfully and that scrape's samples can be
   * queried. Rejects with a {@link PrometheusScrapeTimeoutError} naming the targets still waiting,
   * with their health and last error, when that has not happened within the timeout.
   */
  waitForScrape(options?: WaitForScrapeOptions): Promise<void>;
  /**
   * Resolves once every target has had a successful scrape later than the last one committed when
   * it was called, with that scrape's samples queryable: after `waitForScrape()`, it makes sure a
   * `rate()` has two samples. Rejects like `waitForScrape()`.
   */
  waitForNextScrape(options?: WaitForScrapeOptions): Promise<void>;
  /**
   * SIGTERM, then waits for the process to end (SIGKILL after 5 s), and deletes `dir`. Calling it
   * again does nothing.
   */
  stop(): Promise<void>;
  /** The last lines Prometheus wrote to stderr (logfmt), oldest first. */
  logs(): readonly string[];
}

/** Options of {@link startPrometheus}. */
export interface StartPrometheusOptions {
  /** The `host:port` of each `/metrics` endpoint to scrape; at least one. */
  readonly targets: readonly string[];
  /** Scrape and rule evaluation interval; default {@link DEFAULT_SCRAPE_INTERVAL_MS}. */
  readonly scrapeIntervalMs?: number;
  /** Default {@link DEFAULT_JOB_NAME}; letters, digits and `_.:-` only. */
  readonly jobName?: string;
  /** Default {@link DEFAULT_READY_TIMEOUT_MS}. */
  readonly readyTimeoutMs?: number;
}

/**
 * A Prometheus that exited or was not ready in time; `stderr` holds the last lines it logged, which
 * the message repeats.
 *
 * @example
 * await expect(startPrometheus({ targets })).rejects.toBeInstanceOf(PrometheusStartError);
 */
export class PrometheusStartError extends Error {
  override readonly name = 'PrometheusStartError';
  readonly stderr: readonly string[];

  constructor(message: string, stderr: readonly string[], options?: ErrorOptions) {
    super(
      stderr.length === 0 ? message : `${message}\n--- prometheus stderr ---\n${stderr.join('\n')}`,
      options,
    );
    this.stderr = stderr;
  }
}

/**
 * A query Prometheus refused, or whose result had an unexpected type; the message carries
 * Prometheus's own error text.
 *
 * @example
 * await expect(prometheus.query('sum(')).rejects.toMatchObject({ errorType: 'bad_data' });
 */
export class PrometheusQueryError extends Error {
  override readonly name = 'PrometheusQueryError';
  /** The query as sent. */
  readonly promql: string;
  /** Prometheus's `errorType` (`bad_data`, `execution`, `timeout`…), or `unexpected_result`. */
  readonly errorType: string;

  constructor(promql: string, errorType: string, detail: string) {
    super(`Prometheus refused ${JSON.stringify(promql)}: ${errorType}: ${detail}`);
    this.promql = promql;
    this.errorType = errorType;
  }
}

/**
 * Some targets were not scraped successfully in time; `pending` says how each of them stood (not
 * picked up yet, health down with the last scrape error, or scrape not committed yet).
 *
 * @example
 * await expect(prometheus.waitForScrape({ timeoutMs: 1_000 })).rejects.toThrow(/connection refused/);
 */
export class PrometheusScrapeTimeoutError extends Error {
  override readonly name = 'PrometheusScrapeTimeoutError';
  readonly pending: readonly { readonly target: string; readonly state: string }[];

  constructor(timeoutMs: number, pending: readonly { readonly target: string; readonly state: string }[]) {
    super(
      `targets not scraped successfully within ${timeoutMs} ms: ${pending
        .map(({ target, state }) => `${target} (${state})`)
        .join('; ')}`,
    );
    this.pending = pending;
  }
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<string>;
}

const live = new Set<Instance>();
let exitHookInstalled = false;

/**
 * Starts Prometheus on a free loopback port, with its config and TSDB in a fresh temporary dir,
 * scraping `targets` every `scrapeIntervalMs`, and resolves once `/-/ready` answers 200. Throws a
 * `RangeError` for a bad option; rejects with {@link PROMETHEUS_NOT_INSTALLED} when `prometheus` is
 * not on PATH, or with a {@link PrometheusStartError} carrying its stderr when it exits or is not
 * ready within `readyTimeoutMs` (the process and the dir are then cleaned up). A port taken between
 * its choice and Prometheus binding it is retried with another port.
 *
 * @example
 * const prometheus = await startPrometheus({ targets: [`127.0.0.1:${metricsPort}`] });
 * await prometheus.waitForScrape();
 * const [sample] = await prometheus.query('phobos_calls_total');
 * await prometheus.stop();
 */
export async function startPrometheus(options: StartPrometheusOptions): Promise<PrometheusServer> {
  const config = resolveOptions(options);
  const binary = await findPrometheus();
  for (let attempt = 1; ; attempt++) {
    const instance = new Instance(binary, config, await freePort(), await makeDir());
    try {
      await instance.start();
      return instance;
    } catch (error) {
      await instance.stop();
      const portTaken = instance.logs().some((line) => line.includes('address already in use'));
      if (!portTaken || attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/**
 * Stops every Prometheus started by this module and not stopped yet, and deletes their dirs. Meant
 * for `afterAll`, so that a failing test leaves no process or temp dir behind; never rejects for one
 * server's sake before it has tried them all.
 *
 * @example
 * afterAll(stopAllPrometheus);
 */
export async function stopAllPrometheus(): Promise<void> {
  const results = await Promise.allSettled([...live].map((instance) => instance.stop()));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

interface ResolvedOptions {
  readonly targets: readonly string[];
  readonly scrapeIntervalMs: number;
  readonly jobName: string;
  readonly readyTimeoutMs: number;
}

function resolveOptions(options: StartPrometheusOptions): ResolvedOptions {
  const targets = [...new Set(options.targets)];
  if (targets.length === 0) throw new RangeError('targets must name at least one host:port');
  for (const target of targets) {
    if (!TARGET_PATTERN.test(target))
      throw new RangeError(`targets: ${JSON.stringify(target)} is not host:port`);
  }
  const scrapeIntervalMs = options.scrapeIntervalMs ?? DEFAULT_SCRAPE_INTERVAL_MS;
  if (!Number.isInteger(scrapeIntervalMs) || scrapeIntervalMs < 1) {
    throw new RangeError(`scrapeIntervalMs must be a positive integer, got ${scrapeIntervalMs}`);
  }
  const jobName = options.jobName ?? DEFAULT_JOB_NAME;
  if (!JOB_NAME_PATTERN.test(jobName)) {
    throw new RangeError(`jobName must be letters, digits and _.:- only, got ${JSON.stringify(jobName)}`);
  }
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  if (!(readyTimeoutMs > 0)) throw new RangeError(`readyTimeoutMs must be positive, got ${readyTimeoutMs}`);
  return { targets, scrapeIntervalMs, jobName, readyTimeoutMs };
}

class Instance implements PrometheusServer {
  readonly #binary: string;
  readonly #config: ResolvedOptions;
  readonly #port: number;
  readonly #dir: string;
  #running: Running | undefined;
  #tail: string[] = [];
  #stopping: Promise<void> | undefined;

  constructor(binary: string, config: ResolvedOptions, port: number, dir: string) {
    this.#binary = binary;
    this.#config = config;
    this.#port = port;
    this.#dir = dir;
    live.add(this);
    installExitHook();
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  get dir(): string {
    return this.#dir;
  }

  get pid(): number {
    return this.#running?.child.pid ?? 0;
  }

  get targets(): readonly string[] {
    return this.#config.targets;
  }

  get jobName(): string {
    return this.#config.jobName;
  }

  logs(): readonly string[] {
    return [...this.#tail];
  }

  /** Writes the config, launches Prometheus and waits until it is ready; the caller stops it on failure. */
  async start(): Promise<void> {
    const configFile = join(this.#dir, 'prometheus.yml');
    await writeFile(configFile, prometheusConfig(this.#config));
    const running = this.#launch(configFile);
    const deadline = Date.now() + this.#config.readyTimeoutMs;
    let exit: string | undefined;
    void running.exited.then((how) => {
      exit = how;
    });
    for (;;) {
      if (exit !== undefined) {
        throw new PrometheusStartError(`prometheus ${exit} before it was ready`, this.logs());
      }
      if (await this.#isReady()) return;
      if (Date.now() >= deadline) {
        throw new PrometheusStartError(
          `prometheus not ready within ${this.#config.readyTimeoutMs} ms`,
          this.logs(),
        );
      }
      await delay(POLL_INTERVAL_MS);
    }
  }

  async query(promql: string, options: { readonly timeMs?: number } = {}): Promise<PrometheusVector> {
    const params = new URLSearchParams({ query: promql });
    if (options.timeMs !== undefined) params.set('time', secondsParam(options.timeMs));
    const data = await this.#api('/api/v1/query', params, 'POST', promql);
    if (data.resultType !== 'vector') {
      throw new PrometheusQueryError(
        promql,
        'unexpected_result',
        `a ${String(data.resultType)}, not a vector`,
      );
    }
    return asArray(data.result, 'result').map(parseSample);
  }

  async queryRange(promql: string, range: PrometheusRange): Promise<PrometheusMatrix> {
    const params = new URLSearchParams({
      query: promql,
      start: secondsParam(range.startMs),
      end: secondsParam(range.endMs),
      step: secondsParam(range.stepMs),
    });
    const data = await this.#api('/api/v1/query_range', params, 'POST', promql);
    if (data.resultType !== 'matrix') {
      throw new PrometheusQueryError(
        promql,
        'unexpected_result',
        `a ${String(data.resultType)}, not a matrix`,
      );
    }
    return asArray(data.result, 'result').map(parseSeries);
  }

  async activeTargets(): Promise<readonly PrometheusTarget[]> {
    const params = new URLSearchParams({ state: 'active' });
    const data = await this.#api('/api/v1/targets', params, 'GET');
    return asArray(data.activeTargets, 'activeTargets').map(parseTarget);
  }

  waitForScrape(options: WaitForScrapeOptions = {}): Promise<void> {
    return this.#waitForScrapes(new Map(), options.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS);
  }

  async waitForNextScrape(options: WaitForScrapeOptions = {}): Promise<void> {
    return this.#waitForScrapes(await this.#lastScrapes(), options.timeoutMs ?? DEFAULT_SCRAPE_TIMEOUT_MS);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /** Kills the process without waiting and deletes the dir; for the process `exit` hook. */
  stopNow(): void {
    const child = this.#running?.child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #stop(): Promise<void> {
    const running = this.#running;
    try {
      if (running !== undefined) {
        const { child } = running;
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const escalate = setTimeout(() => child.kill('SIGKILL'), DEFAULT_STOP_GRACE_MS);
        try {
          await running.exited;
        } finally {
          clearTimeout(escalate);
        }
      }
      await rm(this.#dir, { recursive: true, force: true });
    } finally {
      live.delete(this);
    }
  }

  /**
   * Polls until, for every target, `/api/v1/targets` says up and its latest committed `up` sample is
   * 1 and later than `after` (by instance). The target's health alone is not enough: Prometheus
   * reports it before it commits the scrape's samples, and `up` is committed with them.
   */
  async #waitForScrapes(after: ReadonlyMap<string, number>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [targets, succeeded] = await Promise.all([this.activeTargets(), this.#lastScrapes(true)]);
      const pending: { target: string; state: string }[] = [];
      for (const target of this.#config.targets) {
        const reported = targets.find((candidate) => candidate.instance === target);
        const atMs = succeeded.get(target);
        if (reported === undefined) {
          pending.push({ target, state: 'not picked up by Prometheus yet' });
        } else if (reported.health !== 'up') {
          const error = reported.lastError === '' ? '' : `, last error: ${reported.lastError}`;
          pending.push({ target, state: `health ${reported.health}${error}` });
        } else if (atMs === undefined || atMs <= (after.get(target) ?? Number.NEGATIVE_INFINITY)) {
          pending.push({ target, state: 'scrape not committed yet' });
        }
      }
      if (pending.length === 0) return;
      if (Date.now() >= deadline) throw new PrometheusScrapeTimeoutError(timeoutMs, pending);
      await delay(POLL_INTERVAL_MS);
    }
  }

  /**
   * The time (ms since the epoch) of each target's latest committed scrape, by instance; with
   * `onlySucceeded`, only targets whose latest scrape succeeded are listed.
   */
  async #lastScrapes(onlySucceeded = false): Promise<Map<string, number>> {
    const up = `up{job=${JSON.stringify(this.#config.jobName)}}`;
    // timestamp() gives a sample's own time only when applied to a plain selector; on `up == 1` it
    // would give the evaluation time. So the filter comes after it.
    const times = await this.query(
      onlySucceeded ? `timestamp(${up}) and on (instance) (${up} == 1)` : `timestamp(${up})`,
    );
    const scrapes = new Map<string, number>();
    for (const sample of times) {
      const instance = sample.metric.instance;
      if (instance !== undefined) scrapes.set(instance, Math.round(Number(sample.value[1]) * 1000));
    }
    return scrapes;
  }

  async #isReady(): Promise<boolean> {
    try {
      return (await this.#request('/-/ready', 'GET')).status === 200;
    } catch {
      return false;
    }
  }

  /**
   * Calls an API endpoint and returns its `data`. When Prometheus answers with an error, rejects
   * with a {@link PrometheusQueryError} for a query (`promql` given) and a plain `Error` otherwise.
   */
  async #api(
    path: string,
    params: URLSearchParams,
    method: 'GET' | 'POST',
    promql?: string,
  ): Promise<Record<string, unknown>> {
    let answer: { status: number; text: string };
    try {
      answer = await this.#request(path, method, params);
    } catch (error) {
      throw new Error(`Prometheus at ${this.url} did not answer ${path}`, { cause: error });
    }
    const { status, text } = answer;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`Prometheus answered ${path} with HTTP ${status} and no JSON: ${text.slice(0, 200)}`);
    }
    const envelope = asRecord(body, 'response');
    if (envelope.status !== 'success') {
      const errorType = typeof envelope.errorType === 'string' ? envelope.errorType : `http_${status}`;
      const detail = typeof envelope.error === 'string' ? envelope.error : text.slice(0, 200);
      if (promql !== undefined) throw new PrometheusQueryError(promql, errorType, detail);
      throw new Error(`Prometheus refused ${path}: ${errorType}: ${detail}`);
    }
    return asRecord(envelope.data, 'data');
  }

  /**
   * One HTTP exchange on a connection of its own, body included, bounded by a timeout. Not fetch: its
   * pooled keep-alive sockets and shared timers outlive the call, and a test checking for handles
   * left open would see them.
   */
  #request(
    path: string,
    method: 'GET' | 'POST',
    params?: URLSearchParams,
  ): Promise<{ status: number; text: string }> {
    const query = method === 'GET' && params !== undefined ? `?${params}` : '';
    const body = method === 'POST' && params !== undefined ? params.toString() : undefined;
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.url}${path}${query}`,
        {
          method,
          agent: false,
          headers:
            body === undefined
              ? {}
              : {
                  'content-type': 'application/x-www-form-urlencoded',
                  'content-length': Buffer.byteLength(body),
                },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)),
        REQUEST_TIMEOUT_MS,
      );
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end(body);
    });
  }

  #launch(configFile: string): Running {
    const child = spawn(
      this.#binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(this.#dir, 'data')}`,
        `--storage.tsdb.retention.time=${PROMETHEUS_RETENTION}`,
        `--web.listen-address=127.0.0.1:${this.#port}`,
      ],
      { cwd: this.#dir, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<string>((resolve) => {
      // 'close' rather than 'exit': it comes after stderr ended, so the tail holds the last words.
      child.once('close', (code, signal) =>
        resolve(signal === null ? `exited with code ${code}` : `ended by ${signal}`),
      );
      child.once('error', (error) => resolve(`failed to spawn (${error.message})`));
    });
    const tail: string[] = [];
    this.#tail = tail;
    if (child.stderr !== null) {
      createInterface({ input: child.stderr }).on('line', (line) => {
        tail.push(line);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
      });
    }
    this.#running = { child, exited };
    return this.#running;
  }
}

/** The config file: JSON, which is YAML too, so no value needs YAML quoting. */
function prometheusConfig(config: ResolvedOptions): string {
  const interval = `${config.scrapeIntervalMs}ms`;
  return JSON.stringify(
    {
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: [
        {
          job_name: config.jobName,
          scrape_interval: interval,
          static_configs: [{ targets: config.targets }],
        },
      ],
    },
    null,
    2,
  );
}

function secondsParam(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function asRecord(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`unexpected Prometheus answer: ${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

function asArray(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new Error(`unexpected Prometheus answer: ${what} is not an array`);
  return value;
}

function asLabels(value: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [name, label] of Object.entries(asRecord(value, 'metric'))) {
    if (typeof label !== 'string')
      throw new Error(`unexpected Prometheus answer: label ${name} is not a string`);
    labels[name] = label;
  }
  return labels;
}

function asPoint(value: unknown): [number, string] {
  const point = asArray(value, 'value');
  const [time, sample] = point;
  if (point.length !== 2 || typeof time !== 'number' || typeof sample !== 'string') {
    throw new Error('unexpected Prometheus answer: a value is not [time, "value"]');
  }
  return [time, sample];
}

function parseSample(value: unknown): PrometheusSample {
  const record = asRecord(value, 'sample');
  return { metric: asLabels(record.metric), value: asPoint(record.value) };
}

function parseSeries(value: unknown): PrometheusSeries {
  const record = asRecord(value, 'series');
  return { metric: asLabels(record.metric), values: asArray(record.values, 'values').map(asPoint) };
}

function parseTarget(value: unknown): PrometheusTarget {
  const record = asRecord(value, 'target');
  const labels = asLabels(record.labels);
  const health = record.health === 'up' || record.health === 'down' ? record.health : 'unknown';
  const lastScrapeMs = typeof record.lastScrape === 'string' ? Date.parse(record.lastScrape) : Number.NaN;
  return {
    instance: labels.instance ?? '',
    scrapeUrl: typeof record.scrapeUrl === 'string' ? record.scrapeUrl : '',
    health,
    lastError: typeof record.lastError === 'string' ? record.lastError : '',
    // Before the first scrape Prometheus reports the zero time, year 1.
    lastScrapeMs: Number.isFinite(lastScrapeMs) && lastScrapeMs > 0 ? lastScrapeMs : 0,
  };
}

async function findPrometheus(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'prometheus');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(PROMETHEUS_NOT_INSTALLED);
}

/** Binds 127.0.0.1:0, reads the port, frees it. */
async function freePort(): Promise<number> {
  const server = await new Promise<Server>((resolve, reject) => {
    const candidate = createServer();
    candidate.once('error', reject);
    candidate.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => resolve(candidate));
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address for a free port');
  return address.port;
}

function makeDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'phobos-prometheus-'));
}

/** A worker that ends without `stopAllPrometheus` must not leave processes or dirs behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const instance of live) instance.stopNow();
  });
}
