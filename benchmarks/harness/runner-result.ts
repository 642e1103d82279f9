/** What the client runner prints: the measured window of one run, as one JSON line. */
export interface RunnerResult {
  /** Calls that succeeded in the window. */
  readonly calls: number;
  /** The window's length in seconds. */
  readonly seconds: number;
  /** `calls / seconds`. */
  readonly callsPerSecond: number;
  /** Latency percentiles in ms, from when each call was meant to start. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Calls that failed (warm-up and window). */
  readonly errors: number;
  /** The client process's CPU time in the window. */
  readonly cpuUserMs: number;
  readonly cpuSystemMs: number;
  /** The client process's peak RSS so far (warm-up included). */
  readonly maxRssKb: number;
}
