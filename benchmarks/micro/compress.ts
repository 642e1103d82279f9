// What gzip costs the event loop, no sockets: node:zlib at level 1 (phobos's default) and level 6
// (zlib's default, for comparison) on the big256k payload's text cut or repeated to 1, 4, 16, 64,
// 256 and 1024 KiB. Per operation, gzip and gunzip: the event-loop time of the sync call (all of
// it), and for the callback form (`zlib.gzip`, `zlib.gunzip`, the work on libuv's thread pool)
// the event-loop time it still takes and its latency, with Node's default 16 KiB output chunks
// and with one chunk larger than the output. Then the size from which a sync gzip at level 1
// holds the event loop for more than 100 us: about where moving it off the loop starts to pay.
//   npx tsx benchmarks/micro/compress.ts [--time-ms 1000]
// --time-ms is the measuring time of each size at each level (~25 s in all at 1000), shared by
// its six measurements. Writes benchmarks/results/micro-compress.json.
import { mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { gunzip, gunzipSync, gzip, gzipSync, type ZlibOptions } from 'node:zlib';
import { big256kPayload } from '../workloads/index.js';
import { timeMsOption } from './report.js';

const timeMs = timeMsOption();

const KIB = 1024;
const SIZES_KIB = [1, 4, 16, 64, 256, 1024] as const;
const LEVELS = [1, 6] as const;
type Level = (typeof LEVELS)[number];
/** The event-loop time a sync gzip may take before it is worth moving off the loop. */
const BUDGET_US = 100;
/** Each measurement takes at least this many samples, however long one operation takes. */
const MIN_SAMPLES = 10;
/** Runs before each measurement, at least: the first ones also compile the code they run. */
const WARMUP_RUNS = 3;
/** One event-loop sample of the callback form lasts about this long (see {@link asyncCost}). */
const BATCH_NS = 2_000_000;

/** The callback form of one operation, per operation in ns (medians). */
interface AsyncCost {
  /** Event-loop time from the call to the end of the callback. */
  readonly loopNs: number;
  /** The main thread's CPU time in it, or null where Linux's per-thread counters are missing. */
  readonly loopCpuNs: number | null;
  /** Time from the call to the callback, one operation at a time. */
  readonly latencyNs: number;
}

/** gzip or gunzip of one size at one level, per operation in ns (medians). */
interface OperationCost {
  /** Event-loop time of the sync call: all of it. */
  readonly syncNs: number;
  /** The callback form with Node's default output chunks (16 KiB). */
  readonly async: AsyncCost;
  /**
   * The callback form with `chunkSize` a byte more than the output: one round trip to the pool (a
   * chunk filled to its last byte makes Node go back to the pool, with a new chunk, to find the end).
   */
  readonly asyncOneChunk: AsyncCost;
}

/** One size at one level. */
interface CompressResult {
  readonly name: string;
  readonly bytes: number;
  readonly level: Level;
  readonly gzipBytes: number;
  readonly gzip: OperationCost;
  readonly gunzip: OperationCost;
}

/**
 * `bytes` of the big256k text: its beginning, or the whole repeated. A repeat does not make the
 * text easier to compress: gzip looks back 32 KiB at most, and the text repeats every 256 KiB.
 */
function payloadOf(bytes: number): Buffer {
  const text = Buffer.from(big256kPayload.buffer, big256kPayload.byteOffset, big256kPayload.length);
  if (bytes <= text.length) return text.subarray(0, bytes);
  const payload = Buffer.alloc(bytes);
  for (let offset = 0; offset < bytes; offset += text.length) text.copy(payload, offset);
  return payload;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * The CPU time this thread (the main one: the file is opened and read from it) has run, in ns,
 * from Linux's `/proc/thread-self/schedstat`; undefined where it is missing.
 */
const mainThreadCpuNs: () => number | undefined = (() => {
  let fd: number;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return () => undefined;
  }
  const buffer = Buffer.alloc(64);
  return () => Number(buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0)).split(' ')[0]);
})();

// Every result feeds this, so no work can be optimised away.
let sink = 0;

/** Median time of one sync call, in ns: the call holds the event loop throughout. */
function syncCost(operation: () => Buffer, budgetMs: number): number {
  const warm = performance.now() + budgetMs / 4;
  for (let i = 0; i < WARMUP_RUNS || performance.now() < warm; i++) sink += operation().length;
  const times: number[] = [];
  const end = performance.now() + budgetMs;
  while (times.length < MIN_SAMPLES || performance.now() < end) {
    const start = process.hrtime.bigint();
    sink += operation().length;
    times.push(Number(process.hrtime.bigint() - start));
  }
  return median(times);
}

