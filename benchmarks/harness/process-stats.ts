import type { ProcessStats } from './system.js';

/**
 * This process's CPU time so far (user and system, every thread) and its peak resident set.
 *
 * @example
 * ```ts
 * const before = processStats();
 * await work();
 * const cpuMs = cpuMsBetween(before, processStats());
 * ```
 */
export function processStats(): ProcessStats {
  const cpu = process.cpuUsage();
  return {
    cpuUserMs: cpu.user / 1_000,
    cpuSystemMs: cpu.system / 1_000,
    // Linux reports ru_maxrss in kilobytes.
    maxRssKb: process.resourceUsage().maxRSS,
  };
}

/** The CPU time spent between two samples: `after - before`, user and system; peak RSS of `after`. */
export function statsBetween(before: ProcessStats, after: ProcessStats): ProcessStats {
  return {
    cpuUserMs: after.cpuUserMs - before.cpuUserMs,
    cpuSystemMs: after.cpuSystemMs - before.cpuSystemMs,
    maxRssKb: after.maxRssKb,
  };
}
