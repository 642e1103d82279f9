import type { Registry } from 'prom-client';

/** One series of a counter or a gauge: its value, changed in place on the hot path. */
export interface BoundValue {
  value: number;
}

/** One series of a histogram: counts per bucket (not cumulative), sum and count. */
export class BoundHistogram {
  /** Observations per bucket; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  private readonly bounds: readonly number[];

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Adds one observation. */
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }
}

type Kind = 'counter' | 'gauge' | 'histogram';

interface Series<S> {
  readonly labels: Record<string, string>;
  readonly series: S;
}

/** What prom-client's registry reads from a metric. */
interface MetricValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName?: string;
}

/**
 * A metric whose series are plain objects bound once per label values and changed in place, so
 * that counting a call costs a property increment, not a label lookup; prom-client's registry
 * reads it when scraped, as it reads its own metrics.
 *
 * @internal
 */
export abstract class BoundMetric<S> {
  readonly name: string;
  readonly help: string;
  abstract readonly type: Kind;
  readonly labelNames: readonly string[];
  /** Fills the series in just before a scrape reads them (gauges of state). */
  collect: (() => void) | undefined = undefined;
  protected readonly series = new Map<string, Series<S>>();
  readonly aggregator = 'sum';

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /**
   * The series of these label values, made on first use.
   *
   * @throws RangeError when the number of values is not the number of label names.
   */
  bind(...values: string[]): S {
    const key = values.join('\u0000');
    const known = this.series.get(key);
    if (known) return known.series;
    if (values.length !== this.labelNames.length)
      throw new RangeError(`${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
    const labels: Record<string, string> = {};
    this.labelNames.forEach((label, i) => {
      labels[label] = values[i] as string;
    });
    const series = this.make();
    this.series.set(key, { labels, series });
    return series;
  }

  /** Forgets every series (prom-client's `resetMetrics`). */
  reset(): void {
    this.series.clear();
  }

  /** What prom-client's registry formats. */
  async get(): Promise<{
    name: string;
    help: string;
    type: Kind;
    values: MetricValue[];
    aggregator: string;
  }> {
    this.collect?.();
    const values: MetricValue[] = [];
    for (const { labels, series } of this.series.values()) this.values(labels, series, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  protected abstract make(): S;
  protected abstract values(labels: Record<string, string>, series: S, into: MetricValue[]): void;
}

/** A counter of bound series. @internal */
export class BoundCounter extends BoundMetric<BoundValue> {
  readonly type = 'counter';
  protected make(): BoundValue {
    return { value: 0 };
  }
  protected values(labels: Record<string, string>, series: BoundValue, into: MetricValue[]): void {
    into.push({ labels, value: series.value });
  }
}

/** A gauge of bound series. @internal */
export class BoundGauge extends BoundMetric<BoundValue> {
  readonly type = 'gauge';
  protected make(): BoundValue {
    return { value: 0 };
  }
  protected values(labels: Record<string, string>, series: BoundValue, into: MetricValue[]): void {
    into.push({ labels, value: series.value });
  }
}

/** A histogram of bound series. @internal */
export class BoundHistogramMetric extends BoundMetric<BoundHistogram> {
  readonly type = 'histogram';
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    this.buckets = buckets;
  }

  protected make(): BoundHistogram {
    return new BoundHistogram(this.buckets);
  }

  protected values(labels: Record<string, string>, series: BoundHistogram, into: MetricValue[]): void {
    let cumulative = 0;
    this.buckets.forEach((bound, i) => {
      cumulative += series.counts[i] as number;
      into.push({ labels: { ...labels, le: bound }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    into.push({ labels: { ...labels, le: '+Inf' }, value: series.count, metricName: `${this.name}_bucket` });
    into.push({ labels, value: series.sum, metricName: `${this.name}_sum` });
    into.push({ labels, value: series.count, metricName: `${this.name}_count` });
  }
}

/**
 * The metric of `name` in the registry if one was made there before (by another server or client
 * of this process), else a new one, registered: collectors of several servers or clients share
 * metrics.
 *
 * @throws TypeError when the registry holds a metric of that name made otherwise.
 * @internal
 */
export function sharedMetric<M extends BoundMetric<unknown>>(registry: Registry, made: M): M {
  const existing = registry.getSingleMetric(made.name) as unknown;
  if (existing !== undefined) {
    if (!(existing instanceof made.constructor) || (existing as M).type !== made.type)
      throw new TypeError(`the registry already holds ${made.name} as another kind of metric`);
    return existing as M;
  }
  registry.registerMetric(made as never);
  return made;
}
