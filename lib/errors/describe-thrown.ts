/**
 * What {@link describeThrown} says of a value it cannot describe at all.
 *
 * @group Errors
 */
export const UNDESCRIBABLE = 'a value that cannot be described (it throws when read)';

/**
 * Describes anything a handler may throw, reject with or return, for an error message: an
 * error's `message`, a string as is, anything else through `JSON.stringify`, then `String`.
 *
 * Never throws: each step that throws (a getter, a revoked Proxy, a BigInt or a cycle in
 * `JSON.stringify`, an object without `toString`) falls back to the next, and the last resort is
 * the fixed text {@link UNDESCRIBABLE}.
 *
 * @example
 * ```ts
 * describeThrown(new Error('boom'));          // 'boom'
 * describeThrown({ code: 7 });                // 'non-error value thrown: {"code":7}'
 * describeThrown(Object.create(null));        // 'non-error value thrown: {}'
 * ```
 * @internal
 */
export function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  // String() of a function is its source code: not something to send to a caller.
  if (typeof value === 'function') return 'non-error value thrown: a function';
  const message = errorMessageOf(value);
  if (message !== undefined) return message;
  const json = attempt(() => JSON.stringify(value));
  if (typeof json === 'string') return `non-error value thrown: ${json}`;
  const text = attempt(() => String(value));
  if (typeof text === 'string') return `non-error value thrown: ${text}`;
  return UNDESCRIBABLE;
}

/**
 * Whether `value instanceof type`, false where asking throws (a revoked Proxy throws inside
 * `instanceof`).
 *
 * @example
 * ```ts
 * safeInstanceOf(revokedProxy, Error); // false
 * ```
 * @internal
 */
export function safeInstanceOf(value: unknown, type: abstract new (...args: never[]) => unknown): boolean {
  return attempt(() => value instanceof type) === true;
}

/** The `message` of an Error, when it is one and reading it gives a string. */
function errorMessageOf(value: unknown): string | undefined {
  if (!safeInstanceOf(value, Error)) return undefined;
  const message = attempt(() => (value as Error).message);
  return typeof message === 'string' ? message : undefined;
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
