import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { XClientOptions } from '../client/xclient-options.js';
import type { Discovery } from '../discovery/discovery.js';
import { type Logger, loggerOption } from '../util/logger.js';
import {
  describeValue,
  durationOption,
  functionOption,
  integerOption,
  optionsObject,
  schedulerOption,
} from '../util/validate.js';
import type { GatewayBackend } from './backend.js';

/** Default `maxBodyBytes`: 1 MiB, after gzip. */
export const DEFAULT_GATEWAY_MAX_BODY_BYTES = 1024 * 1024;
/** Default `bodyTimeoutMs`: a request body must arrive whole within 10 s. */
export const DEFAULT_GATEWAY_BODY_TIMEOUT_MS = 10_000;
/** Default `maxInFlight`: HTTP requests served at once before 429. */
export const DEFAULT_GATEWAY_MAX_IN_FLIGHT = 1024;
/** Default `timeoutMs`: a call's deadline when the request names none, 30 s. */
export const DEFAULT_GATEWAY_TIMEOUT_MS = 30_000;
/** Default `maxTimeoutMs`: the longest deadline a request may ask for, 5 minutes. */
export const DEFAULT_GATEWAY_MAX_TIMEOUT_MS = 300_000;
/** Default `maxBatchSize`: calls in one JSON-RPC batch. */
export const DEFAULT_GATEWAY_MAX_BATCH_SIZE = 100;
/** Default `maxServices`: services the gateway keeps an XClient for at once. */
export const DEFAULT_GATEWAY_MAX_SERVICES = 256;
/** Default `metadataPrefix`: `Phobos-Meta-Key: v` headers carry metadata `key=v` both ways. */
export const DEFAULT_GATEWAY_METADATA_PREFIX = 'phobos-meta-';
/** Default `jsonRpcPath`. */
export const DEFAULT_GATEWAY_JSON_RPC_PATH = '/jsonrpc';
/** Default `gzipThresholdBytes` of replies: gzip (when accepted) from 1 KiB. */
export const DEFAULT_GATEWAY_GZIP_THRESHOLD_BYTES = 1024;
/** Default `cors.maxAgeS`: how long a browser may cache a preflight answer, 10 minutes. */
export const DEFAULT_GATEWAY_CORS_MAX_AGE_S = 600;
/**
 * Default `maxStreams`: streams (Server-Sent Events, Connect server streams) served at once
 * before 429; half of `maxInFlight`'s default, so streams never take every request slot.
 */
export const DEFAULT_GATEWAY_MAX_STREAMS = 512;
/**
 * Default `maxStreamMs`: the longest a stream may run, 1 hour; a browser's EventSource reconnects
 * when it ends.
 */
export const DEFAULT_GATEWAY_MAX_STREAM_MS = 3_600_000;
/** Default `streamKeepaliveMs`: a Server-Sent Events comment every 15 s keeps idle proxies from closing a quiet stream. */
export const DEFAULT_GATEWAY_STREAM_KEEPALIVE_MS = 15_000;
/** Default `streamWindow`: values a stream's server may send ahead of what the HTTP client's socket has taken. */
export const DEFAULT_GATEWAY_STREAM_WINDOW = 16;

/** Which web origins may call the gateway from a browser page. */
export interface CorsOptions {
  /** Allowed origins (`https://app.example.com`), or `'*'` for any. */
  readonly origins: readonly string[] | '*';
  /** Seconds a browser may cache a preflight answer. Default 600. */
  readonly maxAgeS?: number;
  /** Send `Access-Control-Allow-Credentials: true` (not allowed with `'*'`). Default false. */
  readonly credentials?: boolean;
}

/**
 * The HTTP side of a gateway: which services may be called, where JSON-RPC is, how metadata
 * travels in headers, CORS, and the limits. Also what `new Server({ http })` takes to answer
 * HTTP on its RPC port.
 *
 * Every limit has a safe default; a value out of range throws a RangeError naming it when the
 * gateway is created.
 *
 * @example
 * ```ts
 * const http: GatewayHttpOptions = { cors: { origins: ['https://app.example.com'] }, maxBodyBytes: 64 * 1024 };
 * ```
 */
