import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describeThrown } from '../errors/describe-thrown.js';
import { describeValue, durationOption, integerOption, optionsObject } from '../util/validate.js';
import { type GatewayBackend, XClientBackend } from './backend.js';
import { applyCors } from './cors.js';
import { Exchange } from './exchange.js';
import {
  type GatewayOptions,
  type ResolvedGatewayOptions,
  resolveGatewayOptions,
} from './gateway-options.js';
import { type HeaderNames, headerProtocolOf, serveHeaderProtocol } from './header-dialect.js';
import { GatewayError } from './http-status.js';
import { isConnect, serveJson } from './json-dialect.js';
import { serveJsonRpc } from './json-rpc-dialect.js';
import { GatewayStreams, refuseStream, serveStream, streamDialectOf } from './stream-dialect.js';

/** Default `maxConnections` of a gateway's own listener. */
export const DEFAULT_GATEWAY_MAX_CONNECTIONS = 10_000;
/** Default `headersTimeoutMs` of a gateway's own listener: request headers must arrive within 10 s. */
export const DEFAULT_GATEWAY_HEADERS_TIMEOUT_MS = 10_000;
/** Default `graceMs` of {@link Gateway.close}. */
export const DEFAULT_GATEWAY_CLOSE_GRACE_MS = 10_000;

/** Options of {@link Gateway.listen}. */
export interface GatewayListenOptions {
  /** TLS key, certificate and the rest, for an `https://` address. */
  readonly tls?: HttpsServerOptions;
  /** Open connections at once; past it new ones are refused. Default 10,000. */
  readonly maxConnections?: number;
  /** Time in ms for a request's headers to arrive. Default 10 s; past it 408 and the connection closes. */
  readonly headersTimeoutMs?: number;
}

/** Options of {@link Gateway.close}. */
export interface GatewayCloseOptions {
  /** How long requests in flight may take to finish, in ms; the rest are cancelled. Default 10 s. */
  readonly graceMs?: number;
}

/**
 * An HTTP gateway to Phobos services: one port that answers web pages, curl, JSON-RPC 2.0 and
 * Connect clients, and the Go Phobos and rpcx gateway header protocols, and forwards each call
 * through an XClient per service (fail mode, selection, breakers, retries and timeouts as the
 * options say), or through a server in the same process.
 *
 * Requests are told apart by headers and path: `MRPC-Gateway-*` / `X-RPCX-*` headers → the Go
 * header protocol; `POST {jsonRpcPath}` → JSON-RPC 2.0; `POST /{service}/{method}` with
 * `Connect-Protocol-Version` or `application/proto` → Connect unary; `application/connect+json`
 * (or `+proto`) → a Connect server stream; `Accept: text/event-stream` (`GET
 * /{service}/{method}?args=<JSON>` or `POST`) → a stream as Server-Sent Events; other `POST
 * /{service}/{method}` → plain JSON. Errors carry real HTTP statuses.
 *
 * Every limit has a default: body size (413), body time (408), headers time, requests in flight
 * (429), batch size, deadline, streams at once (429) and their length; a client that goes away
 * cancels its call or stream on the server, and a stream's server sends only as fast as the
 * client's socket takes its values.
 *
 * @example
 * ```ts
 * const gateway = new Gateway({ addresses: ['tcp@127.0.0.1:8972'], cors: { origins: ['https://app.example.com'] } });
 * console.log(await gateway.listen('http://0.0.0.0:8080'));
 * // curl -d '{"First":"budei"}' -H 'Content-Type: application/json' localhost:8080/HelloWorld/Greet
 * // curl -N -H 'Accept: text/event-stream' localhost:8080/Ticker/Prices -G --data-urlencode 'args="ACME"'
 * process.on('SIGTERM', () => void gateway.close());
 * ```
 */
