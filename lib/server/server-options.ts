import type { TlsOptions } from 'node:tls';
import type { ServiceRegistry } from '../discovery/service-registry.js';
import type { GatewayHttpOptions } from '../gateway/gateway-options.js';
import { DEFAULT_MAX_STREAM_BACKLOG } from '../protocol/constants.js';
import type { Metadata } from '../protocol/message.js';
import {
  type PayloadOptions,
  type ResolvedPayloadOptions,
  resolvePayloadOptions,
} from '../protocol/payload-options.js';
import { type Logger, loggerOption } from '../util/logger.js';
import {
  booleanOption,
  durationOption,
  functionOption,
  integerOption,
  optionsObject,
} from '../util/validate.js';
import { rateLimitedLogger } from './rate-limited-logger.js';

/**
 * Default of {@link ServerOptions.maxConcurrentRequests}: 1,000 calls per connection.
 *
 * @group Server
 */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 1_000;
/**
 * Default of {@link ServerOptions.maxQueuedRequests}: 10,000 requests per connection.
 *
 * @group Server
 */
export const DEFAULT_MAX_QUEUED_REQUESTS = 10_000;
/**
 * Default of {@link ServerOptions.idleTimeoutMs}: 10 minutes (twice the XClient's own idle close).
 *
 * @group Server
 */
export const DEFAULT_SERVER_IDLE_TIMEOUT_MS = 600_000;
/**
 * Default of {@link ServerOptions.frameTimeoutMs}: 30 seconds.
 *
 * @group Server
 */
export const DEFAULT_FRAME_TIMEOUT_MS = 30_000;
/**
 * Default of {@link ServerOptions.authTimeoutMs}: 10 seconds.
 *
 * @group Server
 */
export const DEFAULT_AUTH_TIMEOUT_MS = 10_000;
/**
 * Default of {@link ServerOptions.maxConnections}: 10,000.
 *
 * @group Server
 */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/**
 * Default of {@link ServerOptions.maxBufferedBytes}: 128 MiB.
 *
 * @group Server
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 128 * 1024 * 1024;
/**
 * Default of {@link ServerOptions.maxPushQueueBytes}: 1 MiB.
 *
 * @group Server
 */
export const DEFAULT_MAX_PUSH_QUEUE_BYTES = 1024 * 1024;
/**
 * Default of the `graceMs` of `Server.shutdown`: 10 seconds.
 *
 * @group Server
 */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * What `authorize` is told about the call it checks.
 *
 * @example
 * ```ts
 * const authorize = (token: string | undefined, info: AuthInfo) => token === tokens.get(info.service);
 * ```
 * @group Server
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
 * Return (or resolve) false to refuse: the call fails with `UnauthenticatedError` on the client,
 * and the connection closes (the calls running on it fail with `UnauthenticatedError` too). A
 * thrown error refuses too, with its message.
 * @group Server
 */
export type Authorize = (token: string | undefined, info: AuthInfo) => boolean | Promise<boolean>;

/**
 * Options of a {@link Server}. Every option is optional.
 *
 * @group Server
 */
export interface ServerOptions extends PayloadOptions {
  /** Checks the `__AUTH` token of every call (heartbeats excepted). Default: no check. */
  readonly authorize?: Authorize;
  /** Serve TLS with these options (key, cert, ca, requestCert...). Default: plain TCP. */
  readonly tls?: TlsOptions;
  /**
   * Calls served at once per connection. Past it, requests wait in the connection's queue
   * (`maxQueuedRequests`); the server keeps reading, so cancel notices, heartbeats and the
   * client's close are always seen. Default 1,000.
   */
  readonly maxConcurrentRequests?: number;
  /**
   * Requests that may wait per connection once `maxConcurrentRequests` are running. A request
   * past it (or past `maxBufferedBytes`) is answered at once with a `RESOURCE_EXHAUSTED` error
   * ("server busy", `ResourceExhaustedError` on the client), which the XClient's failover retries
   * on another server. Default 10,000.
   */
  readonly maxQueuedRequests?: number;
  /**
   * Values a streaming handler's Observable may emit ahead of its caller's credit, per stream.
   * They wait in the stream's queue until the caller grants more; one past it ends the stream
   * with a `RESOURCE_EXHAUSTED` error (the Observable is unsubscribed). A handler that returns
   * an async iterable is pulled as credit arrives (one value ahead at most). 0 allows none. Default
   * 1,024.
   */
  readonly maxStreamBacklog?: number;
  /**
   * Close a connection that has no call in flight, has sent no frame (heartbeats count) and was
   * sent no push for this long, in ms; 0 for never. Default 10 minutes.
   */
  readonly idleTimeoutMs?: number;
  /**
   * A frame must arrive whole within this many ms of its first byte, and replies queued for a
   * peer must start leaving (the peer must read) within it; else the connection is closed. Stops
   * slow senders and peers that never read. 0 for never. Default 30 s.
   */
  readonly frameTimeoutMs?: number;
  /**
   * With `authorize`: close a connection that has not presented a token `authorize` accepted
   * within this many ms of connecting (a call, or a heartbeat carrying `__AUTH`). Default 10 s.
   */
  readonly authTimeoutMs?: number;
  /** Connections open at once; a connection past it is closed as soon as it is accepted. Default 10,000. */
  readonly maxConnections?: number;
  /**
   * Bytes the whole server may hold in frames still arriving, requests waiting and replies not
   * yet taken by the socket. Past it, requests that would wait are answered "server busy", and
   * connections holding 64 KiB or more are closed until the server is back within it: those
   * that have not moved (no input, no output drained) for the longest first. Default 128 MiB.
   */
  readonly maxBufferedBytes?: number;
  /**
   * Per connection: `ctx.push()` refuses (returns false, nothing queued) while more than this
   * many bytes wait to be written to the peer. Default 1 MiB.
   */
  readonly maxPushQueueBytes?: number;
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
  /**
   * Answer HTTP on the RPC port too: a connection whose first bytes are not a Phobos or rpcx
   * frame is served by the gateway's protocols (plain JSON, JSON-RPC, Connect, the Go header
   * protocol), which call this server's services in process. `true` takes the gateway's
   * defaults; an object sets its HTTP options (checked at the first `listen`). Default false.
   */
  readonly http?: boolean | GatewayHttpOptions;
}

