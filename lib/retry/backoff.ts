import {
  describeValue,
  durationOption,
  finiteOption,
  functionOption,
  optionsObject,
} from '../util/validate.js';

/**
 * How long to wait before a retry, in ms, given the retry's number (1 for the first retry, 2
 * for the second...). The retry operators take one as `backoff`.
 * @group Governance
 */
export type Backoff = (retry: number) => number;

/**
 * How randomness spreads the delays of {@link exponentialBackoff}, so that clients that failed
 * together do not retry together: `full` picks in [0, d], `equal` in [d/2, d], `none` is d.
 * @group Governance
 */
export type Jitter = 'full' | 'equal' | 'none';

/**
 * Default of {@link ExponentialBackoffOptions.initialMs}: 100 ms.
 *
 * @group Governance
 */
export const DEFAULT_BACKOFF_INITIAL_MS = 100;
/**
 * Default of {@link ExponentialBackoffOptions.maxMs}: 10 seconds.
 *
 * @group Governance
 */
export const DEFAULT_BACKOFF_MAX_MS = 10_000;
/**
 * Default of {@link ExponentialBackoffOptions.multiplier}: 2.
 *
 * @group Governance
 */
export const DEFAULT_BACKOFF_MULTIPLIER = 2;

/**
 * Options of {@link exponentialBackoff}. Every option is optional.
 *
 * @group Governance
 */
export interface ExponentialBackoffOptions {
  /** The delay before the first retry, before jitter. Default 100 ms. */
  readonly initialMs?: number;
  /** The delay never exceeds this. Default 10,000 ms. */
  readonly maxMs?: number;
  /** Each retry waits this many times longer than the one before (before jitter). Default 2. */
  readonly multiplier?: number;
  /** How the delay is randomized. Default `'full'`. */
  readonly jitter?: Jitter;
  /** A source of uniform numbers in [0, 1). Default `Math.random`; inject one in tests. */
  readonly random?: () => number;
}

const JITTERS: readonly Jitter[] = ['full', 'equal', 'none'];

/**
 * Makes an exponential backoff: before jitter, retry n waits
 * `min(maxMs, initialMs × multiplier^(n-1))` ms; jitter then spreads it (AWS's "full" and
 * "equal" jitter). Delays are whole milliseconds in [0, maxMs].
 *
 * A retry number below 1 is treated as 1; a `random` that strays outside [0, 1) is clamped.
 *
 * @throws TypeError when `options` is not an object; RangeError naming the option when
 *   `initialMs` or `maxMs` is not an integer >= 0, `initialMs` exceeds `maxMs`, `multiplier` is
 *   not a finite number >= 1, `jitter` is not one of `full`, `equal`, `none`, or `random` is
 *   not a function.
 * @example
 * ```ts
 * const backoff = exponentialBackoff({ initialMs: 50, maxMs: 1_000, jitter: 'none' });
 * [1, 2, 3, 10].map(backoff);          // [50, 100, 200, 1000]
 * failover({ retries: 3, backoff: exponentialBackoff() });
 * ```
 * @group Governance
 */
export function exponentialBackoff(options?: ExponentialBackoffOptions): Backoff {
  const o = optionsObject('exponentialBackoff options', options);
  const initialMs = durationOption('initialMs', o.initialMs, DEFAULT_BACKOFF_INITIAL_MS, 0);
  const maxMs = durationOption('maxMs', o.maxMs, DEFAULT_BACKOFF_MAX_MS, 0);
  if (initialMs > maxMs) {
    throw new RangeError(`initialMs must not exceed maxMs (${maxMs}), got ${initialMs}`);
  }
  const multiplier = finiteOption('multiplier', o.multiplier, DEFAULT_BACKOFF_MULTIPLIER, 1);
  const jitter = o.jitter ?? 'full';
  if (!JITTERS.includes(jitter)) {
    throw new RangeError(`jitter must be one of ${JITTERS.join(', ')}, got ${describeValue(jitter)}`);
  }
  const random = functionOption('random', o.random) ?? Math.random;

  return (retry) => {
    const exponent = Number.isNaN(retry) ? 0 : Math.max(0, Math.floor(retry) - 1);
    // initialMs 0 would make 0 × Infinity = NaN once the power overflows.
    const ceiling = initialMs === 0 ? 0 : Math.min(maxMs, initialMs * multiplier ** exponent);
    if (jitter === 'none') return Math.floor(ceiling);
    const r = Math.min(1, Math.max(0, random() || 0));
    const delay = jitter === 'full' ? r * ceiling : ceiling / 2 + (r * ceiling) / 2;
    return Math.min(maxMs, Math.floor(delay));
  };
}

/**
 * Makes a backoff that always waits `ms`.
 *
 * @throws RangeError when `ms` is not an integer >= 0.
 * @example
 * ```ts
 * failover({ retries: 2, backoff: constantBackoff(50) });   // 50 ms before each retry
 * ```
 * @group Governance
 */
export function constantBackoff(ms: number): Backoff {
  if (ms === undefined) throw new RangeError('constantBackoff needs ms, an integer >= 0');
  const delayMs = durationOption('ms', ms, 0, 0);
  return () => delayMs;
}