export interface GatewayHttpOptions {
  /** Services that may be called; others answer 404 without touching discovery. Default: any. */
  readonly services?: readonly string[];
  /** Path of JSON-RPC 2.0 (`false`: off). Default `/jsonrpc`. */
  readonly jsonRpcPath?: string | false;
  /** Header prefix that carries metadata both ways (lower case). Default `phobos-meta-`. */
  readonly metadataPrefix?: string;
  /** Browser origins allowed to call (CORS). Default: none (same origin only). */
  readonly cors?: CorsOptions | false;
  /** Largest request body in bytes, after gzip. Default 1 MiB; past it 413. */
  readonly maxBodyBytes?: number;
  /** Time in ms for a request body to arrive whole. Default 10 s; past it 408. */
  readonly bodyTimeoutMs?: number;
  /** HTTP requests in flight at once. Default 1024; past it 429. */
  readonly maxInFlight?: number;
  /** Calls in one JSON-RPC batch. Default 100; past it the batch is refused (-32600). */
  readonly maxBatchSize?: number;
  /** Deadline of a call whose request names none, in ms. Default 30 s. */
  readonly timeoutMs?: number;
  /** Longest deadline a request may ask for (`Connect-Timeout-Ms`...), in ms. Default 5 min. */
  readonly maxTimeoutMs?: number;
  /** Replies of at least this many bytes are gzipped when the client accepts gzip. Default 1024. */
  readonly gzipThresholdBytes?: number;
  /**
   * Streams (Server-Sent Events, Connect server streams) served at once. Default 512; past it
   * 429 with `Retry-After: 1` (a Connect stream gets `resource_exhausted` in its end message).
   */
  readonly maxStreams?: number;
  /**
   * Longest a stream may run, in ms, and the cap on the deadline a stream request asks for
   * (`Connect-Timeout-Ms`...); `0`: none. Default 1 hour; past it the stream ends with
   * `deadline_exceeded` (on the server too).
   */
  readonly maxStreamMs?: number;
  /**
   * Interval in ms of the `: keepalive` comments a Server-Sent Events stream sends while its
   * socket keeps up; `0`: none. Default 15 s.
   */
  readonly streamKeepaliveMs?: number;
  /**
   * Credit window of a stream, in values (1 to 65,536): how far its server may run ahead of what
   * the HTTP client's socket has taken; more is granted as values are written and the socket
   * drains. Default 16.
   */
  readonly streamWindow?: number;
  /** Where the gateway reports what goes wrong unexpectedly. Default: the console. */
  readonly logger?: Logger;
}

/**
 * Options of a {@link Gateway}: where the services are (exactly one of `discovery`, `addresses`
 * or `backend`), the XClient options used to call them (fail mode, select mode, breaker,
 * retries, serialize type and compression of the backend hop...), and the HTTP side
 * ({@link GatewayHttpOptions}).
 *
 * @example
 * ```ts
 * const options: GatewayOptions = {
 *   discovery: (service) => etcdDiscovery({ hosts: 'http://127.0.0.1:2379', service }),
 *   failMode: 'failover',
 *   selectMode: 'roundRobin',
 * };
 * ```
 */
export interface GatewayOptions extends GatewayHttpOptions, Omit<XClientOptions, 'discovery' | 'timeoutMs'> {
  /** Finds the servers of a service (one Discovery per service, made on first use). */
  readonly discovery?: (service: string) => Discovery;
  /** A fixed list of servers that hold every service (`tcp@host:port`, `host:port`, `unix@...`). */
  readonly addresses?: readonly string[];
  /** Calls services some other way (a server in this process); replaces discovery and addresses. */
  readonly backend?: GatewayBackend;
  /** Services with an XClient at once; past it an idle one is closed. Default 256. */
  readonly maxServices?: number;
}

