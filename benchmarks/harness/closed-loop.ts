/** Options of {@link closedLoop}. */
export interface ClosedLoopOptions {
  /** Calls in flight: one lane each, every lane starting its next call when its last one ends. */
  readonly concurrency: number;
  /** How long to keep starting calls, in seconds. */
  readonly seconds: number;
  /** Record every call's latency (false for a warm-up). */
  readonly record: boolean;
  /** Stop every lane once this many calls have failed. Default 100. */
  readonly maxErrors?: number;
}

/** What a {@link closedLoop} did. */
export interface ClosedLoopResult {
  /** Calls that succeeded. */
  readonly calls: number;
  /** Calls that failed. */
  readonly errors: number;
  /** The first failure, if any. */
  readonly firstError: unknown;
  /** Wall time from the first call's start to the last lane's end, in seconds. */
  readonly seconds: number;
  /** Latencies of the calls that succeeded in ms, sorted ascending (empty unless `record`). */
  readonly latenciesMs: Float64Array;
}

/**
 * Keeps `concurrency` calls in flight for `seconds`. A call's latency is measured from when it was
 * meant to start: in a closed loop that is when its lane's previous call ended (or when the lane
 * started), so time the lane spends waiting for the event loop to run it counts against the
 * system, as it would against a caller.
 *
 * A failing call is counted, not thrown; lanes stop once `maxErrors` calls have failed.
 *
 * @example
 * ```ts
 * const result = await closedLoop(() => client.call(), { concurrency: 100, seconds: 2, record: true });
 * console.log(result.calls / result.seconds, percentile(result.latenciesMs, 0.99));
 * ```
 */
export async function closedLoop(
  call: () => Promise<void>,
  options: ClosedLoopOptions,
): Promise<ClosedLoopResult> {
  const maxErrors = options.maxErrors ?? 100;
  const latencies: number[] = [];
  let calls = 0;
  let errors = 0;
  let firstError: unknown;
  const start = performance.now();
  const end = start + options.seconds * 1_000;
  const lane = async (): Promise<void> => {
    let intended = performance.now();
    while (intended < end && errors < maxErrors) {
      try {
        await call();
        const done = performance.now();
        calls++;
        if (options.record) latencies.push(done - intended);
        intended = done;
      } catch (error) {
        if (errors++ === 0) firstError = error;
        intended = performance.now();
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
  const seconds = (performance.now() - start) / 1_000;
  const latenciesMs = Float64Array.from(latencies).sort();
  return { calls, errors, firstError, seconds, latenciesMs };
}

/**
 * The `q` quantile (0..1) of sorted values by the nearest-rank rule, or NaN when there are none.
 *
 * @example
 * ```ts
 * percentile(Float64Array.of(1, 2, 3, 4), 0.5); // 2
 * ```
 */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
