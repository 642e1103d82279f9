import { describeThrown } from './describe-thrown.js';

const BRAND = Symbol.for('phobos.RpcError.kinds');

/**
 * Machine-readable error codes carried by every {@link RpcError}.
 *
 * @group Errors
 */
export type RpcErrorCode =
  | 'UNKNOWN'
  | 'SERVICE_ERROR'
  | 'DEADLINE_EXCEEDED'
  | 'CANCELLED'
  | 'CIRCUIT_OPEN'
  | 'NO_INSTANCE'
  | 'UNAVAILABLE'
  | 'CONNECTION_CLOSED'
  | 'PROTOCOL_ERROR'
  | 'CODEC_ERROR'
  | 'UNAUTHENTICATED'
  | 'RESOURCE_EXHAUSTED';

/**
 * Options accepted by every {@link RpcError} constructor, the second argument of each:
 * `new XError(message, options?)`. Some classes take fields of their own besides (the
 * {@link RpcError} base its `code`, `ProtocolError` its `field`).
 *
 * @group Errors
 */
export interface RpcErrorOptions {
  /** The underlying error, if any; kept as the standard `cause`. */
  readonly cause?: unknown;
  /** Structured, machine-readable facts about the failure. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The base class of every error that Phobos raises.
 *
 * Each error has a `code`, a `name` equal to its class name, an optional `cause`, and
 * structured `details`. `instanceof` works across two copies of the package (a brand check
 * replaces the prototype check).
 *
 * @example
 * ```ts
 * try {
 *   await client.call('Arith', 'Mul', { A: 1, B: 2 });
 * } catch (error) {
 *   if (error instanceof RpcError) console.error(error.code, error.details);
 * }
 * throw new RpcError('the tenant store is down', { code: 'UNAVAILABLE', cause: error });
 * ```
 * @group Errors
 */
export class RpcError extends Error {
  /** The machine-readable code of this error. */
  readonly code: RpcErrorCode;
  /** Structured facts about the failure (service, method, address, limits...). */
  readonly details: Readonly<Record<string, unknown>>;

  /**
   * @param message - what happened and what to do about it.
   * @param options - `cause`, `details` and the machine-readable `code` (`UNKNOWN` by default);
   *   each subclass sets its own code and takes no `code` option.
   */
  constructor(message: string, options: RpcErrorOptions & { readonly code?: RpcErrorCode } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'UNKNOWN';
    this.details = options.details ?? {};
    this.name = new.target.name;
    const kinds: string[] = [];
    for (let p = new.target; p && p !== (Error as unknown); p = Object.getPrototypeOf(p)) kinds.push(p.name);
    Object.defineProperty(this, BRAND, { value: kinds, enumerable: false });
  }

  /**
   * Brand-checked `instanceof`: true for errors built by any copy of this package whose class
   * is this class or one of its subclasses. False, never a throw, for a value that throws when
   * looked at (a revoked Proxy, a getter that throws).
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    try {
      const kinds = (value as { [BRAND]?: unknown })[BRAND];
      // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass that instanceof asks about.
      if (Array.isArray(kinds)) return kinds.includes(this.name);
      // biome-ignore lint/complexity/noThisInStatic: `this` is the subclass that instanceof asks about.
      return Function.prototype[Symbol.hasInstance].call(this, value);
    } catch {
      return false;
    }
  }

  /**
   * Turns anything thrown into an {@link RpcError}: an `RpcError` is returned as is; a platform
   * error named `TimeoutError` (the reason of `AbortSignal.timeout()`, RxJS's `timeout`) becomes a
   * `DeadlineExceededError` and one named `AbortError` (an `AbortController`'s default reason) a
   * `CancelledError`; any other `Error` keeps its message and becomes the cause of an `UNKNOWN`
   * one; anything else is described.
   *
   * Never throws, whatever the value: one that cannot be read (a revoked Proxy, getters that
   * throw, a null prototype holding a BigInt or a cycle) gets a fallback description.
   *
   * @example
   * ```ts
   * const error = RpcError.from(new TypeError('bad'));   // RpcError('bad', { code: 'UNKNOWN' })
   * ```
   */
  static from(value: unknown): RpcError {
    if (value instanceof RpcError) return value;
    const message = describeThrown(value);
    const make = platformErrorName(value);
    if (make !== undefined) return make(message, value);
    return new RpcError(message, { cause: value });
  }
}

/**
 * The RpcError classes platform errors stand for, by the platform error's `name`; the error
 * classes' module fills it in (those classes extend RpcError, so this module cannot import them).
 *
 * @internal
 */
export const PLATFORM_ERRORS = new Map<string, (message: string, cause: unknown) => RpcError>();

function platformErrorName(value: unknown): ((message: string, cause: unknown) => RpcError) | undefined {
  try {
    if (typeof value !== 'object' || value === null || !(value instanceof Error)) return undefined;
    const name = value.name;
    return typeof name === 'string' ? PLATFORM_ERRORS.get(name) : undefined;
  } catch {
    return undefined;
  }
}
