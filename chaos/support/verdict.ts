// One verdict line per scenario: PASS when every check holds, with the figures either way, e.g.
// `PASS slowloris: 300 conns sent half a header; all closed ≤ 2.1 s after their first byte...`.
// A check that does not hold is marked `[FAIL]` inside the line.

/** One figure of a verdict, and whether it is within its limit. */
export interface Check {
  readonly ok: boolean;
  readonly text: string;
}

/** A scenario's outcome. */
export interface Verdict {
  readonly name: string;
  readonly ok: boolean;
  readonly line: string;
}

/** A figure that must hold. */
export function check(ok: boolean, text: string): Check {
  return { ok, text };
}

/** A figure reported for information only. */
export function info(text: string): Check {
  return { ok: true, text };
}

/** Joins checks into the verdict line. */
export function verdict(name: string, checks: readonly Check[]): Verdict {
  const ok = checks.every((c) => c.ok);
  const figures = checks.map((c) => (c.ok ? c.text : `${c.text} [FAIL]`)).join('; ');
  return { name, ok, line: `${ok ? 'PASS' : 'FAIL'} ${name}: ${figures}` };
}

/** A scenario that could not run to its end (it threw): a FAIL that says why. */
export function broken(name: string, error: unknown, checks: readonly Check[] = []): Verdict {
  const why = error instanceof Error ? error.message : String(error);
  return verdict(name, [...checks, check(false, `scenario broke: ${why}`)]);
}

const MiB = 1024 * 1024;

/** `12.3 MiB` (`128 MiB` when whole). */
export function mib(bytes: number): string {
  const value = bytes / MiB;
  return `${Number.isInteger(value) ? value : value.toFixed(1)} MiB`;
}

/** `2.1 s`. */
export function seconds(ms: number): string {
  return `${(ms / 1_000).toFixed(1)} s`;
}

/** `85 ms` below a second, else `2.1 s`. */
export function duration(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : seconds(ms);
}

/** A message cut to `max` characters, for quoting inside a verdict line. */
export function quote(message: string, max = 120): string {
  const line = message.replace(/\s+/g, ' ');
  return `"${line.length > max ? `${line.slice(0, max)}...` : line}"`;
}
