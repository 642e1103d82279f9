// The shared part of the no-read attacks: connections that write as fast as the server reads
// and never read what it sends back, so its replies can only pile up. Since nothing is read, the
// server's writes stall once the kernel buffers between the two are full; it then stops reading,
// so the attacker's own writes stall soon after. Each connection is given frameTimeoutMs (+ 1 s
// + 20%) from its last write the kernel took (the attacker's view of the server's stall) to be
// closed by the server. A writer that is blocked still sees the close: the server's kernel
// resets a connection closed with unread input, and the pending write fails.
import {
  type Attacker,
  connectMany,
  deadlineSignal,
  flood,
  longestUntilClose,
  withSlack,
} from './attackers.js';
import { type Check, check, info, mib, seconds } from './verdict.js';

/** What {@link floodWithoutReading} saw. */
export interface NoReadResult {
  readonly attackers: readonly Attacker[];
  /** Bytes each attacker got the kernel to take. */
  readonly written: readonly number[];
  /** Attackers the server had not closed by their deadline. */
  readonly open: readonly Attacker[];
}

/**
 * Opens `count` non-reading connections and floods each with `frame()` until the server closes
 * it or its deadline passes (first byte + frameTimeoutMs with slack), or `stop` aborts. Returns
 * with every attacker destroyed.
 */
export async function floodWithoutReading(
  address: string,
  count: number,
  frame: () => Uint8Array,
  frameTimeoutMs: number,
  stop: AbortSignal,
): Promise<NoReadResult> {
  const { attackers } = await connectMany(address, count, { read: false, signal: stop });
  const limitMs = withSlack(frameTimeoutMs);
  const written = await Promise.all(
    attackers.map(async (attacker) => {
      const stalled = stallSignal(attacker, limitMs, stop);
      try {
        const bytes = await flood(attacker, frame, stalled.signal);
        // A socket the server reset is destroyed a tick before its 'close': wait for it, so
        // that its close time is recorded before the verdict is drawn.
        if (attacker.socket.destroyed) await attacker.closed;
        return bytes;
      } finally {
        stalled.clear();
      }
    }),
  );
  const open = attackers.filter((attacker) => attacker.closedAt === undefined);
  for (const attacker of attackers) attacker.socket.destroy();
  await Promise.all(attackers.map((attacker) => attacker.closed));
  return { attackers, written, open };
}

/** When the attacker's writes last went (or it started writing): the server stopped reading after. */
function lastProgress(attacker: Attacker): number {
  return attacker.lastByteAt ?? attacker.firstByteAt ?? attacker.connectedAt;
}

/**
 * A signal that aborts once the attacker's writes have been stalled for `ms` (the server had
 * that long to close it), when `stop` aborts, or after a cap of ten times `ms` in all.
 */
function stallSignal(
  attacker: Attacker,
  ms: number,
  stop: AbortSignal,
): { signal: AbortSignal; clear(): void } {
  const cap = deadlineSignal(10 * ms, stop);
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  cap.signal.addEventListener('abort', abort, { once: true });
  const timer = setInterval(() => {
    if (performance.now() - lastProgress(attacker) > ms) abort();
  }, 50);
  return {
    signal: controller.signal,
    clear() {
      clearInterval(timer);
      cap.clear();
    },
  };
}

/** The verdict figures of a no-read attack: what was written, and whether all were closed in time. */
export function noReadChecks(
  what: string,
  result: NoReadResult,
  frameTimeoutMs: number,
  stop: AbortSignal,
): Check[] {
  const limitMs = withSlack(frameTimeoutMs);
  const { attackers, written, open } = result;
  const total = written.reduce((sum, bytes) => sum + bytes, 0);
  const longest = longestUntilClose(attackers, lastProgress);
  return [
    info(
      `${attackers.length} conns ${what} and never read (${mib(total)} written in all, at most ${mib(Math.max(0, ...written))} on one)`,
    ),
    check(
      open.length === 0 && attackers.length > 0,
      open.length === 0
        ? `all closed by the server <= ${seconds(longest)} after their writes stalled (frameTimeoutMs ${frameTimeoutMs}, limit ${seconds(limitMs)})`
        : `${open.length} of ${attackers.length} still open ${stop.aborted ? 'when the attack was cut short' : `${seconds(limitMs)} after their writes stalled`} (frameTimeoutMs ${frameTimeoutMs})`,
    ),
  ];
}
