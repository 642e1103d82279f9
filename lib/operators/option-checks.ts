import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { describeValue } from '../util/validate.js';

/**
 * Resolves an optional finite number option: its default when undefined, else checked to be a
 * finite number within [min, max].
 *
 * @throws RangeError naming the option when the value is not such a number.
 * @internal
 */
export function finiteOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_VALUE,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.MAX_VALUE ? `>= ${min}` : `in ${min}..${max}`;
    throw new RangeError(`${name} must be a finite number ${range}, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Resolves an optional `scheduler` option: `asyncScheduler` when undefined, else checked to have
 * `now()` and `schedule()`.
 *
 * @throws RangeError naming the option when the value is not a SchedulerLike.
 * @internal
 */
export function schedulerOption(name: string, value: unknown): SchedulerLike {
  if (value === undefined) return asyncScheduler;
  if (!hasMethods(value, ['now', 'schedule'])) {
    throw new RangeError(`${name} must be an RxJS SchedulerLike, got ${describeValue(value)}`);
  }
  return value as SchedulerLike;
}

/**
 * Whether a value is an object (or function) with the named methods.
 *
 * @internal
 */
export function hasMethods(value: unknown, methods: readonly string[]): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const record = value as Record<string, unknown>;
  return methods.every((method) => typeof record[method] === 'function');
}