type Callback = (error: Error | null, result: Buffer) => void;

/**
 * The event-loop time and the latency of one callback-form zlib operation.
 *
 * Latency: each operation starts when the previous one's callback has run, and is timed from
 * the call to its callback.
 *
 * Event-loop time: the main thread's work is not only the call and the callback. Node cuts the
 * output into chunks, each a round trip to the thread pool whose result is handled on the loop
 * before the next one starts, and the last one also joins the chunks and closes the zlib handle.
 * Timing the call and the callback body would miss all that, and `process.cpuUsage` counts the
 * pool's threads too. `performance.eventLoopUtilization()` counts the loop's time outside its
 * poll for I/O, whatever runs in it, so a sample is a batch of operations one after another
 * (about {@link BATCH_NS} long), on a loop doing nothing else, timed with it and divided by the
 * batch. The pool's work is not in it: while a pool thread compresses, the loop waits in its
 * poll, free to serve other calls. That is wall time: on a busy machine it also counts the
 * loop's thread waiting for a core, so the main thread's own CPU time over the same batch is
 * kept too (Linux counts it per thread).
 */
async function asyncCost(operation: (callback: Callback) => void, budgetMs: number): Promise<AsyncCost> {
  const once = (latencies: number[]): Promise<void> =>
    new Promise((resolve, reject) => {
      const start = performance.now();
      operation((error, result) => {
        if (error !== null) {
          reject(error);
          return;
        }
        latencies.push((performance.now() - start) * 1e6);
        sink += result.length;
        resolve();
      });
    });
  const warmLatencies: number[] = [];
  const warm = performance.now() + budgetMs / 4;
  while (warmLatencies.length < WARMUP_RUNS || performance.now() < warm) await once(warmLatencies);
  const batch = Math.max(1, Math.ceil(BATCH_NS / median(warmLatencies)));
  const latencies: number[] = [];
  const loop: number[] = [];
  const loopCpu: number[] = [];
  const end = performance.now() + budgetMs;
  while (loop.length < 5 || latencies.length < MIN_SAMPLES || performance.now() < end) {
    const before = performance.eventLoopUtilization();
    const cpuBefore = mainThreadCpuNs();
    for (let i = 0; i < batch; i++) await once(latencies);
    const cpuAfter = mainThreadCpuNs();
    loop.push((performance.eventLoopUtilization(before).active * 1e6) / batch);
    if (cpuBefore !== undefined && cpuAfter !== undefined) loopCpu.push((cpuAfter - cpuBefore) / batch);
  }
  return {
    loopNs: Math.round(median(loop)),
    loopCpuNs: loopCpu.length === 0 ? null : Math.round(median(loopCpu)),
    latencyNs: Math.round(median(latencies)),
  };
}

/** Sync, async and async in one chunk of `run` on `input`, whose output has `outputBytes`. */
async function operationCost(
  run: {
    sync: (input: Buffer) => Buffer;
    async: (input: Buffer, options: ZlibOptions, callback: Callback) => void;
  },
  input: Buffer,
  outputBytes: number,
  budgetMs: number,
): Promise<OperationCost> {
  return {
    syncNs: Math.round(syncCost(() => run.sync(input), budgetMs)),
    async: await asyncCost((callback) => run.async(input, {}, callback), budgetMs),
    asyncOneChunk: await asyncCost(
      (callback) => run.async(input, { chunkSize: Math.max(64, outputBytes + 1) }, callback),
      budgetMs,
    ),
  };
}

const budgetMs = timeMs / 6;
// The loop's utilization counts from its start: let it start. Then warm up the zlib and stream
// code every measurement runs, so that the first one is not also timing their compilation.
await new Promise((resolve) => setImmediate(resolve));
{
  const plain = payloadOf(16 * KIB);
  const zipped = gzipSync(plain);
  await asyncCost((callback) => gzip(plain, callback), 200);
  await asyncCost((callback) => gunzip(zipped, callback), 200);
}

