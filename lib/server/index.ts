export type { Logger } from '../util/logger.js';
export { consoleLogger, silentLogger } from '../util/logger.js';
export type { CallContext, PushOptions, ServerConnection } from './call-context.js';
export type { ServerCall, ServerHandler, ServerInterceptor } from './interceptor.js';
export type { ServeClusterOptions, ServerCluster } from './serve-cluster.js';
export {
  CLUSTER_EXIT_MARGIN_MS,
  DEFAULT_CLUSTER_MAX_RESTARTS_PER_MINUTE,
  DEFAULT_CLUSTER_RESTART_DELAY_MS,
  serveCluster,
} from './serve-cluster.js';
export type { ListenAdvertiseOptions, ShutdownOptions } from './server.js';
export { Server } from './server.js';
export type {
  CallFinishedEvent,
  CallStartedEvent,
  ConnectionClosedEvent,
  ConnectionOpenedEvent,
  ProtocolErrorEvent,
  ProtocolErrorReason,
  ServerEvent,
} from './server-event.js';
export type { AuthInfo, Authorize, ResolvedServerOptions, ServerOptions } from './server-options.js';
export {
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PUSH_QUEUE_BYTES,
  DEFAULT_MAX_QUEUED_REQUESTS,
  DEFAULT_SERVER_IDLE_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  resolveServerOptions,
} from './server-options.js';
export type { MethodTypes, RegisterOptions, Service, ServiceMethod } from './service.js';