export class Gateway {
  /**
   * The gateway as a node:http request listener, to mount in a server of one's own
   * (`http.createServer(gateway.handler)`, Express `app.use(gateway.handler)`, or Fastify's raw
   * server). It never throws; every failure is answered.
   */
  readonly handler: (request: IncomingMessage, response: ServerResponse) => void;
  private readonly options: ResolvedGatewayOptions;
  private readonly backend: GatewayBackend;
  private readonly servers: Server[] = [];
  private readonly streams: GatewayStreams;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  /**
   * @throws TypeError when options are not an object, or name not exactly one of `discovery`,
   *   `addresses` and `backend`; RangeError naming an option out of range (also the XClient
   *   options: an unknown `failMode`, `retries: -1`...).
   */
  constructor(options: GatewayOptions) {
    this.options = resolveGatewayOptions(options);
    this.streams = new GatewayStreams(this.options.maxStreams);
    const { discovery, addresses, backend, client, maxServices } = this.options;
    if (backend) this.backend = backend;
    else if (discovery) this.backend = new XClientBackend({ discovery }, client, maxServices);
    else this.backend = new XClientBackend({ addresses: addresses ?? [] }, client, maxServices);
    this.handler = (request, response) => this.handle(request, response);
  }

  /** HTTP requests being served now (streams included). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Streams (Server-Sent Events, Connect server streams) being served now. */
  get streamsInFlight(): number {
    return this.streams.size;
  }