/**
 * {@link ServerOptions} with every default filled in.
 *
 * @group Server
 */
export interface ResolvedServerOptions extends ResolvedPayloadOptions {
  /** The auth check, if any. */
  readonly authorize: Authorize | undefined;
  /** TLS options, or undefined for plain TCP. */
  readonly tls: TlsOptions | undefined;
  /** Calls served at once per connection. */
  readonly maxConcurrentRequests: number;
  /** Requests that may wait per connection. */
  readonly maxQueuedRequests: number;
  /** Values a streaming handler's Observable may emit ahead of its caller's credit, per stream. */
  readonly maxStreamBacklog: number;
  /** Idle timeout in ms (0: none). */
  readonly idleTimeoutMs: number;
  /** Frame timeout in ms (0: none). */
  readonly frameTimeoutMs: number;
  /** Auth timeout in ms (0 when there is no `authorize`). */
  readonly authTimeoutMs: number;
  /** Connections open at once. */
  readonly maxConnections: number;
  /** Bytes held server-wide in arriving frames, waiting requests and unsent replies. */
  readonly maxBufferedBytes: number;
  /** Bytes waiting to be written past which `push()` refuses. */
  readonly maxPushQueueBytes: number;
  /** Registries the services are published in. */
  readonly registries: readonly ServiceRegistry[];
  /** Where problems are reported. */
  readonly logger: Logger;
  /** Whether unknown-service and unknown-method errors list what is registered. */
  readonly listMethodsInErrors: boolean;
  /** The HTTP options when the RPC port answers HTTP too, else undefined. */
  readonly http: GatewayHttpOptions | undefined;
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
 * @group Server
 */
export function resolveServerOptions(options: ServerOptions | undefined): ResolvedServerOptions {
  const o = optionsObject('server options', options);
  const payload = resolvePayloadOptions(o);
  if (o.tls !== undefined && (typeof o.tls !== 'object' || o.tls === null)) {
    throw new RangeError('tls must be an object of node:tls server options');
  }
  const authorize = functionOption('authorize', o.authorize);
  const authTimeoutMs = durationOption('authTimeoutMs', o.authTimeoutMs, DEFAULT_AUTH_TIMEOUT_MS, 1);
  return {
    ...payload,
    authorize,
    tls: o.tls,
    maxConcurrentRequests: integerOption(
      'maxConcurrentRequests',
      o.maxConcurrentRequests,
      DEFAULT_MAX_CONCURRENT_REQUESTS,
      1,
    ),
    maxQueuedRequests: integerOption(
      'maxQueuedRequests',
      o.maxQueuedRequests,
      DEFAULT_MAX_QUEUED_REQUESTS,
      0,
    ),
    maxStreamBacklog: integerOption('maxStreamBacklog', o.maxStreamBacklog, DEFAULT_MAX_STREAM_BACKLOG, 0),
    idleTimeoutMs: durationOption('idleTimeoutMs', o.idleTimeoutMs, DEFAULT_SERVER_IDLE_TIMEOUT_MS, 0),
    frameTimeoutMs: durationOption('frameTimeoutMs', o.frameTimeoutMs, DEFAULT_FRAME_TIMEOUT_MS, 0),
    authTimeoutMs: authorize === undefined ? 0 : authTimeoutMs,
    maxConnections: integerOption('maxConnections', o.maxConnections, DEFAULT_MAX_CONNECTIONS, 1),
    maxBufferedBytes: integerOption('maxBufferedBytes', o.maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES, 1),
    maxPushQueueBytes: integerOption(
      'maxPushQueueBytes',
      o.maxPushQueueBytes,
      DEFAULT_MAX_PUSH_QUEUE_BYTES,
      0,
    ),
    registries: registriesOption(o.registries),
    logger: rateLimitedLogger(loggerOption(o.logger), payload.scheduler),
    listMethodsInErrors: booleanOption('listMethodsInErrors', o.listMethodsInErrors, false),
    http: httpOption(o.http),
  };
}

function httpOption(value: unknown): GatewayHttpOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  return optionsObject('http', value as GatewayHttpOptions);
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
