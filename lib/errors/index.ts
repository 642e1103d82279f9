export type { ProtocolErrorOptions } from './errors.js';
export {
  CancelledError,
  CircuitOpenError,
  CodecError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  NoInstanceError,
  ProtocolError,
  ResourceExhaustedError,
  ServiceError,
  UnauthenticatedError,
} from './errors.js';
export type { RpcErrorCode, RpcErrorOptions } from './rpc-error.js';
export { RpcError } from './rpc-error.js';
