import { RpcError, type XClient } from '../../lib/index.js';

/** What a steady call loop saw. */
export interface LoopStats {
  /** Calls answered. */
  ok: number;
  /** Calls failed, with their errors. */
  readonly failures: RpcError[];
  /** Answers per server name. */
  readonly servedBy: Map<string, number>;
  /** Calls started so far. */
  started: number;
}

/** A running loop of `lanes` concurrent callers of HelloWorld.Greet. */
export interface CallLoop {
  readonly stats: LoopStats;
  /** Resolves once `predicate(stats)` holds (checked after every call), or rejects past `maxCalls`. */
  until(predicate: (stats: LoopStats) => boolean, maxCalls?: number): Promise<void>;
  /** Stops the lanes and waits for their last calls. */
  stop(): Promise<void>;
}

/** Starts `lanes` callers that each call Greet again as soon as their last call ends. */
export function callLoop(
  client: XClient,
  lanes: number,
  onReply?: (from: string, startedAt: number) => void,
): CallLoop {
  const stats: LoopStats = { ok: 0, failures: [], servedBy: new Map(), started: 0 };
  let stopped = false;
  const waiters: Array<{
    predicate: (s: LoopStats) => boolean;
    limit: number;
    resolve(): void;
    reject(e: Error): void;
  }> = [];
  const check = (): void => {
    for (const waiter of [...waiters]) {
      if (waiter.predicate(stats)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      } else if (stats.started > waiter.limit) {
        waiters.splice(waiters.indexOf(waiter), 1);
        stopped = true;
        waiter.reject(
          new Error(
            `condition not met within ${waiter.limit} calls: ${JSON.stringify({ ok: stats.ok, failed: stats.failures.length, servedBy: [...stats.servedBy] })}`,
          ),
        );
      }
    }
  };
  const lane = async (): Promise<void> => {
    while (!stopped) {
      const startedAt = stats.started++;
      try {
        const reply = await client.call<{ From: string }>('Greet', { First: 'loop' });
        stats.ok++;
        stats.servedBy.set(reply.From, (stats.servedBy.get(reply.From) ?? 0) + 1);
        onReply?.(reply.From, startedAt);
      } catch (error) {
        stats.failures.push(RpcError.from(error));
        // A call that fails without I/O must not starve the event loop.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      check();
    }
  };
  const running = Promise.all(Array.from({ length: lanes }, lane));
  return {
    stats,
    until: (predicate, maxCalls = 200_000) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ predicate, limit: stats.started + maxCalls, resolve, reject });
        check();
      }),
    async stop() {
      stopped = true;
      await running;
    },
  };
}
