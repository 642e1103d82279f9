import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { phobos } from '../lib/phobos.js';
import { type Echo64Payload, echo64Payload } from '../workloads/index.js';
import { machineInfo } from './bench-report.js';
import { formatGenerated } from './format-generated.js';
import type { ResultPaths } from './harness-options.js';
import { SOAK_HEADING, soakSectionOf } from './render-results.js';
import type { ProcessStats } from './system.js';
import { type SystemServer, startSystemServer } from './system-server.js';

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** The command that started it, for the report. */
  readonly command: string;
  /** Calls in all. Default 1,000,000. */
  readonly calls: number | undefined;
  /** Where the samples (`json`) and the report with its Soak section (`report`) are written. */
  readonly paths: Pick<ResultPaths, 'json' | 'report'>;
  /** The report whose other sections are kept: the tracked RESULTS.md. */
  readonly previous: URL;
}

/** One sample of the client process during the soak. */
interface Sample {
  readonly calls: number;
  readonly seconds: number;
  readonly rssKb: number;
  readonly heapUsedKb: number;
  /**
   * Heap used right after a forced full GC (what is really kept alive), at every
   * {@link LIVE_HEAP_EVERY}th sample; undefined at the others, where GC runs on its own.
   */
  readonly liveHeapKb: number | undefined;
  readonly handles: number;
  /** The active resources by type (process.getActiveResourcesInfo()). */
  readonly resources: Readonly<Record<string, number>>;
}

const SERVERS = 3;
const CONCURRENCY = 100;
const WARMUP_CALLS = 100_000;
/**
 * Calls in a soak unless told otherwise: four million, about 45 s here. One million took 11-15 s
 * once the XClient got faster, too short for RSS to settle after the warm-up (slopes of 495 and
 * 1,850 KB per 100k calls with a flat live heap; 25 KB over four million).
 */
const DEFAULT_SOAK_CALLS = 4_000_000;
const SAMPLE_EVERY_MS = 1_000;
/** Force a full GC to measure the live heap only every this many samples: it slows the calls. */
const LIVE_HEAP_EVERY = 5;
/** RSS counts as flat when the fitted line rises less than this per 100k calls (5 B a call). */
const FLAT_KB_PER_100K = 512;

/** Heap used right after a full garbage collection (V8's gc, exposed at run time), in KB. */
function liveHeapNowKb(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed / 1024;
}

function describeResources(resources: Readonly<Record<string, number>>): string {
  return Object.entries(resources)
    .map(([name, n]) => `${n} ${name}`)
    .join(', ');
}

/**
 * Least-squares slope of y against x, or NaN with fewer than two distinct x.
 *
 * @example
 * ```ts
 * slope([0, 1, 2], [1, 3, 5]); // 2
 * ```
 */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    sxy += dx * ((ys[i] as number) - my);
    sxx += dx * dx;
  }
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

/**
 * The soak: three phobos echo64 servers in child processes, an XClient with failover over
 * `multipleServersDiscovery` in this process, four million calls at 100 in flight. After a warm-up
 * of 100k calls it samples RSS and the active handle count about once a second, fits RSS against
 * calls (KB per 100k calls) and checks the handle count did not grow. Writes
 * the samples to `paths.json` and, at `paths.report`, the tracked RESULTS.md with its Soak section
 * (the last) replaced.
 *
 * @returns the exit code: 0 when RSS is flat, handles did not grow and no call failed; else 1.
 */
