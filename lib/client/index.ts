export { DEFAULT_STREAM_WINDOW } from '../protocol/constants.js';
export { unrefScheduler } from '../util/unref-scheduler.js';
export type { AttemptFailure } from './attempt-failures.js';
export type { ClientCallOptions } from './client.js';
export { Client } from './client.js';
export { connect } from './connect.js';
export type { ConnectOptions, ProtobufTypes, ResolvedConnectOptions } from './connect-options.js';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  resolveConnectOptions,
} from './connect-options.js';
export type {
  CallOptions,
  ConnectionState,
  Reply,
  ServerPush,
  StreamOptions,
} from './connection.js';
export { Connection } from './connection.js';
export type { HeartbeatOptions } from './heartbeat.js';
export { DEFAULT_HEARTBEAT_MAX_MISSES, heartbeat } from './heartbeat.js';
export type {
  AttemptKind,
  ClientCall,
  ClientHandler,
  ClientInterceptor,
  ClientStage,
  ClientUseOptions,
} from './interceptor.js';
export { withMetadata } from './interceptor.js';
export type { InformResult, ServiceProxy, StreamingMethods, ValueOf } from './xclient.js';
export { XClient } from './xclient.js';
export type {
  BreakerEvent,
  HeartbeatEvent,
  InstanceState,
  RetryBudgetExhaustedEvent,
  XClientEvent,
} from './xclient-event.js';
export type { FailMode, XClientOptions } from './xclient-options.js';
export {
  DEFAULT_BACKUP_DELAY_MS,
  DEFAULT_FAIL_MODE,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_SELECT_MODE,
} from './xclient-options.js';
