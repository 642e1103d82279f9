export type { ClientCallOptions } from './client.js';
export { Client } from './client.js';
export { connect } from './connect.js';
export type { ConnectOptions, ProtobufTypes, ResolvedConnectOptions } from './connect-options.js';
export { DEFAULT_CONNECT_TIMEOUT_MS, resolveConnectOptions } from './connect-options.js';
export type {
  CallOptions,
  ConnectionHeartbeatOptions,
  ConnectionState,
  Reply,
  ServerPush,
} from './connection.js';
export { Connection } from './connection.js';
export type { HeartbeatOptions } from './heartbeat.js';
export { DEFAULT_HEARTBEAT_MAX_MISSES, heartbeat } from './heartbeat.js';