export async function runSoak(options: SoakOptions): Promise<number> {
  const total = options.calls ?? DEFAULT_SOAK_CALLS;
  const warmup = Math.min(WARMUP_CALLS, Math.floor(total / 10));
  const servers: SystemServer[] = [];
  try {
    for (let i = 0; i < SERVERS; i++) servers.push(await startSystemServer('phobos', 'echo64'));
    const discovery = phobos.multipleServersDiscovery(servers.map((server) => ({ address: server.address })));
    const client = new phobos.XClient('Echo', {
      discovery,
      failMode: 'failover',
      serializeType: phobos.SerializeType.MsgPack,
    });
    console.log(
      `soak: ${total.toLocaleString('en-US')} calls at ${CONCURRENCY} in flight through an XClient (failover) over ${SERVERS} phobos servers; sampling after ${warmup.toLocaleString('en-US')}`,
    );
    const samples: Sample[] = [];
    let started = 0;
    let done = 0;
    let errors = 0;
    let firstError: unknown;
    const start = performance.now();
    let serverStatsAtWarmup: ProcessStats[] = [];
    const sample = (): void => {
      const memory = process.memoryUsage();
      const liveHeapKb = samples.length % LIVE_HEAP_EVERY === 0 ? liveHeapNowKb() : undefined;
      const active = process.getActiveResourcesInfo();
      const resources: Record<string, number> = {};
      for (const name of active) resources[name] = (resources[name] ?? 0) + 1;
      samples.push({
        calls: done,
        seconds: (performance.now() - start) / 1_000,
        rssKb: memory.rss / 1024,
        heapUsedKb: memory.heapUsed / 1024,
        liveHeapKb,
        handles: active.length,
        resources,
      });
    };
    let timer: NodeJS.Timeout | undefined;
    const lane = async (): Promise<void> => {
      while (started < total) {
        started++;
        try {
          const reply = await client.call<Echo64Payload>('Echo', echo64Payload);
          if (reply.s !== echo64Payload.s) throw new Error('echo64: wrong reply');
        } catch (error) {
          if (errors++ === 0) firstError = error;
        }
        done++;
        if (done === warmup) {
          timer = setInterval(sample, SAMPLE_EVERY_MS);
          void Promise.all(servers.map((server) => server.stats())).then((stats) => {
            serverStatsAtWarmup = stats;
          });
        }
        if (done % 100_000 === 0) console.log(`  ${done.toLocaleString('en-US')} calls`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
    clearInterval(timer);
    if (samples.length < 3) throw new Error(`soak: only ${samples.length} samples; give it more --calls`);
    const seconds = (performance.now() - start) / 1_000;
    const serverStats = await Promise.all(servers.map((server) => server.stats()));
    await client.close();
    discovery.close();

    const kbPer100k =
      slope(
        samples.map((s) => s.calls),
        samples.map((s) => s.rssKb),
      ) * 100_000;
    // One more live-heap point once the calls are done, before anything is closed.
    const live = [
      ...samples.flatMap((s) => (s.liveHeapKb === undefined ? [] : [{ calls: s.calls, kb: s.liveHeapKb }])),
      { calls: done, kb: liveHeapNowKb() },
    ];
    const liveHeapKbPer100k =
      slope(
        live.map((p) => p.calls),
        live.map((p) => p.kb),
      ) * 100_000;
    const first = samples[0] as Sample;
    const last = samples[samples.length - 1] as Sample;
    const maxHandles = Math.max(...samples.map((s) => s.handles));
    // Requests in flight at a sample (a pending write) come and go; a leak stays. So the count
    // grew when even the lowest of the last third is above the highest of the first third.
    const third = Math.max(1, Math.floor(samples.length / 3));
    const handlesGrew =
      Math.min(...samples.slice(-third).map((s) => s.handles)) >
      Math.max(...samples.slice(0, third).map((s) => s.handles));
    const flat = kbPer100k < FLAT_KB_PER_100K;
    const date = new Date();
    const result = {
      command: options.command,
      date: date.toISOString(),
      machine: machineInfo(),
      calls: total,
      concurrency: CONCURRENCY,
      servers: SERVERS,
      warmupCalls: warmup,
      seconds,
      callsPerSecond: total / seconds,
      errors,
      firstError: firstError === undefined ? undefined : String(firstError),
      rssKbPer100kCalls: kbPer100k,
      liveHeapKbPer100kCalls: liveHeapKbPer100k,
      rssFlat: flat,
      handles: { first: first.handles, last: last.handles, max: maxHandles, grew: handlesGrew },
      serverMaxRssKb: serverStats.map((s) => s.maxRssKb),
      serverCpuSeconds: serverStats.map(
        (s, i) =>
          (s.cpuUserMs +
            s.cpuSystemMs -
            (serverStatsAtWarmup[i]?.cpuUserMs ?? 0) -
            (serverStatsAtWarmup[i]?.cpuSystemMs ?? 0)) /
          1_000,
      ),
      samples,
    };
    const jsonFile = options.paths.json;
    writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
    const mb = (kb: number): string => (kb / 1024).toFixed(1);
    const section = [
      SOAK_HEADING,
      '',
      `Generated by \`${options.command}\` on ${result.date} (${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}).`,
      '',
      `${total.toLocaleString('en-US')} echo64 calls at ${CONCURRENCY} in flight through one XClient (failMode failover, multipleServersDiscovery) over ${SERVERS} phobos servers in child processes: ${seconds.toFixed(1)} s, ${Math.round(result.callsPerSecond).toLocaleString('en-US')} calls/s, ${errors} errors. The client process was sampled ${samples.length} times (about once a second) after a warm-up of ${warmup.toLocaleString('en-US')} calls.`,
      '',
      `- RSS: ${mb(first.rssKb)} MB after warm-up, ${mb(last.rssKb)} MB at the end (peak ${mb(Math.max(...samples.map((s) => s.rssKb)))} MB); least-squares slope **${kbPer100k.toFixed(0)} KB per 100k calls** — ${flat ? `flat (under ${FLAT_KB_PER_100K} KB per 100k calls, about 5 bytes a call)` : `**growing** (${FLAT_KB_PER_100K} KB per 100k calls or more)`}`,
      `- Live heap (heap used right after a forced full GC, at every ${LIVE_HEAP_EVERY}th sample and at the end): ${mb(live[0]?.kb ?? Number.NaN)} MB after warm-up, ${mb(live[live.length - 1]?.kb ?? Number.NaN)} MB at the end; slope ${liveHeapKbPer100k.toFixed(0)} KB per 100k calls over ${live.length} points`,
      `- Active handles (process.getActiveResourcesInfo()): ${first.handles} after warm-up, ${last.handles} at the last sample, at most ${maxHandles} — ${handlesGrew ? '**grew**' : 'did not grow'} (grown means the lowest count of the last third of samples is above the highest of the first third); at the last sample: ${describeResources(last.resources)}`,
      `- Servers: peak RSS ${result.serverMaxRssKb.map((kb) => `${mb(kb)} MB`).join(', ')}`,
      '',
      `Samples are in \`results/${basename(fileURLToPath(jsonFile))}\`.`,
      '',
    ].join('\n');
    let markdown = '';
    try {
      markdown = readFileSync(options.previous, 'utf8');
    } catch {
      markdown = '# Benchmark results\n\n';
    }
    const old = soakSectionOf(markdown);
    const kept =
      old === undefined ? markdown.trimEnd() : markdown.slice(0, markdown.length - old.length).trimEnd();
    writeFileSync(options.paths.report, `${kept}\n\n${section}`);
    formatGenerated([jsonFile, options.paths.report]);
    console.log(section);
    if (firstError !== undefined) console.error('first failed call:', firstError);
    return flat && !handlesGrew && errors === 0 ? 0 : 1;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}
