import { describeValue } from './validate.js';

/**
 * Where the server reports what it cannot reply to: a frame that broke the protocol, a socket
 * error, a refused connection. Any object with these methods will do (console, pino...).
 *
 * @example
 * ```ts
 * const server = new Server({ logger: { warn: (message, details) => pino.warn(details, message) } });
 * ```
 * @group Server
 */
export interface Logger {
  /** Something went wrong with one peer or one call; the server goes on. */
  warn(message: string, details?: Readonly<Record<string, unknown>>): void;
}

/**
 * The default logger: writes warnings to the console.
 *
 * @example
 * ```ts
 * consoleLogger.warn('closing connection', { remoteAddress: 'tcp@127.0.0.1:50000' });
 * ```
 * @group Server
 */
export const consoleLogger: Logger = {
  warn(message, details) {
    console.warn(`[phobos] ${message}`, details ?? '');
  },
};

/**
 * Resolves a `logger` option: {@link consoleLogger} when undefined.
 *
 * @throws RangeError when the value has no `warn` method.
 * @internal
 */
export function loggerOption(value: unknown): Logger {
  if (value === undefined) return consoleLogger;
  if (typeof (value as Partial<Logger> | null)?.warn !== 'function') {
    throw new RangeError(`logger must have a warn(message, details) method, got ${describeValue(value)}`);
  }
  return value as Logger;
}

/**
 * A logger that drops everything (for tests and benchmarks).
 *
 * @example
 * ```ts
 * new Server({ logger: silentLogger });
 * ```
 * @group Server
 */
export const silentLogger: Logger = {
  warn() {},
};
