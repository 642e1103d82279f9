import type { SchedulerLike } from 'rxjs';
import type { Logger } from '../util/logger.js';

/**
 * How many warnings caused by peers get through; see {@link rateLimitedLogger}.
 *
 * @group Server
 */
export interface WarningLimit {
  /** Warnings let through per peer host in each window. */
  readonly perPeer: number;
  /** Warnings let through in each window from all peers together. */
  readonly total: number;
  /** Length of a window in ms. */
  readonly windowMs: number;
}

/**
 * The server's limit on warnings caused by peers: 5 per peer host and 100 in all per minute.
 * Warnings past it are counted, and the count is told with the next one that gets through.
 * @group Server
 */
export const DEFAULT_WARNING_LIMIT: WarningLimit = Object.freeze({
  perPeer: 5,
  total: 100,
  windowMs: 60_000,
});

/** Peers remembered at most; past it, those whose window ended are forgotten. */
const MAX_TRACKED_PEERS = 10_000;

interface Window {
  start: number;
  count: number;
  suppressed: number;
}

/**
 * Wraps a logger so that no peer can flood it: a warning whose details name a `remoteAddress`
 * counts against that peer's host (`tcp@10.0.0.7:51000` and `:51001` are one peer) and against
 * all peers together, in fixed windows of `limit.windowMs` read from `scheduler`. A warning past
 * either limit is dropped and counted; the next one let through from that peer says how many
 * were dropped (`details.suppressed`). Warnings without a `remoteAddress` (registries, the
 * server's own) always pass.
 *
 * Never throws: a logger that throws is ignored.
 *
 * @example
 * ```ts
 * const logger = rateLimitedLogger(consoleLogger, asyncScheduler);
 * for (let i = 0; i < 1_000; i++) logger.warn('bad frame', { remoteAddress: 'tcp@10.0.0.7:5000' }); // 5 lines
 * ```
 * @internal
 */
export function rateLimitedLogger(
  logger: Logger,
  scheduler: SchedulerLike,
  limit: WarningLimit = DEFAULT_WARNING_LIMIT,
): Logger {
  const peers = new Map<string, Window>();
  const all: Window = { start: Number.NEGATIVE_INFINITY, count: 0, suppressed: 0 };
  const current = (window: Window, now: number): Window => {
    if (now - window.start >= limit.windowMs) {
      window.start = now;
      window.count = 0;
    }
    return window;
  };
  const forgetEnded = (now: number): void => {
    for (const [host, window] of peers) {
      if (now - window.start >= limit.windowMs && window.suppressed === 0) peers.delete(host);
    }
    // Still full of peers being suppressed right now: start again rather than grow.
    if (peers.size >= MAX_TRACKED_PEERS) peers.clear();
  };
  const emit = (message: string, details: Readonly<Record<string, unknown>> | undefined): void => {
    try {
      logger.warn(message, details);
    } catch {
      // The logger's own failure is not the server's to handle.
    }
  };
  return {
    warn(message, details) {
      const address = details?.remoteAddress;
      if (typeof address !== 'string') {
        emit(message, details);
        return;
      }
      const now = scheduler.now();
      const host = peerHost(address);
      let peer = peers.get(host);
      if (peer === undefined) {
        if (peers.size >= MAX_TRACKED_PEERS) forgetEnded(now);
        peer = { start: now, count: 0, suppressed: 0 };
        peers.set(host, peer);
      }
      current(peer, now);
      current(all, now);
      if (peer.count >= limit.perPeer || all.count >= limit.total) {
        peer.suppressed += 1;
        return;
      }
      peer.count += 1;
      all.count += 1;
      const suppressed = peer.suppressed;
      peer.suppressed = 0;
      emit(
        suppressed === 0
          ? message
          : `${message} (${suppressed} more warnings from this peer were suppressed)`,
        suppressed === 0 ? details : { ...details, suppressed },
      );
    },
  };
}

/** `tcp@host:port` -> `tcp@host`; a Unix socket peer is one peer. */
function peerHost(address: string): string {
  const colon = address.lastIndexOf(':');
  return colon > address.indexOf('@') ? address.slice(0, colon) : address;
}
