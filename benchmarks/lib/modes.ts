// The --modes option of the benchmarks that compare modes against an `off` baseline.

/**
 * The modes `list` (comma-separated) names, in `all`'s order; all of them when `list` is
 * undefined.
 *
 * @throws RangeError naming the option when a name is unknown or `off`, the baseline, is missing.
 */
export function chosenModes<M extends string>(all: readonly M[], list: string | undefined): M[] {
  if (list === undefined) return [...all];
  const names = list.split(',');
  const unknown = names.filter((name) => !all.includes(name as M));
  if (unknown.length > 0)
    throw new RangeError(`--modes: unknown ${unknown.join(', ')}; the modes are ${all.join(',')}`);
  if (!names.includes('off'))
    throw new RangeError(`--modes must include off, the baseline: ${all.join(',')}`);
  return all.filter((mode) => names.includes(mode));
}
