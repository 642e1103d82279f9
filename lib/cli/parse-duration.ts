import { MAX_TIMER_MS } from '../util/max-timer.js';

/**
 * The longest duration the command line takes: 2^31-1 ms (about 24.8 days), what a timer can
 * wait (the library's `MAX_TIMER_MS`).
 *
 * @example
 * ```ts
 * parseDuration('--timeout', String(MAX_DURATION_MS)); // 2147483647
 * ```
 */
export const MAX_DURATION_MS = MAX_TIMER_MS;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration as the command line writes it: a number and a unit (`500ms`, `10s`, `1.5m`,
 * `1h`), or a bare number of milliseconds (`250`). The result is a whole number of milliseconds,
 * at most 2^31-1 (what a timer can wait).
 *
 * @throws RangeError naming `name` when the text is not such a duration (`abc`, `-1s`, `10x`,
 *   `0.5ms`, or more than 2^31-1 ms).
 * @example
 * ```ts
 * parseDuration('--duration', '10s'); // 10000
 * parseDuration('--timeout', '250');  // 250
 * parseDuration('--duration', 'abc'); // throws RangeError: --duration must be a duration like 500ms, 10s or 1m, got "abc"
 * ```
 */
export function parseDuration(name: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  const amount = match?.[1];
  if (match === null || amount === undefined) {
    throw new RangeError(`${name} must be a duration like 500ms, 10s or 1m, got ${JSON.stringify(text)}`);
  }
  const ms = Number(amount) * (UNIT_MS[match[2] ?? 'ms'] ?? 1);
  if (!Number.isInteger(ms)) {
    throw new RangeError(`${name} must be a whole number of milliseconds, got ${JSON.stringify(text)}`);
  }
  if (ms > MAX_DURATION_MS) {
    throw new RangeError(
      `${name} must be at most ${MAX_DURATION_MS} ms (about 24.8 days), got ${JSON.stringify(text)}`,
    );
  }
  return ms;
}

/**
 * Writes a duration in milliseconds the way people read it: `850 ms`, `2.5 s`, `1.5 min`.
 *
 * @example
 * ```ts
 * formatDuration(2_500); // '2.5 s'
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${round(ms)} ms`;
  if (ms < 60_000) return `${round(ms / 1_000)} s`;
  return `${round(ms / 60_000)} min`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
