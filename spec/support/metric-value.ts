import type { Registry } from 'prom-client';

/**
 * The value of the one series of `name` whose labels are exactly `labels` (a histogram's `le`
 * aside), 0 when there is none.
 *
 * @throws Error when the registry holds no metric of that name.
 */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const series = values.find(
    (entry) =>
      Object.entries(labels).every(([key, wanted]) => String(entry.labels[key]) === wanted) &&
      Object.keys(entry.labels).filter((key) => key !== 'le').length === Object.keys(labels).length,
  );
  return series?.value ?? 0;
}
