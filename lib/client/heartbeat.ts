import {
  asyncScheduler,
  map,
  mergeMap,
  type Observable,
  type SchedulerLike,
  take,
  throwError,
  timeout,
  timer,
} from 'rxjs';
import { ConnectionError } from '../errors/index.js';
import { durationOption, integerOption, optionsObject } from '../util/validate.js';

/**
 * Default of {@link HeartbeatOptions.maxMisses}: 3.
 *
 * @group Client
 */
export const DEFAULT_HEARTBEAT_MAX_MISSES = 3;

/**
 * Heartbeat settings, the one shape for every heartbeat: {@link heartbeat},
 * `Connection.heartbeat$` and an XClient's `heartbeat` option.
 *
 * @example
 * ```ts
 * const options: HeartbeatOptions = { intervalMs: 1_000, maxMisses: 3 };
 * ```
 * @group Client
 */
export interface HeartbeatOptions {
  /** Ping every this many ms, the first at once. An integer >= 1. */
  readonly intervalMs: number;
  /**
   * Intervals without any echo after which the heartbeat errors: the peer is declared dead
   * `intervalMs * maxMisses` after the last echo (or after subscription). Default 3.
   */
  readonly maxMisses?: number;
  /**
   * Clock and timers. Default `asyncScheduler`; a connection's heartbeat uses the connection's
   * scheduler, an XClient's the client's.
   */
  readonly scheduler?: SchedulerLike;
  /**
   * `Connection.heartbeat$` only: close the connection (failing its pending calls) when the
   * heartbeat fails. Default true.
   */
  readonly closeOnFailure?: boolean;
}

/**
 * Pings every `intervalMs` (the first at once) and emits each round-trip time in milliseconds.
 * When no echo has arrived for `intervalMs * maxMisses` (since the last echo, or since
 * subscription) it errors with a {@link ConnectionError}: a dead peer is detected within that
 * time of its last sign of life. An error of `ping` itself (the connection closed) is passed on
 * at once.
 *
 * It depends on nothing but `ping`, so any transport can use it and marble tests drive it.
 *
 * @throws RangeError at creation when `intervalMs` or `maxMisses` is not a positive integer;
 *   TypeError when `options` is not an object.
 * @example
 * ```ts
 * heartbeat(() => connection.ping$(), { intervalMs: 1_000, maxMisses: 3 }).subscribe({
 *   next: (rttMs) => console.log('rtt', rttMs),
 *   error: (error) => console.log('server is gone', error.message),
 * });
 * ```
 * @group Client
 */
export function heartbeat(ping: () => Observable<unknown>, options: HeartbeatOptions): Observable<number> {
  if (typeof ping !== 'function') throw new RangeError('ping must be a function returning an Observable');
  const o = optionsObject('heartbeat options', options);
  const interval = durationOption('intervalMs', o.intervalMs, 0, 1);
  const maxMisses = integerOption('maxMisses', o.maxMisses, DEFAULT_HEARTBEAT_MAX_MISSES, 1);
  const scheduler = o.scheduler ?? asyncScheduler;
  const silenceMs = interval * maxMisses;
  return timer(0, interval, scheduler).pipe(
    mergeMap(() => {
      const sentAt = scheduler.now();
      return ping().pipe(
        take(1),
        map(() => scheduler.now() - sentAt),
      );
    }),
    timeout({
      each: silenceMs,
      scheduler,
      with: () =>
        throwError(
          () =>
            new ConnectionError(
              `no heartbeat echo for ${silenceMs} ms (${maxMisses} intervals of ${interval} ms)`,
              { details: { maxMisses, intervalMs: interval, silenceMs } },
            ),
        ),
    }),
  );
}
