// Samples a server child's stats about every 100 ms while a scenario runs: the peak RSS and the
// most connections seen, and a signal that aborts once RSS passes its limit (so an attack that
// is winning stops before it takes the machine with it). Scenarios also wait on it for a
// condition on the server's counters (`waitFor`).
import { setMaxListeners } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import type { ServerStats } from './messages.js';
import type { ServerChild } from './server-child.js';

/** Options of {@link sampleServer}. */
export interface SamplerOptions {
  /** The RSS the limit counts from. */
  readonly idleRssBytes: number;
  /** Abort `overLimit` when RSS goes more than this above `idleRssBytes`. */
  readonly rssLimitBytes: number;
  /** Time between two samples. Default 100 ms. */
  readonly everyMs?: number;
}

/** What {@link sampleServer} returns. */
export interface Sampler {
  /** The highest RSS sampled. */
  readonly peakRssBytes: number;
  /** The most connections sampled. */
  readonly maxConnections: number;
  /** The latest sample. */
  readonly last: ServerStats | undefined;
  /** Aborts when RSS passes the limit, the server process ends or it stops answering stats. */
  readonly overLimit: AbortSignal;
  /**
   * Resolves with the time (performance.now()) of the first sample, from now on, that satisfies
   * `condition`, or undefined when none did within `timeoutMs`.
   */
  waitFor(condition: (stats: ServerStats) => boolean, timeoutMs: number): Promise<number | undefined>;
  /** Stops sampling and waits for the loop to end. */
  stop(): Promise<void>;
}

/**
 * Starts sampling `server`; one request at a time, so a slow server is not buried in them.
 *
 * @example
 * ```ts
 * const sampler = sampleServer(server, { idleRssBytes: idle.rssBytes, rssLimitBytes: 512 * MiB });
 * await attack(sampler.overLimit);
 * await sampler.stop();
 * ```
 */
export function sampleServer(server: ServerChild, options: SamplerOptions): Sampler {
  const everyMs = options.everyMs ?? 100;
  const over = new AbortController();
  // Every attacking socket may wait on it: hundreds of listeners are expected, not a leak.
  setMaxListeners(0, over.signal);
  const stopping = new AbortController();
  const waiters = new Set<{
    condition: (stats: ServerStats) => boolean;
    resolve: (at: number | undefined) => void;
  }>();
  let peakRssBytes = options.idleRssBytes;
  let maxConnections = 0;
  let last: ServerStats | undefined;
  void server.exited.then(() => over.abort(new Error(`server ${server.ended}`)));

  const loop = (async () => {
    while (!stopping.signal.aborted && !server.ended) {
      try {
        last = await server.stats();
      } catch (error) {
        // Gone (already aborted by its exit), or alive and not answering: stop attacking it.
        if (!over.signal.aborted) over.abort(error);
        return;
      }
      const at = performance.now();
      peakRssBytes = Math.max(peakRssBytes, last.rssBytes);
      maxConnections = Math.max(maxConnections, last.connections);
      if (last.rssBytes - options.idleRssBytes > options.rssLimitBytes && !over.signal.aborted) {
        over.abort(new Error('server RSS over the limit'));
      }
      for (const waiter of [...waiters]) {
        if (waiter.condition(last)) waiter.resolve(at);
      }
      await delay(everyMs, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  })();

  return {
    get peakRssBytes() {
      return peakRssBytes;
    },
    get maxConnections() {
      return maxConnections;
    },
    get last() {
      return last;
    },
    overLimit: over.signal,
    waitFor(condition, timeoutMs) {
      return new Promise((resolve) => {
        const waiter = {
          condition,
          resolve: (at: number | undefined) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(at);
          },
        };
        const timer = setTimeout(() => waiter.resolve(undefined), timeoutMs);
        waiters.add(waiter);
      });
    },
    async stop() {
      stopping.abort();
      await loop;
      for (const waiter of [...waiters]) waiter.resolve(undefined);
    },
  };
}
