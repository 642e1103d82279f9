import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { trackHandles } from '../support/handles.js';
import { closedPort } from '../support/ports.js';
import {
  PROMETHEUS_NOT_INSTALLED,
  PrometheusQueryError,
  PrometheusScrapeTimeoutError,
  PrometheusStartError,
  startPrometheus,
  stopAllPrometheus,
} from '../support/prometheus.js';

afterAll(stopAllPrometheus);
const { defer } = trackHandles();

/** Upper buckets of `test_hist` and how many observations each scrape adds to each of them. */
const HISTOGRAM_STEP: readonly (readonly [le: string, count: number])[] = [
  ['0.1', 2],
  ['0.5', 6],
  ['1', 2],
];

/**
 * A `/metrics` endpoint written by hand in the text format: a constant counter, and a histogram to
 * which every scrape adds the same observations (2 at most 0.1, 6 in (0.1, 0.5], 2 in (0.5, 1]), so
 * its rate is steady and its median is 0.1 + 0.4 × (5 − 2) / 6 = 0.3.
 */
async function startMetricsServer(): Promise<{ target: string; scrapes(): number }> {
  let scrapes = 0;
  const server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    scrapes++;
    let cumulative = 0;
    const buckets = HISTOGRAM_STEP.map(([le, count]) => {
      cumulative += count * scrapes;
      return `test_hist_bucket{le="${le}"} ${cumulative}`;
    });
    const body = [
      '# HELP test_counter_total Calls handled.',
      '# TYPE test_counter_total counter',
      'test_counter_total{method="greet",code="ok"} 42',
      '# HELP test_hist Call latency in seconds.',
      '# TYPE test_hist histogram',
      ...buckets,
      `test_hist_bucket{le="+Inf"} ${cumulative}`,
      `test_hist_sum ${(3 * scrapes).toFixed(1)}`,
      `test_hist_count ${cumulative}`,
      '',
    ].join('\n');
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  defer(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('metrics server has no TCP address');
  return { target: `127.0.0.1:${address.port}`, scrapes: () => scrapes };
}

/** Whether a TCP connection to 127.0.0.1:`port` is refused. */
function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `check` every 50 ms until it returns true; rejects naming `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() >= deadline) throw new Error(`${what} not within ${timeoutMs} ms`);
    await delay(50);
  }
}

/**
 * Puts first on PATH a `prometheus` that logs `message` and the dir it was started in, counts its
 * runs in `<bin>/runs`, and exits with code 1; PATH comes back after the test.
 */
async function fakePrometheus(message: string): Promise<{ runs(): Promise<number> }> {
  const bin = await mkdtemp(join(tmpdir(), 'phobos-fake-prometheus-'));
  const script = `#!/bin/sh\necho run >> "${bin}/runs"\necho "level=error msg=\\"${message}\\" cwd=$(pwd)" >&2\nexit 1\n`;
  await writeFile(join(bin, 'prometheus'), script);
  await chmod(join(bin, 'prometheus'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${bin}${delimiter}${path ?? ''}`;
  defer(async () => {
    if (path === undefined) delete process.env.PATH;
    else process.env.PATH = path;
    await rm(bin, { recursive: true, force: true });
  });
  return { runs: async () => (await readFile(join(bin, 'runs'), 'utf8')).split('\n').filter(Boolean).length };
}

describe('startPrometheus', () => {
  it('startPrometheus - scrapes a counter and a histogram that PromQL then reads back', async () => {
    const metrics = await startMetricsServer();
    const prometheus = await startPrometheus({ targets: [metrics.target], jobName: 'launcher' });
    defer(() => prometheus.stop());
    expect(prometheus.url).toBe(`http://127.0.0.1:${prometheus.port}`);

    await prometheus.waitForScrape();
    expect(metrics.scrapes()).toBeGreaterThanOrEqual(1);
    const [target] = await prometheus.activeTargets();
    expect(target).toMatchObject({ instance: metrics.target, health: 'up', lastError: '' });
    expect(target?.scrapeUrl).toBe(`http://${metrics.target}/metrics`);

    const counter = await prometheus.query('test_counter_total');
    expect(counter).toHaveLength(1);
    expect(counter[0]?.metric).toEqual({
      __name__: 'test_counter_total',
      method: 'greet',
      code: 'ok',
      job: 'launcher',
      instance: metrics.target,
    });
    expect(counter[0]?.value[1]).toBe('42');

    // rate() needs two samples in its window.
    await prometheus.waitForNextScrape();
    const median = await prometheus.query(
      'histogram_quantile(0.5, sum by (le) (rate(test_hist_bucket[5s])))',
    );
    expect(median).toHaveLength(1);
    expect(median[0]?.metric).toEqual({});
    expect(Number(median[0]?.value[1])).toBeCloseTo(0.3, 9);

    const endMs = Date.now();
    const range = await prometheus.queryRange('test_counter_total', {
      startMs: endMs - 10_000,
      endMs,
      stepMs: 1_000,
    });
    expect(range).toHaveLength(1);
    expect(range[0]?.metric.method).toBe('greet');
    expect(range[0]?.values.length).toBeGreaterThanOrEqual(1);
    expect(range[0]?.values.every(([, value]) => value === '42')).toBe(true);
  });

  it('query - rejects a malformed PromQL with the parse error Prometheus gives', async () => {
    const metrics = await startMetricsServer();
    const prometheus = await startPrometheus({ targets: [metrics.target] });
    defer(() => prometheus.stop());

    const rejected = prometheus.query('sum(rate(test_counter_total[1m])');
    await expect(rejected).rejects.toBeInstanceOf(PrometheusQueryError);
    await expect(rejected).rejects.toThrow(/bad_data: .*parse error: unclosed left parenthesis/);
    await expect(rejected).rejects.toMatchObject({
      errorType: 'bad_data',
      promql: 'sum(rate(test_counter_total[1m])',
    });
    await expect(prometheus.query('1 + 1')).rejects.toThrow('a scalar, not a vector');
  });

  it('stop - ends the process, closes the port and deletes the temp dir', async () => {
    const metrics = await startMetricsServer();
    const prometheus = await startPrometheus({ targets: [metrics.target] });
    defer(() => prometheus.stop());
    const { pid, port, dir } = prometheus;
    expect(isAlive(pid)).toBe(true);
    expect(await refusesConnections(port)).toBe(false);
    expect(existsSync(dir)).toBe(true);

    await prometheus.stop();
    expect(isAlive(pid)).toBe(false);
    expect(await refusesConnections(port)).toBe(true);
    expect(existsSync(dir)).toBe(false);
    expect(prometheus.logs().some((line) => line.includes('Received SIGTERM'))).toBe(true);
    await prometheus.stop();
  });

  it('waitForScrape - rejects naming a target that refuses connections, with its last error', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    const prometheus = await startPrometheus({ targets: [dead] });
    defer(() => prometheus.stop());

    await until(`a failed scrape of ${dead}`, async () => {
      const [target] = await prometheus.activeTargets();
      return target?.health === 'down';
    });
    const waiting = prometheus.waitForScrape({ timeoutMs: 200 });
    await expect(waiting).rejects.toBeInstanceOf(PrometheusScrapeTimeoutError);
    await expect(waiting).rejects.toThrow(
      new RegExp(
        `within 200 ms: ${dead.replaceAll('.', '\\.')} \\(health down, last error: .*connection refused`,
      ),
    );
  });

  it('startPrometheus - rejects with the log tail when prometheus exits, and deletes its dir', async () => {
    const fake = await fakePrometheus('cannot start');
    const started = startPrometheus({ targets: ['127.0.0.1:9'] });
    await expect(started).rejects.toBeInstanceOf(PrometheusStartError);
    const error = await started.catch((reason: unknown) => reason);
    if (!(error instanceof PrometheusStartError)) throw new Error('expected a PrometheusStartError');
    expect(error.message).toMatch(
      /^prometheus exited with code 1 before it was ready\n--- prometheus stderr ---\n/,
    );
    const [line] = error.stderr;
    expect(line).toMatch(/^level=error msg="cannot start" cwd=.*phobos-prometheus-/);
    const dir = line?.slice(line.indexOf('cwd=') + 'cwd='.length) ?? '';
    expect(existsSync(dir)).toBe(false);
    expect(await fake.runs()).toBe(1);
  });

  it('startPrometheus - tries other ports when its port is taken, three times at most', async () => {
    const fake = await fakePrometheus('listen tcp 127.0.0.1:9090: bind: address already in use');
    await expect(startPrometheus({ targets: ['127.0.0.1:9'] })).rejects.toThrow('address already in use');
    expect(await fake.runs()).toBe(3);
  });

  it('startPrometheus - rejects bad options with a RangeError naming the option', async () => {
    await expect(startPrometheus({ targets: [] })).rejects.toThrow(RangeError);
    await expect(startPrometheus({ targets: ['http://127.0.0.1:9/metrics'] })).rejects.toThrow(
      'targets: "http://127.0.0.1:9/metrics" is not host:port',
    );
    await expect(startPrometheus({ targets: ['127.0.0.1:9'], scrapeIntervalMs: 0.5 })).rejects.toThrow(
      'scrapeIntervalMs must be a positive integer, got 0.5',
    );
    await expect(startPrometheus({ targets: ['127.0.0.1:9'], jobName: 'a"b' })).rejects.toThrow(
      'jobName must be letters, digits and _.:- only',
    );
  });

  it('startPrometheus - says how to install prometheus when it is not on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startPrometheus({ targets: ['127.0.0.1:9'] })).rejects.toThrow(PROMETHEUS_NOT_INSTALLED);
    } finally {
      process.env.PATH = path;
    }
  });
});
