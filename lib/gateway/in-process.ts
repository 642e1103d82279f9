import { createServer, type Server as HttpServer } from 'node:http';
import { defer, type Observable } from 'rxjs';
import { resolveConnectOptions } from '../client/connect-options.js';
import { Connection, type Reply } from '../client/connection.js';
import { ConnectionClosedError } from '../errors/index.js';
import type { ResolvedServerOptions } from '../server/server-options.js';
import { type ByteStream, memoryPipe } from '../transport/memory-pipe.js';
import { socketEndpoint } from '../transport/tcp-transport.js';
import type { ForwardCall, ForwardStream, GatewayBackend } from './backend.js';
import { DEFAULT_GATEWAY_HEADERS_TIMEOUT_MS, Gateway } from './gateway.js';
import { DEFAULT_GATEWAY_MAX_TIMEOUT_MS, type GatewayHttpOptions } from './gateway-options.js';

/**
 * A backend that calls a server in the same process over an in-memory pipe: the server serves it
 * as one more connection (its limits, `authorize`, interceptors and deadlines apply), with no
 * socket between. A pipe the server closed (idle, shutdown) is replaced at the next call.
 *
 * @internal
 */
export class InProcessBackend implements GatewayBackend {
  private connection: Connection | undefined;
  private closed = false;
  private readonly accept: (stream: ByteStream) => void;
  private readonly options: ResolvedServerOptions;

  constructor(accept: (stream: ByteStream) => void, options: ResolvedServerOptions) {
    this.accept = accept;
    this.options = options;
  }

  call$(call: ForwardCall): Observable<Reply<Uint8Array>> {
    return defer(() =>
      this.open().callWithMetadata$<Uint8Array>(call.service, call.method, call.payload, {
        raw: true,
        serializeType: call.serializeType,
        metadata: call.metadata,
        timeoutMs: call.timeoutMs,
        oneway: call.oneway,
      }),
    );
  }

  stream$(stream: ForwardStream): Observable<Reply<Uint8Array>> {
    return defer(() =>
      this.open().streamWithMetadata$<Uint8Array>(stream.service, stream.method, stream.payload, {
        raw: true,
        serializeType: stream.serializeType,
        metadata: stream.metadata,
        demand: stream.demand,
        ...(stream.timeoutMs > 0 ? { timeoutMs: stream.timeoutMs } : {}),
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    this.connection?.close();
    this.connection = undefined;
  }

  private open(): Connection {
    if (this.closed) throw new ConnectionClosedError('the server is shutting down', { details: {} });
    if (this.connection?.isOpen) return this.connection;
    const [client, server] = memoryPipe();
    this.accept(server);
    const { maxMessageBytes, maxMetadataEntries, maxMetadataBytes, maxDecompressedBytes, codecs, scheduler } =
      this.options;
    this.connection = new Connection(
      'in-process@',
      socketEndpoint(client),
      resolveConnectOptions({
        maxMessageBytes,
        maxMetadataEntries,
        maxMetadataBytes,
        maxDecompressedBytes,
        codecs,
        scheduler,
      }),
      () => {},
    );
    return this.connection;
  }
}

/**
 * What a server needs to answer HTTP on its RPC port: a gateway over an in-process backend, and
 * a node:http server (never listening itself) that the server hands HTTP connections to.
 *
 * @internal
 */
export function serveHttpInProcess(
  accept: (stream: ByteStream) => void,
  serverOptions: ResolvedServerOptions,
  http: GatewayHttpOptions,
): { gateway: Gateway; httpServer: HttpServer } {
  const gateway = new Gateway({
    logger: serverOptions.logger,
    ...http,
    backend: new InProcessBackend(accept, serverOptions),
  });
  // Request headers that started must finish within the frame timeout, as a frame must.
  const headersTimeoutMs = serverOptions.frameTimeoutMs || DEFAULT_GATEWAY_HEADERS_TIMEOUT_MS;
  const httpServer = createServer(
    { connectionsCheckingInterval: Math.min(headersTimeoutMs, 1_000) },
    gateway.handler,
  );
  httpServer.headersTimeout = headersTimeoutMs;
  httpServer.requestTimeout = headersTimeoutMs + DEFAULT_GATEWAY_MAX_TIMEOUT_MS;
  // This server never listens (the RPC port hands it connections), and node:http starts the
  // checks of its header and request timeouts only when one listens: start them as it would.
  httpServer.emit('listening');
  return { gateway, httpServer };
}