/** Gateway options with every default filled in. @internal */
export interface ResolvedGatewayOptions {
  readonly client: Omit<XClientOptions, 'discovery'>;
  readonly discovery: ((service: string) => Discovery) | undefined;
  readonly addresses: readonly string[] | undefined;
  readonly backend: GatewayBackend | undefined;
  readonly services: ReadonlySet<string> | undefined;
  readonly maxServices: number;
  readonly jsonRpcPath: string | undefined;
  readonly metadataPrefix: string;
  readonly cors: Required<CorsOptions> | undefined;
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
  readonly maxInFlight: number;
  readonly maxBatchSize: number;
  readonly timeoutMs: number;
  readonly maxTimeoutMs: number;
  readonly gzipThresholdBytes: number;
  readonly maxStreams: number;
  readonly maxStreamMs: number;
  readonly streamKeepaliveMs: number;
  readonly streamWindow: number;
  readonly logger: Logger;
  readonly scheduler: SchedulerLike;
}

/** The largest `streamWindow`. */
const MAX_GATEWAY_STREAM_WINDOW = 65_536;

const HEADER_TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;

/**
 * Resolves and checks gateway options once.
 *
 * @throws TypeError when options are not an object or no way to reach services is given (or
 *   more than one); RangeError naming an option out of range.
 * @internal
 */
