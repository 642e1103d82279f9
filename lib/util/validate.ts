import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { MAX_TIMER_MS } from './max-timer.js';

/**
 * Resolves an optional integer option: its default when undefined, else checked to be an
 * integer within [min, max].
 *
 * @throws RangeError naming the option when the value is not such an integer.
 * @internal
 */
export function integerOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  return numberOption(name, value, fallback, min, max, 'an integer');
}

export { MAX_TIMER_MS };

/**
 * Resolves an optional duration in milliseconds: an integer option within [min, MAX_TIMER_MS],
 * since a longer delay would make a timer fire at once.
 *
 * @throws RangeError naming the option when the value is not such an integer.
 * @internal
 */
export function durationOption(name: string, value: unknown, fallback: number, min: number): number {
  return integerOption(name, value, fallback, min, MAX_TIMER_MS);
}

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
  max = Number.MAX_SAFE_INTEGER,
): number {
  return numberOption(name, value, fallback, min, max, 'a finite number');
}

function numberOption(
  name: string,
  value: unknown,
  fallback: number,
  min: number,
  max: number,
  kind: 'an integer' | 'a finite number',
): number {
  if (value === undefined) return fallback;
  const ok = kind === 'an integer' ? Number.isInteger(value) : Number.isFinite(value);
  if (typeof value !== 'number' || !ok || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
    throw new RangeError(`${name} must be ${kind} ${range}, got ${describeValue(value)}`);
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

/**
 * Resolves an optional boolean option.
 *
 * @throws RangeError naming the option when the value is not a boolean.
 * @internal
 */
export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new RangeError(`${name} must be a boolean, got ${describeValue(value)}`);
  return value;
}

/**
 * Resolves an optional function option.
 *
 * @throws RangeError naming the option when the value is not a function.
 * @internal
 */
export function functionOption<F>(name: string, value: F | undefined): F | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new RangeError(`${name} must be a function, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Checks that options are an object (or undefined).
 *
 * @throws TypeError when they are something else.
 * @internal
 */
export function optionsObject<T extends object>(name: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object, got ${describeValue(value)}`);
  }
  return value;
}

/**
 * Converts metadata given as a record or a map into a map of strings.
 *
 * @throws TypeError when a key or value is not a string.
 * @internal
 */
export function toMetadata(
  name: string,
  value: Readonly<Record<string, string>> | ReadonlyMap<string, string> | undefined,
): Map<string, string> {
  const metadata = new Map<string, string>();
  if (value === undefined) return metadata;
  if (typeof value !== 'object' || value === null)
    throw new TypeError(`${name} must be an object or a Map, got ${describeValue(value)}`);
  const entries = value instanceof Map ? value.entries() : Object.entries(value);
  for (const [key, item] of entries) {
    if (typeof key !== 'string' || typeof item !== 'string') {
      throw new TypeError(
        `${name} keys and values must be strings; "${String(key)}" is ${describeValue(item)}`,
      );
    }
    metadata.set(key, item);
  }
  return metadata;
}

/**
 * Describes a value for an error message.
 *
 * @internal
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
