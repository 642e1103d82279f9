import type { TlsOptions } from 'node:tls';
import type { Metadata } from '../protocol/message.js';
import {
  type PayloadOptions,
  type ResolvedPayloadOptions,
  resolvePayloadOptions,
} from '../util/payload-options.js';
import { booleanOption, functionOption, integerOption, optionsObject } from '../util/validate.js';
import { type Logger, loggerOption } from './logger.js';
import { rateLimitedLogger } from './rate-limited-logger.js';
import type { ServiceRegistry } from './service-registry.js';

/** Default of {@link ServerOptions.maxConcurrentRequests}: 1,000 calls per connection. */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 1_000;
/** Default of the `graceMs` of `Server.shutdown`: 10 seconds. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * What `authorize` is told about the call it checks.
 *
 * @example
 * ```ts
 * const authorize = (token: string | undefined, info: AuthInfo) => token === tokens.get(info.service);
 * ```
 */
export interface AuthInfo {
  /** The service called. */
  readonly service: string;
  /** The method called. */
  readonly method: string;
  /** The request's metadata. */
  readonly metadata: Metadata;
  /** The peer's address. */
  readonly remoteAddress: string;
}

/**
 * Decides whether a call may run, from its `__AUTH` token (undefined when the client sent none).
 * Return (or resolve) false to refuse: the client gets an error reply and the connection closes.
 * A thrown error refuses too, with its message.
 */
export type Authorize = (token: string | undefined, info: AuthInfo) => boolean | Promise<boolean>;

/** Options of a {@link Server}. Every option is optional. */
export interface ServerOptions extends PayloadOptions {
  /** Checks the `__AUTH` token of every call (heartbeats excepted). Default: no check. */
  readonly authorize?: Authorize;
  /** Serve TLS with these options (key, cert, ca, requestCert...). Default: plain TCP. */
  readonly tls?: TlsOptions;
  /** Calls served at once per connection; past it the server stops reading. Default 1,000. */
  readonly maxConcurrentRequests?: number;
  /**
   * Registries to publish services in: every service is registered under the advertised address
   * on `listen` (and on `register` after it), and withdrawn first thing on `shutdown`. Default none.
   */
  readonly registries?: readonly ServiceRegistry[];
  /**
   * Where connection-level problems are reported. Default: the console. Warnings caused by a
   * peer are rate limited: at most 5 per peer host and 100 in all per minute, the number
   * dropped told with the next one let through.
   */
  readonly logger?: Logger;
  /**
   * Name the registered services, or the service's methods, in the error reply to a call of an
   * unknown service or method. Handy in development; off by default, so that a caller learns
   * nothing it was not told.
   */
  readonly listMethodsInErrors?: boolean;
}

/** {@link ServerOptions} with every default filled in. */
export interface ResolvedServerOptions extends ResolvedPayloadOptions {
  /** The auth check, if any. */
  readonly authorize: Authorize | undefined;
  /** TLS options, or undefined for plain TCP. */
  readonly tls: TlsOptions | undefined;
  /** Calls served at once per connection. */
  readonly maxConcurrentRequests: number;
  /** Registries the services are published in. */
  readonly registries: readonly ServiceRegistry[];
  /** Where problems are reported. */
  readonly logger: Logger;
  /** Whether unknown-service and unknown-method errors list what is registered. */
  readonly listMethodsInErrors: boolean;
}

/**
 * Fills in the defaults of server options and validates them.
 *
 * @throws TypeError when `options` is not an object; RangeError naming the option that is out
 *   of range or of the wrong type.
 * @example
 * ```ts
 * resolveServerOptions({ maxConcurrentRequests: 100 }).maxMessageBytes; // 16777216
 * ```
 */
export function resolveServerOptions(options: ServerOptions | undefined): ResolvedServerOptions {
  const o = optionsObject('server options', options);
  const payload = resolvePayloadOptions(o);
  if (o.tls !== undefined && (typeof o.tls !== 'object' || o.tls === null)) {
    throw new RangeError('tls must be an object of node:tls server options');
  }
  return {
    ...payload,
    authorize: functionOption('authorize', o.authorize),
    tls: o.tls,
    maxConcurrentRequests: integerOption(
      'maxConcurrentRequests',
      o.maxConcurrentRequests,
      DEFAULT_MAX_CONCURRENT_REQUESTS,
      1,
    ),
    registries: registriesOption(o.registries),
    logger: rateLimitedLogger(loggerOption(o.logger), payload.scheduler),
    listMethodsInErrors: booleanOption('listMethodsInErrors', o.listMethodsInErrors, false),
  };
}

function registriesOption(value: unknown): readonly ServiceRegistry[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new RangeError('registries must be an array of { register, unregister }');
  for (const registry of value) {
    if (typeof registry?.register !== 'function' || typeof registry?.unregister !== 'function') {
      throw new RangeError(
        'each of registries must have register(service, address, metadata) and unregister(service, address)',
      );
    }
  }
  return [...value];
}
