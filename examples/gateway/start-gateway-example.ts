import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { Gateway, type GatewayOptions } from '../../lib/gateway/index.js';
import { formatAddress, parseAddress } from '../../lib/index.js';
import { etcdDiscovery } from '../../lib/registry/index.js';

/**
 * What {@link startGatewayExample} serves and where the gateway finds the Phobos servers: a
 * fixed list (`addrs`) or etcd (`etcd`, `base`), never both.
 *
 * @example
 * ```ts
 * const options: GatewayExampleOptions = { http: '127.0.0.1:8080', addrs: ['localhost:8972'] };
 * ```
 */
export interface GatewayExampleOptions {
  /** Where the HTTP server listens: `host:port` (`[::1]:8080` for IPv6; port 0 picks a free port). */
  readonly http: string;
  /** The Phobos servers: `host:port`, `tcp@host:port` or `unix@/path`. */
  readonly addrs?: readonly string[];
  /** etcd client URLs, comma-separated, to discover the servers in (`http://127.0.0.1:2379`). */
  readonly etcd?: string;
  /** The registry's base path in etcd. Default `/phobos`; only with `etcd`. */
  readonly base?: string;
  /** The origins allowed to call the gateway from a browser, or `'*'` for any. Default: none. */
  readonly cors?: readonly string[] | '*';
  /** The path of the JSON-RPC 2.0 endpoint. Default: the gateway's (`/jsonrpc`). */
  readonly jsonRpcPath?: string;
}

/** A running {@link startGatewayExample}. */
export interface GatewayExample {
  /** The URL the HTTP server listens on, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  /** The gateway that answers every request but the page's. */
  readonly gateway: Gateway;
  /**
   * Stops accepting connections, lets the calls in flight finish, then closes the gateway and
   * every connection. Idempotent.
   */
  close(): Promise<void>;
}

/** The page served at `GET /`. */
export const PAGE_FILE = new URL('./index.html', import.meta.url);

/** The default of {@link GatewayExampleOptions.base}. */
export const DEFAULT_BASE_PATH = '/phobos';

/**
 * Starts an HTTP server that serves the example page (`index.html`) at `GET /` and hands every
 * other request to a {@link Gateway} in front of the HelloWorld servers.
 *
 * @throws TypeError or RangeError at once, before anything listens, for bad options: an `http`
 *   address that is not `host:port`, a bad server address, neither or both of `addrs` and
 *   `etcd`, a `base` without `etcd`, and whatever the gateway itself refuses.
 * @returns a promise that rejects when the server cannot listen (a port in use).
 * @example
 * ```ts
 * const example = await startGatewayExample({ http: '127.0.0.1:0', addrs: ['localhost:8972'] });
 * console.log(`gateway on ${example.url}`);
 * await example.close();
 * ```
 */
export function startGatewayExample(options: GatewayExampleOptions): Promise<GatewayExample> {
  const listenOn = parseHttpAddress(options.http);
  const gateway = new Gateway({
    ...servers(options),
    ...(options.cors === undefined ? {} : { cors: { origins: options.cors } }),
    ...(options.jsonRpcPath === undefined ? {} : { jsonRpcPath: options.jsonRpcPath }),
  });
  const page = readFileSync(PAGE_FILE);

  const inFlight = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;
  const server = createServer((request, response) => {
    // While closing, a connection is ended after its response instead of being kept alive.
    if (closing !== undefined) response.setHeader('connection', 'close');
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
    if (isPageRequest(request)) servePage(request, response, page);
    else gateway.handler(request, response);
  });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const response of inFlight) {
        if (!response.headersSent) response.setHeader('connection', 'close');
        response.once('finish', () => server.closeIdleConnections());
      }
      server.closeIdleConnections();
      // The gateway lets its calls finish and closes the discoveries it made, with their
      // XClients; what is left open then is idle (a browser keeps and preopens connections).
      await gateway.close();
      server.closeAllConnections();
      await closed;
    })();
    return closing;
  };

  return new Promise<GatewayExample>((resolve, reject) => {
    const failed = (error: Error): void => {
      void gateway.close();
      reject(error);
    };
    server.once('error', failed);
    server.listen(listenOn.port, listenOn.host, () => {
      server.off('error', failed);
      const url = httpUrl(server.address() as AddressInfo);
      resolve({ url, gateway, close });
    });
  });
}

/** The gateway's source of servers: the fixed list, or one etcd discovery per service. */
function servers(options: GatewayExampleOptions): Pick<GatewayOptions, 'addresses' | 'discovery'> {
  const { addrs, etcd, base } = options;
  if (addrs !== undefined && etcd !== undefined) throw new RangeError('give addrs or etcd, not both');
  if (base !== undefined && etcd === undefined) throw new RangeError('base needs etcd');
  if (etcd !== undefined) {
    const connection = { hosts: etcd, basePath: base ?? DEFAULT_BASE_PATH };
    // Checks the etcd options now rather than at the first request (a handle watches nothing
    // until subscribed).
    void etcdDiscovery({ ...connection, service: 'HelloWorld' }).close();
    return { discovery: (service) => etcdDiscovery({ ...connection, service }) };
  }
  if (addrs === undefined || addrs.length === 0) throw new RangeError('addrs must list at least one server');
  return { addresses: addrs.map((address) => formatAddress(parseAddress(address))) };
}

/**
 * Parses `host:port` or `http://host:port` into what `server.listen` takes.
 *
 * @throws RangeError when `text` has no host or no port, or a port outside 0..65535.
 */
export function parseHttpAddress(text: string): { host: string; port: number } {
  const bare = text.startsWith('http://') ? text.slice('http://'.length).replace(/\/$/, '') : text;
  const match = /^(\[[^\]]+\]|[^:[\]/]+):(\d+)$/.exec(bare);
  const port = Number(match?.[2]);
  if (match?.[1] === undefined || port > 65535) {
    throw new RangeError(`http address "${text}" is not host:port (a port in 0..65535; [::1]:port for IPv6)`);
  }
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function httpUrl(address: AddressInfo): string {
  const host = isIP(address.address) === 6 ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function isPageRequest(request: IncomingMessage): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = (request.url ?? '').split('?')[0];
  return path === '/' || path === '/index.html';
}

function servePage(request: IncomingMessage, response: ServerResponse, page: Buffer): void {
  response.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': page.length,
    'cache-control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : page);
}