  /**
   * Listens on its own: `http://host:port` or `https://host:port` (port 0 picks a free one).
   *
   * @returns the bound URL, e.g. `http://127.0.0.1:40123`.
   * @throws TypeError for an address that is not an http(s) URL with a port, or `https` without
   *   `tls`; rejects when the address cannot be bound or the gateway is closing.
   * @example
   * ```ts
   * const url = await gateway.listen('https://0.0.0.0:8443', { tls: { key, cert } });
   * ```
   */
  async listen(address: string, options?: GatewayListenOptions): Promise<string> {
    if (this.closing) throw new GatewayError('unavailable', 'the gateway is closed; create a new one');
    const o = optionsObject('listen options', options);
    let url: URL;
    try {
      url = new URL(address);
    } catch {
      throw new TypeError(`address must be a URL like http://0.0.0.0:8080, got ${describeValue(address)}`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.port === '' || url.pathname !== '/') {
      throw new TypeError(
        `address must be http://host:port or https://host:port, got ${describeValue(address)}`,
      );
    }
    if (url.protocol === 'https:' && o.tls === undefined) {
      throw new TypeError('an https:// address needs the tls option (key and cert)');
    }
    const maxConnections = integerOption(
      'maxConnections',
      o.maxConnections,
      DEFAULT_GATEWAY_MAX_CONNECTIONS,
      1,
    );
    const headersTimeoutMs = durationOption(
      'headersTimeoutMs',
      o.headersTimeoutMs,
      DEFAULT_GATEWAY_HEADERS_TIMEOUT_MS,
      1,
    );
    // Node checks header and request timeouts on this interval (30 s unless told).
    const checking = { connectionsCheckingInterval: Math.min(headersTimeoutMs, 1_000) };
    const server =
      url.protocol === 'https:'
        ? createHttpsServer({ ...o.tls, ...checking }, this.handler)
        : createHttpServer(checking, this.handler);
    server.maxConnections = maxConnections;
    server.headersTimeout = headersTimeoutMs;
    // The body's own clock is bodyTimeoutMs; this only bounds a request that never ends.
    server.requestTimeout = Math.max(
      headersTimeoutMs,
      this.options.bodyTimeoutMs + this.options.maxTimeoutMs,
    );
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(url.port), host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.servers.push(server);
    const bound = server.address() as AddressInfo;
    const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
    return `${url.protocol}//${shown}:${bound.port}`;
  }

  /**
   * Closes gracefully: stops accepting connections, answers new requests 503, ends streams at
   * once (`unavailable`, cancelled on the server), lets other requests in flight finish for up to
   * `graceMs` (then cancels them), closes idle keep-alive connections and the XClients. Calling
   * it again returns the same promise.
   *
   * @throws RangeError when `graceMs` is not an integer >= 0.
   * @example
   * ```ts
   * process.on('SIGTERM', () => void gateway.close({ graceMs: 5_000 }));
   * ```
   */
  close(options?: GatewayCloseOptions): Promise<void> {
    const graceMs = durationOption(
      'graceMs',
      optionsObject('close options', options).graceMs,
      DEFAULT_GATEWAY_CLOSE_GRACE_MS,
      0,
    );
    this.closing ??= this.drain(graceMs);
    return this.closing;
  }

  private async drain(graceMs: number): Promise<void> {
    const stopped = Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    for (const server of this.servers) server.closeIdleConnections();
    // A stream may never end by itself: each is cancelled now, its client told why.
    this.streams.stopAll(
      new GatewayError('unavailable', 'the gateway is shutting down; retry on another', { retryAfterS: 1 }),
    );
    if (this.inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.options.scheduler.schedule(() => resolve(), graceMs);
        this.idle = () => {
          timer.unsubscribe();
          resolve();
        };
      });
    }
    for (const server of this.servers) server.closeAllConnections();
    await this.backend.close();
    await stopped;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    this.inFlight++;
    response.once('close', () => {
      this.inFlight--;
      if (this.inFlight === 0) this.idle?.();
    });
    this.serve(request, response).catch((error: unknown) => {
      this.options.logger.warn(`gateway: request failed unexpectedly: ${describeThrown(error)}`, {
        method: request.method,
        url: request.url,
      });
      if (!response.headersSent) {
        response.statusCode = 500;
        response.end();
      } else response.destroy();
    });
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (applyCors(request, response, this.options.cors)) return;
    const exchange = new Exchange(request, response, this.options, this.backend);
    const names = headerProtocolOf(request.headers);
    const jsonRpc = names === undefined && exchange.path === this.options.jsonRpcPath;
    const stream = names === undefined && !jsonRpc ? streamDialectOf(exchange) : undefined;
    if (this.closing !== undefined || this.inFlight > this.options.maxInFlight) {
      const closing = this.closing !== undefined;
      const error = closing
        ? new GatewayError('unavailable', 'the gateway is shutting down; retry on another', {
            retryAfterS: 1,
          })
        : new GatewayError(
            'resource_exhausted',
            `more than ${this.options.maxInFlight} requests in flight; retry later`,
            {
              retryAfterS: 1,
            },
          );
      if (closing) response.setHeader('Connection', 'close');
      if (stream) await refuseStream(exchange, stream, error);
      else await refuse(exchange, error, names, jsonRpc);
      return;
    }
    if (names) await serveHeaderProtocol(exchange, names);
    else if (jsonRpc) await serveJsonRpc(exchange);
    else if (stream) await serveStream(exchange, stream, this.streams);
    else await serveJson(exchange, isConnect(exchange) ? 'connect' : 'json');
  }
}

/** Answers a request the gateway will not serve, in its dialect's shape. */
async function refuse(
  exchange: Exchange,
  error: GatewayError,
  names: HeaderNames | undefined,
  jsonRpc: boolean,
): Promise<void> {
  exchange.retryAfter(error);
  if (names) {
    exchange.response.setHeader(names.statusType, 'Error');
    exchange.response.setHeader(names.errorMessage, error.message);
    await exchange.end(error.status, new Uint8Array(0));
  } else if (jsonRpc) {
    await exchange.endJson(error.status, {
      jsonrpc: '2.0',
      id: null,
      error: { code: error.jsonRpcCode, message: error.message, data: { code: error.code } },
    });
  } else {
    await exchange.endJson(error.status, {
      code: error.code,
      message: error.message,
      details: error.details,
    });
  }
}
