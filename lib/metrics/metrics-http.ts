import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { describeValue, durationOption, optionsObject } from '../util/validate.js';
import { promClient } from './prom-client.js';

const { collectDefaultMetrics, register } = promClient;

/** Default of {@link ServeMetricsOptions.path}. */
export const DEFAULT_METRICS_PATH = '/metrics';

/** Default of {@link ServeMetricsOptions.maxConnections}. */
export const DEFAULT_METRICS_MAX_CONNECTIONS = 64;

/** Default of {@link ServeMetricsOptions.headersTimeoutMs}. */
export const DEFAULT_METRICS_HEADERS_TIMEOUT_MS = 10_000;

/** Default of {@link ServeMetricsOptions.requestTimeoutMs}. */
export const DEFAULT_METRICS_REQUEST_TIMEOUT_MS = 30_000;

/**
 * A node:http request listener that answers `GET` (and `HEAD`) with the registry's metrics in
 * the Prometheus text format; other methods get 405. It reads no request body: a request that
 * has one is answered, then its connection closed.
 *
 * @throws TypeError when `registry` is not a prom-client Registry.
 * @example
 * ```ts
 * const handler = metricsHandler(register);
 * http.createServer((req, res) => (req.url === '/metrics' ? handler(req, res) : app(req, res))).listen(8080);
 * ```
 */
export function metricsHandler(
  registry: Registry = register,
): (request: IncomingMessage, response: ServerResponse) => void {
  if (typeof registry?.metrics !== 'function')
    throw new TypeError(`registry must be a prom-client Registry, got ${describeValue(registry)}`);
  return (request, response) => {
    refuseBody(request, response);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
      response.end('only GET and HEAD are served here\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, {
          'Content-Type': registry.contentType,
          'Content-Length': Buffer.byteLength(text),
        });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'Content-Type': 'text/plain' });
        response.end(
          `collecting the metrics failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      },
    );
  };
}

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /** Where to listen: `host:port` (`[::1]:9464` for IPv6; port 0 picks a free one). Required. */
  readonly address: string;
  /** The metrics to serve. Default prom-client's global `register`. */
  readonly registry?: Registry;
  /** The path served; every other path gets 404. Default `/metrics`. */
  readonly path?: string;
  /** The most connections at once; more are refused. Default 64. */
  readonly maxConnections?: number;
  /** How long a connection may take to send a request's headers; then 408 and closed. Default 10 s. */
  readonly headersTimeoutMs?: number;
  /** How long a whole request may take to arrive; then 408 and closed. Default 30 s. */
  readonly requestTimeoutMs?: number;
  /**
   * Also collects Node process metrics into the registry (prom-client's `collectDefaultMetrics`:
   * CPU, memory, event loop lag, GC), once per registry. Default false.
   */
  readonly processMetrics?: boolean;
}

/** Registries that already collect the process metrics. */
const collectingProcess = new WeakSet<Registry>();

/** A running {@link serveMetrics}. */
export interface MetricsServer {
  /** The URL of the metrics, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly url: string;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/**
 * Serves the registry's metrics over HTTP on an address of its own, for Prometheus to scrape.
 * Limits: headers within `headersTimeoutMs` (10 s), a request within `requestTimeoutMs` (30 s),
 * `maxConnections` (64) at once, headers within Node's 16 KiB; only `path` is served.
 *
 * @throws TypeError or RangeError at once for bad options (an address that is not `host:port`, a
 *   path that does not start with `/`); rejects when the address cannot be bound.
 * @example
 * ```ts
 * const metrics = await serveMetrics({ address: '0.0.0.0:9464' });
 * console.log(`metrics on ${metrics.url}`);
 * ```
 */
export async function serveMetrics(options: ServeMetricsOptions): Promise<MetricsServer> {
  const o = optionsObject('serveMetrics options', options);
  const { host, port } = hostPort(o.address);
  const path = o.path ?? DEFAULT_METRICS_PATH;
  if (typeof path !== 'string' || !path.startsWith('/'))
    throw new RangeError(`path must start with /, got ${describeValue(path)}`);
  const maxConnections = o.maxConnections ?? DEFAULT_METRICS_MAX_CONNECTIONS;
  if (!Number.isInteger(maxConnections) || maxConnections < 1)
    throw new RangeError(`maxConnections must be an integer >= 1, got ${describeValue(maxConnections)}`);
  const headersTimeoutMs = durationOption(
    'headersTimeoutMs',
    o.headersTimeoutMs,
    DEFAULT_METRICS_HEADERS_TIMEOUT_MS,
    1,
  );
  const requestTimeoutMs = durationOption(
    'requestTimeoutMs',
    o.requestTimeoutMs,
    Math.max(DEFAULT_METRICS_REQUEST_TIMEOUT_MS, headersTimeoutMs),
    1,
  );
  if (requestTimeoutMs < headersTimeoutMs)
    throw new RangeError(
      `requestTimeoutMs (${requestTimeoutMs}) must be at least headersTimeoutMs (${headersTimeoutMs})`,
    );
  if (o.processMetrics !== undefined && typeof o.processMetrics !== 'boolean')
    throw new RangeError(`processMetrics must be a boolean, got ${describeValue(o.processMetrics)}`);
  const registry = o.registry ?? register;
  const handler = metricsHandler(registry);
  if (o.processMetrics && !collectingProcess.has(registry)) {
    collectingProcess.add(registry);
    collectDefaultMetrics({ register: registry });
  }
  // Node checks both clocks on this period: short ones need a short period to be kept.
  const checking = { connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs) };
  const server: HttpServer = createServer(checking, (request, response) => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    if ((query < 0 ? url : url.slice(0, query)) !== path) {
      refuseBody(request, response);
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      response.end(`metrics are at ${path}\n`);
      return;
    }
    handler(request, response);
  });
  server.headersTimeout = headersTimeoutMs;
  server.requestTimeout = requestTimeoutMs;
  server.maxConnections = maxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shown}:${bound.port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A request body is never read here: a response to a request that has one closes its connection,
 * rather than let node:http read the body to the end to keep the connection alive.
 */
function refuseBody(request: IncomingMessage, response: ServerResponse): void {
  const length = request.headers['content-length'];
  if ((length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined)
    response.shouldKeepAlive = false;
}

function hostPort(address: unknown): { host: string; port: number } {
  const match = typeof address === 'string' ? /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(address) : null;
  const port = Number(match?.[2]);
  if (!match || port > 65_535)
    throw new RangeError(
      `address must be host:port (port 0 picks a free one), got ${describeValue(address)}`,
    );
  const host = match[1] as string;
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}