const results: CompressResult[] = [];
for (const level of LEVELS) {
  for (const sizeKib of SIZES_KIB) {
    const bytes = sizeKib * KIB;
    const plain = payloadOf(bytes);
    const zipped = gzipSync(plain, { level });
    if (!gunzipSync(zipped).equals(plain)) throw new Error(`${sizeKib} KiB: gzip did not round-trip`);
    const gzipCost = await operationCost(
      {
        sync: (input) => gzipSync(input, { level }),
        async: (input, options, callback) => gzip(input, { ...options, level }, callback),
      },
      plain,
      zipped.length,
      budgetMs,
    );
    const gunzipCost = await operationCost(
      {
        sync: (input) => gunzipSync(input),
        async: (input, options, callback) => gunzip(input, options, callback),
      },
      zipped,
      bytes,
      budgetMs,
    );
    results.push({
      name: `${sizeKib} KiB level ${level}`,
      bytes,
      level,
      gzipBytes: zipped.length,
      gzip: gzipCost,
      gunzip: gunzipCost,
    });
  }
}
if (sink === 0) throw new Error('nothing was compressed');

/**
 * Where sync gzip at level 1 first takes more than {@link BUDGET_US}: the first size measured
 * above it, and where the line through it and the size before crosses the budget.
 */
function syncBudgetCrossing(): { firstSizeOverBytes: number | null; interpolatedBytes: number | null } {
  const level1 = results.filter((result) => result.level === 1);
  const index = level1.findIndex((result) => result.gzip.syncNs > BUDGET_US * 1_000);
  const over = level1[index];
  if (over === undefined) return { firstSizeOverBytes: null, interpolatedBytes: null };
  const under = level1[index - 1];
  if (under === undefined) return { firstSizeOverBytes: over.bytes, interpolatedBytes: null };
  const share = (BUDGET_US * 1_000 - under.gzip.syncNs) / (over.gzip.syncNs - under.gzip.syncNs);
  return {
    firstSizeOverBytes: over.bytes,
    interpolatedBytes: Math.round(under.bytes + share * (over.bytes - under.bytes)),
  };
}
const crossing = syncBudgetCrossing();

const us = (ns: number | null): string => (ns === null ? '-' : (ns / 1_000).toFixed(1));
const kib = (bytes: number): string => `${(bytes / KIB).toFixed(bytes < 10 * KIB ? 1 : 0)} KiB`;
function table(operation: 'gzip' | 'gunzip'): string[] {
  return [
    `| size | level | gzip size | ${operation}Sync | async: loop | (loop CPU) | latency | one chunk: loop | (loop CPU) | latency |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map((result) => {
      const cost = result[operation];
      return `| ${[
        kib(result.bytes),
        String(result.level),
        `${((100 * result.gzipBytes) / result.bytes).toFixed(0)} %`,
        us(cost.syncNs),
        us(cost.async.loopNs),
        us(cost.async.loopCpuNs),
        us(cost.async.latencyNs),
        us(cost.asyncOneChunk.loopNs),
        us(cost.asyncOneChunk.loopCpuNs),
        us(cost.asyncOneChunk.latencyNs),
      ].join(' | ')} |`;
    }),
  ];
}
const crossingLine =
  crossing.firstSizeOverBytes === null
    ? `Sync gzip at level 1 stays under ${BUDGET_US} us of event loop at every size measured.`
    : `Sync gzip at level 1 costs more than ${BUDGET_US} us of event loop from ${kib(crossing.firstSizeOverBytes)}` +
      (crossing.interpolatedBytes === null
        ? ' (the smallest size measured).'
        : ` (interpolated: about ${kib(crossing.interpolatedBytes)}).`);
console.log(
  [
    `gzip micro-benchmark, node ${process.version}, ${timeMs} ms per size and level; medians in us per operation.`,
    'async: the callback form, 16 KiB output chunks (the default); one chunk: chunkSize = output size + 1.',
    'loop: event-loop time per operation (eventLoopUtilization); loop CPU: the main thread CPU in it.',
    '',
    '### gzip',
    '',
    ...table('gzip'),
    '',
    '### gunzip',
    '',
    ...table('gunzip'),
    '',
    crossingLine,
  ].join('\n'),
);

const resultsDirectory = new URL('../results/', import.meta.url);
mkdirSync(resultsDirectory, { recursive: true });
const output = new URL('micro-compress.json', resultsDirectory);
writeFileSync(
  output,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      results,
      syncGzipLevel1Over100Us: { ...crossing, summary: crossingLine },
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${output.pathname}`);
