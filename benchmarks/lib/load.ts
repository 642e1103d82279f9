/** Latency and throughput of a closed-loop load. */
export interface LoadResult {
  readonly calls: number;
  readonly seconds: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
}

/**
 * Keeps `inFlight` calls running for `seconds` (each lane starts its next call when its last one
 * answers) and measures every call's latency. Runs `warmupSeconds` first, unmeasured.
 */
export async function closedLoop(
  call: () => Promise<unknown>,
  options: { inFlight: number; seconds: number; warmupSeconds: number },
): Promise<LoadResult> {
  const run = async (seconds: number, record: boolean): Promise<{ latencies: number[]; elapsed: number }> => {
    const latencies: number[] = [];
    const start = performance.now();
    const end = start + seconds * 1_000;
    const lane = async (): Promise<void> => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await call();
        if (record) latencies.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: options.inFlight }, lane));
    return { latencies, elapsed: (performance.now() - start) / 1_000 };
  };
  await run(options.warmupSeconds, false);
  const { latencies, elapsed } = await run(options.seconds, true);
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    calls: latencies.length,
    seconds: elapsed,
    callsPerSecond: latencies.length / elapsed,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    p999Ms: at(0.999),
  };
}

/** Formats a result as one line. */
export function formatResult(name: string, result: LoadResult): string {
  return `${name.padEnd(28)} ${Math.round(result.callsPerSecond).toString().padStart(8)} calls/s   p50 ${result.p50Ms.toFixed(2)} ms   p99 ${result.p99Ms.toFixed(2)} ms   p99.9 ${result.p999Ms.toFixed(2)} ms`;
}