export function resolveGatewayOptions(options: GatewayOptions | undefined): ResolvedGatewayOptions {
  const {
    discovery,
    addresses,
    backend,
    services,
    maxServices,
    jsonRpcPath,
    metadataPrefix,
    cors,
    maxBodyBytes,
    bodyTimeoutMs,
    maxInFlight,
    maxBatchSize,
    timeoutMs,
    maxTimeoutMs,
    gzipThresholdBytes,
    maxStreams,
    maxStreamMs,
    streamKeepaliveMs,
    streamWindow,
    logger,
    ...client
  } = optionsObject('gateway options', options);
  const ways = [discovery, addresses, backend].filter((way) => way !== undefined).length;
  if (ways !== 1) {
    throw new TypeError(
      'gateway options need exactly one of discovery (service => Discovery), addresses (a list of servers) or backend',
    );
  }
  functionOption('discovery', discovery);
  if (addresses !== undefined) {
    if (
      !Array.isArray(addresses) ||
      addresses.length === 0 ||
      !addresses.every((a) => typeof a === 'string')
    ) {
      throw new RangeError(`addresses must be a non-empty list of strings, got ${describeValue(addresses)}`);
    }
  }
  if (
    backend !== undefined &&
    (typeof backend?.call$ !== 'function' || typeof backend.close !== 'function')
  ) {
    throw new TypeError('backend must have call$(call) and close() methods');
  }
  if (backend?.stream$ !== undefined && typeof backend.stream$ !== 'function') {
    throw new TypeError(
      `backend.stream$ must be a function when given, got ${describeValue(backend.stream$)}`,
    );
  }
  if (services !== undefined && (!Array.isArray(services) || !services.every((s) => typeof s === 'string'))) {
    throw new RangeError(`services must be a list of service names, got ${describeValue(services)}`);
  }
  if (jsonRpcPath !== undefined && jsonRpcPath !== false) {
    if (typeof jsonRpcPath !== 'string' || !jsonRpcPath.startsWith('/'))
      throw new RangeError(
        `jsonRpcPath must be a path starting with "/" or false, got ${describeValue(jsonRpcPath)}`,
      );
  }
  const prefix = metadataPrefix ?? DEFAULT_GATEWAY_METADATA_PREFIX;
  if (typeof prefix !== 'string' || !HEADER_TOKEN.test(prefix)) {
    throw new RangeError(
      `metadataPrefix must be a lower-case HTTP header name prefix, got ${describeValue(metadataPrefix)}`,
    );
  }
  const maxTimeout = durationOption('maxTimeoutMs', maxTimeoutMs, DEFAULT_GATEWAY_MAX_TIMEOUT_MS, 1);
  const timeout = durationOption('timeoutMs', timeoutMs, Math.min(DEFAULT_GATEWAY_TIMEOUT_MS, maxTimeout), 1);
  if (timeout > maxTimeout)
    throw new RangeError(`timeoutMs (${timeout}) must not exceed maxTimeoutMs (${maxTimeout})`);
  return {
    client: { ...client, timeoutMs: timeout },
    discovery,
    addresses,
    backend,
    services: services === undefined ? undefined : new Set(services),
    maxServices: integerOption('maxServices', maxServices, DEFAULT_GATEWAY_MAX_SERVICES, 1),
    jsonRpcPath: jsonRpcPath === false ? undefined : (jsonRpcPath ?? DEFAULT_GATEWAY_JSON_RPC_PATH),
    metadataPrefix: prefix,
    cors: resolveCors(cors),
    maxBodyBytes: integerOption('maxBodyBytes', maxBodyBytes, DEFAULT_GATEWAY_MAX_BODY_BYTES, 0, 2 ** 31 - 1),
    bodyTimeoutMs: durationOption('bodyTimeoutMs', bodyTimeoutMs, DEFAULT_GATEWAY_BODY_TIMEOUT_MS, 1),
    maxInFlight: integerOption('maxInFlight', maxInFlight, DEFAULT_GATEWAY_MAX_IN_FLIGHT, 1),
    maxBatchSize: integerOption('maxBatchSize', maxBatchSize, DEFAULT_GATEWAY_MAX_BATCH_SIZE, 1),
    timeoutMs: timeout,
    maxTimeoutMs: maxTimeout,
    gzipThresholdBytes: integerOption(
      'gzipThresholdBytes',
      gzipThresholdBytes,
      DEFAULT_GATEWAY_GZIP_THRESHOLD_BYTES,
      0,
    ),
    maxStreams: integerOption('maxStreams', maxStreams, DEFAULT_GATEWAY_MAX_STREAMS, 1),
    maxStreamMs: durationOption('maxStreamMs', maxStreamMs, DEFAULT_GATEWAY_MAX_STREAM_MS, 0),
    streamKeepaliveMs: durationOption(
      'streamKeepaliveMs',
      streamKeepaliveMs,
      DEFAULT_GATEWAY_STREAM_KEEPALIVE_MS,
      0,
    ),
    streamWindow: integerOption(
      'streamWindow',
      streamWindow,
      DEFAULT_GATEWAY_STREAM_WINDOW,
      1,
      MAX_GATEWAY_STREAM_WINDOW,
    ),
    logger: loggerOption(logger),
    scheduler:
      client.scheduler === undefined ? asyncScheduler : schedulerOption('scheduler', client.scheduler),
  };
}

function resolveCors(cors: CorsOptions | false | undefined): Required<CorsOptions> | undefined {
  if (cors === undefined || cors === false) return undefined;
  const o = optionsObject('cors', cors);
  const origins = o.origins;
  if (
    origins !== '*' &&
    (!Array.isArray(origins) || !origins.every((origin) => typeof origin === 'string'))
  ) {
    throw new RangeError(`cors.origins must be '*' or a list of origins, got ${describeValue(origins)}`);
  }
  const credentials = o.credentials ?? false;
  if (typeof credentials !== 'boolean') {
    throw new RangeError(`cors.credentials must be a boolean, got ${describeValue(credentials)}`);
  }
  if (credentials && origins === '*') {
    throw new RangeError("cors.credentials cannot be true with origins '*': list the origins");
  }
  return {
    origins,
    maxAgeS: integerOption('cors.maxAgeS', o.maxAgeS, DEFAULT_GATEWAY_CORS_MAX_AGE_S, 0, 86_400),
    credentials,
  };
}
