/**
 * The HTTP gateway: web pages, curl, JSON-RPC 2.0 and Connect clients, and the Go Phobos and
 * rpcx gateway header protocols, calling Phobos services over one HTTP port; streams as
 * Server-Sent Events and Connect server streams.
 *
 * @module phobos/gateway
 */
export type { ForwardCall, ForwardStream, GatewayBackend } from './backend.js';
export type { GatewayCloseOptions, GatewayListenOptions } from './gateway.js';
export {
  DEFAULT_GATEWAY_CLOSE_GRACE_MS,
  DEFAULT_GATEWAY_HEADERS_TIMEOUT_MS,
  DEFAULT_GATEWAY_MAX_CONNECTIONS,
  Gateway,
} from './gateway.js';
export type { CorsOptions, GatewayHttpOptions, GatewayOptions } from './gateway-options.js';
export {
  DEFAULT_GATEWAY_BODY_TIMEOUT_MS,
  DEFAULT_GATEWAY_CORS_MAX_AGE_S,
  DEFAULT_GATEWAY_GZIP_THRESHOLD_BYTES,
  DEFAULT_GATEWAY_JSON_RPC_PATH,
  DEFAULT_GATEWAY_MAX_BATCH_SIZE,
  DEFAULT_GATEWAY_MAX_BODY_BYTES,
  DEFAULT_GATEWAY_MAX_IN_FLIGHT,
  DEFAULT_GATEWAY_MAX_SERVICES,
  DEFAULT_GATEWAY_MAX_STREAM_MS,
  DEFAULT_GATEWAY_MAX_STREAMS,
  DEFAULT_GATEWAY_MAX_TIMEOUT_MS,
  DEFAULT_GATEWAY_METADATA_PREFIX,
  DEFAULT_GATEWAY_STREAM_KEEPALIVE_MS,
  DEFAULT_GATEWAY_STREAM_WINDOW,
  DEFAULT_GATEWAY_TIMEOUT_MS,
} from './gateway-options.js';
export type { ConnectCode } from './http-status.js';
