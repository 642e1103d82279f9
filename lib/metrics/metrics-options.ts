import type { Registry } from 'prom-client';
import { describeValue, integerOption, optionsObject } from '../util/validate.js';
import { promClient } from './prom-client.js';

const { register } = promClient;

/** Default histogram buckets of call durations, in seconds (the Prometheus client defaults). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]);

/** Default histogram buckets of payload sizes, in bytes: 32 B to 4 MiB, by four. */
export const DEFAULT_SIZE_BUCKETS: readonly number[] = Object.freeze([
  32, 128, 512, 2048, 8192, 32768, 131072, 524288, 2097152, 4194304,
]);

/** Default of {@link MetricsOptions.maxLabelValues}. */
export const DEFAULT_MAX_LABEL_VALUES = 1_000;

/** The label value of a service or method that is not allowed as one (unknown, or past the bound). */
export const UNKNOWN_LABEL = 'unknown';

/**
 * Options shared by the collectors of `phobos/metrics`. Every option is optional.
 *
 * @example
 * ```ts
 * const options: MetricsOptions = { registry: new Registry(), prefix: 'shop_', durationBuckets: [0.01, 0.1, 1] };
 * ```
 */
export interface MetricsOptions {
  /** Where the metrics are registered. Default prom-client's global `register`. */
  readonly registry?: Registry;
  /** Prepended to every metric name. Default `phobos_`. */
  readonly prefix?: string;
  /** Buckets of the duration histograms, in seconds, increasing. Default {@link DEFAULT_DURATION_BUCKETS}. */
  readonly durationBuckets?: readonly number[];
  /** Buckets of the size histograms, in bytes, increasing. Default {@link DEFAULT_SIZE_BUCKETS}. */
  readonly sizeBuckets?: readonly number[];
  /**
   * Which service/method pairs may be label values; others are counted as `unknown`. A server
   * already counts names it has not registered as `unknown`. Default: every pair, up to
   * `maxLabelValues`.
   */
  readonly allow?: (service: string, method: string) => boolean;
  /**
   * The most distinct service/method pairs that become label values; later ones are counted as
   * `unknown`, so that names chosen by peers cannot grow the metrics without bound. Default 1000.
   */
  readonly maxLabelValues?: number;
  /**
   * Also exposes the names Go Phobos's server uses (`accepted_connections_total`,
   * `processed_requests_total`, `request_duration_seconds`, without the prefix), so that a
   * dashboard built for the Go server keeps working. Server collectors only. Default false.
   */
  readonly goPhobosNames?: boolean;
}

/** {@link MetricsOptions} checked, with their defaults. @internal */
export interface ResolvedMetricsOptions {
  readonly registry: Registry;
  readonly prefix: string;
  readonly durationBuckets: number[];
  readonly sizeBuckets: number[];
  readonly allow: ((service: string, method: string) => boolean) | undefined;
  readonly maxLabelValues: number;
  readonly goPhobosNames: boolean;
}

/**
 * Checks metrics options and fills in the defaults.
 *
 * @throws TypeError when `options` is not an object or `registry` is not a prom-client Registry;
 *   RangeError naming the option when `prefix` is not a valid metric name prefix, buckets are
 *   not increasing positive numbers, or `maxLabelValues` is not an integer >= 1.
 * @internal
 */
export function resolveMetricsOptions(options: MetricsOptions | undefined): ResolvedMetricsOptions {
  const o = optionsObject('metrics options', options);
  const registry = o.registry ?? register;
  if (typeof registry?.registerMetric !== 'function' || typeof registry.getSingleMetric !== 'function')
    throw new TypeError(`registry must be a prom-client Registry, got ${describeValue(o.registry)}`);
  const prefix = o.prefix ?? 'phobos_';
  if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix))
    throw new RangeError(
      `prefix must be empty or start a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got ${describeValue(prefix)}`,
    );
  if (o.allow !== undefined && typeof o.allow !== 'function')
    throw new RangeError(
      `allow must be a function (service, method) => boolean, got ${describeValue(o.allow)}`,
    );
  if (o.goPhobosNames !== undefined && typeof o.goPhobosNames !== 'boolean')
    throw new RangeError(`goPhobosNames must be a boolean, got ${describeValue(o.goPhobosNames)}`);
  return {
    registry,
    prefix,
    durationBuckets: buckets('durationBuckets', o.durationBuckets ?? DEFAULT_DURATION_BUCKETS),
    sizeBuckets: buckets('sizeBuckets', o.sizeBuckets ?? DEFAULT_SIZE_BUCKETS),
    allow: o.allow,
    maxLabelValues: integerOption('maxLabelValues', o.maxLabelValues, DEFAULT_MAX_LABEL_VALUES, 1),
    goPhobosNames: o.goPhobosNames ?? false,
  };
}

function buckets(name: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new RangeError(
      `${name} must be a non-empty array of increasing numbers > 0, got ${describeValue(value)}`,
    );
  for (let i = 0; i < value.length; i++) {
    const bound: unknown = value[i];
    if (
      typeof bound !== 'number' ||
      !(bound > 0) ||
      !Number.isFinite(bound) ||
      (i > 0 && bound <= value[i - 1])
    )
      throw new RangeError(`${name} must be increasing finite numbers > 0, got ${describeValue(value)}`);
  }
  return [...(value as number[])];
}

/**
 * Decides the service and method label values of calls: a pair is itself while it is allowed
 * and among the first `maxLabelValues` seen, else `unknown`. Pairs are remembered, so a call
 * costs one map lookup.
 *
 * @internal
 */
export class LabelGuard {
  private readonly seen = new Map<string, readonly [string, string]>();
  private readonly options: ResolvedMetricsOptions;

  constructor(options: ResolvedMetricsOptions) {
    this.options = options;
  }

  /** The label values of a call; `known: false` (a name the peer made up) is always unknown. */
  labels(service: string, method: string, known = true): readonly [string, string] {
    if (!known) return UNKNOWN_PAIR;
    const key = `${service}\u0000${method}`;
    const cached = this.seen.get(key);
    if (cached) return cached;
    const allowed =
      this.seen.size < this.options.maxLabelValues && (this.options.allow?.(service, method) ?? true);
    const pair = allowed ? ([service, method] as const) : UNKNOWN_PAIR;
    // Past the bound nothing more is remembered: the map stays at maxLabelValues entries.
    if (this.seen.size < this.options.maxLabelValues) this.seen.set(key, pair);
    return pair;
  }
}

const UNKNOWN_PAIR = Object.freeze([UNKNOWN_LABEL, UNKNOWN_LABEL] as const);
