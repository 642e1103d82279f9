import {
  asyncScheduler,
  catchError,
  defer,
  map,
  mergeMap,
  type Observable,
  of,
  type SchedulerLike,
  TimeoutError,
  take,
  timeout,
  timer,
} from 'rxjs';
import { ConnectionError } from '../errors/index.js';
import { integerOption, optionsObject } from '../util/validate.js';

/** Default of {@link HeartbeatOptions.maxMisses}: 3. */
export const DEFAULT_HEARTBEAT_MAX_MISSES = 3;

/** Options of {@link heartbeat}. */
export interface HeartbeatOptions {
  /** Consecutive missed echoes after which the heartbeat errors. Default 3. */
  readonly maxMisses?: number;
  /** How long to wait for each echo. Default the interval. */
  readonly timeoutMs?: number;
  /** Clock and timers. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

const MISS = -1;

/**
 * Pings every `intervalMs` (the first at once) and emits each round-trip time in milliseconds.
 * A ping without an echo within `timeoutMs` is a miss; after `maxMisses` consecutive misses it
 * errors with a {@link ConnectionError}. An echo resets the count. An error of `ping` itself
 * (the connection closed) is passed on at once.
 *
 * It depends on nothing but `ping`, so any transport can use it and marble tests drive it.
 *
 * @throws RangeError at creation when `intervalMs`, `maxMisses` or `timeoutMs` is not a
 *   positive integer.
 * @example
 * ```ts
 * heartbeat(() => connection.ping$(), 1_000, { maxMisses: 3 }).subscribe({
 *   next: (rttMs) => console.log('rtt', rttMs),
 *   error: (error) => console.log('server is gone', error.message),
 * });
 * ```
 */
export function heartbeat(
  ping: () => Observable<unknown>,
  intervalMs: number,
  options?: HeartbeatOptions,
): Observable<number> {
  if (typeof ping !== 'function') throw new RangeError('ping must be a function returning an Observable');
  const interval = integerOption('intervalMs', intervalMs, 0, 1);
  const o = optionsObject('heartbeat options', options);
  const maxMisses = integerOption('maxMisses', o.maxMisses, DEFAULT_HEARTBEAT_MAX_MISSES, 1);
  const timeoutMs = integerOption('timeoutMs', o.timeoutMs, interval, 1);
  const scheduler = o.scheduler ?? asyncScheduler;
  return defer(() => {
    let misses = 0;
    return timer(0, interval, scheduler).pipe(
      mergeMap(() => {
        const sentAt = scheduler.now();
        return ping().pipe(
          take(1),
          map(() => scheduler.now() - sentAt),
          timeout({ first: timeoutMs, scheduler }),
          catchError((error: unknown) => {
            if (error instanceof TimeoutError) return of(MISS);
            throw error;
          }),
        );
      }),
      mergeMap((rtt) => {
        if (rtt !== MISS) {
          misses = 0;
          return of(rtt);
        }
        misses += 1;
        if (misses >= maxMisses) {
          throw new ConnectionError(
            `no heartbeat echo for ${misses} consecutive pings (interval ${interval} ms, timeout ${timeoutMs} ms)`,
            {
              details: { misses, intervalMs: interval, timeoutMs },
            },
          );
        }
        return [];
      }),
    );
  });
}
