import type { ServiceInstance } from '../discovery/service-instance.js';
import { describeValue, integerOption, optionsObject } from '../util/validate.js';
import { nextByKey } from './round-robin.js';
import type { Selector } from './selector.js';

/**
 * The default weight of a new latency sample in the moving average of {@link closest}.
 *
 * @group Governance
 */
export const DEFAULT_CLOSEST_ALPHA = 0.3;

/**
 * By default {@link closest} probes the least recently measured instance every this many picks.
 *
 * @group Governance
 */
export const DEFAULT_CLOSEST_PROBE_EVERY = 100;

/**
 * Options of {@link closest}.
 *
 * @group Governance
 */
export interface ClosestOptions {
  /**
   * The weight of a new latency sample in the exponentially weighted moving average, in
   * (0, 1]; 1 keeps only the last sample. Default: {@link DEFAULT_CLOSEST_ALPHA} (0.3).
   */
  readonly alpha?: number;
  /**
   * Every this many picks, pick the instance measured least recently instead of the fastest,
   * so that a server that got faster is noticed; 0 never does. An integer >= 0.
   * Default: {@link DEFAULT_CLOSEST_PROBE_EVERY} (100).
   */
  readonly probeEvery?: number;
}

/**
 * Creates a selector that picks the instance with the lowest moving average of latency, as
 * reported through `observeLatency(key, ms)` (heartbeat round trips and call latencies).
 *
 * Instances are probed rather than starved: an instance without a sample that has not been
 * picked yet is picked first (one pick each, in key order), before any measured one is
 * preferred; while no instance of the list has a sample, picks go round robin by key; and every
 * `probeEvery`-th pick goes to the instance measured least recently (unmeasured first). Other
 * picks take the lowest average, a tie going to the smaller key; instances picked once but not
 * measured yet wait for their sample or a probe. `forget(key)` drops all that is known of an
 * instance, which then counts as untried again.
 *
 * `select` returns `undefined` only for an empty list. `observeLatency` ignores a latency that
 * is negative or not finite.
 *
 * @throws RangeError naming `alpha` or `probeEvery` when out of range; TypeError when the
 *   options are not an object.
 * @example
 * ```ts
 * const selector = closest({ alpha: 0.5 });
 * heartbeat$.subscribe((rttMs) => selector.observeLatency?.(instance.key, rttMs));
 * selector.select(instances, call);
 * ```
 * @group Governance
 */
export function closest(options?: ClosestOptions): Selector {
  const resolved = optionsObject('closest options', options);
  const alpha = resolved.alpha ?? DEFAULT_CLOSEST_ALPHA;
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha <= 1)) {
    throw new RangeError(`alpha must be a number in (0, 1], got ${describeValue(alpha)}`);
  }
  const probeEvery = integerOption('probeEvery', resolved.probeEvery, DEFAULT_CLOSEST_PROBE_EVERY, 0);

  const average = new Map<string, number>();
  // When each instance was last measured, counted in samples, so no clock is needed.
  const measuredAt = new Map<string, number>();
  const tried = new Set<string>();
  let samples = 0;
  let picks = 0;
  let lastKey: string | undefined;

  const pick = (instance: ServiceInstance): ServiceInstance => {
    tried.add(instance.key);
    lastKey = instance.key;
    return instance;
  };

  return {
    select(instances) {
      if (instances.length === 0) return undefined;
      picks += 1;
      let untried: ServiceInstance | undefined;
      let fastest: ServiceInstance | undefined;
      let fastestLatency = Number.POSITIVE_INFINITY;
      let stalest: ServiceInstance | undefined;
      let stalestAt = Number.POSITIVE_INFINITY;
      for (const instance of instances) {
        const key = instance.key;
        const latency = average.get(key);
        if (latency === undefined) {
          if (!tried.has(key) && (untried === undefined || key < untried.key)) untried = instance;
        } else if (
          fastest === undefined ||
          latency < fastestLatency ||
          (latency === fastestLatency && key < fastest.key)
        ) {
          fastest = instance;
          fastestLatency = latency;
        }
        const at = measuredAt.get(key) ?? 0;
        if (stalest === undefined || at < stalestAt || (at === stalestAt && key < stalest.key)) {
          stalest = instance;
          stalestAt = at;
        }
      }
      if (untried !== undefined) return pick(untried);
      if (fastest === undefined) {
        const next = nextByKey(instances, lastKey);
        return next === undefined ? undefined : pick(next);
      }
      if (probeEvery > 0 && picks % probeEvery === 0 && stalest !== undefined) return pick(stalest);
      return pick(fastest);
    },
    observeLatency(key, latencyMs) {
      if (!(Number.isFinite(latencyMs) && latencyMs >= 0)) return;
      const previous = average.get(key);
      average.set(key, previous === undefined ? latencyMs : alpha * latencyMs + (1 - alpha) * previous);
      samples += 1;
      measuredAt.set(key, samples);
    },
    forget(key) {
      average.delete(key);
      measuredAt.delete(key);
      tried.delete(key);
    },
  };
}
