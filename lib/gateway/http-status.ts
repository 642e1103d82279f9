import { RpcError } from '../errors/index.js';

/**
 * The Connect protocol's error codes (connectrpc.com), which the gateway also uses in the JSON
 * error bodies of its other dialects.
 *
 * @example
 * ```ts
 * const code: ConnectCode = 'not_found';
 * ```
 */
export type ConnectCode =
  | 'canceled'
  | 'unknown'
  | 'invalid_argument'
  | 'deadline_exceeded'
  | 'not_found'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'failed_precondition'
  | 'unimplemented'
  | 'internal'
  | 'unavailable'
  | 'unauthenticated';

/** The HTTP status of each code, as the Connect protocol maps them. */
const STATUS: Readonly<Record<ConnectCode, number>> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  unauthenticated: 401,
};

/**
 * JSON-RPC 2.0 error codes: the standard ones, and the server errors (-32000..-32099) the
 * gateway uses for the rest.
 */
const JSON_RPC: Readonly<Record<ConnectCode, number>> = {
  canceled: -32008,
  unknown: -32000,
  invalid_argument: -32602,
  deadline_exceeded: -32001,
  not_found: -32601,
  permission_denied: -32005,
  resource_exhausted: -32003,
  failed_precondition: -32602,
  unimplemented: -32601,
  internal: -32603,
  unavailable: -32002,
  unauthenticated: -32004,
};

/**
 * A failure the gateway answers: its Connect code, the HTTP status (which may be more precise
 * than the code's: 408, 413, 415, 502), a message for the client, and safe details.
 *
 * @internal
 */
export class GatewayError extends Error {
  readonly code: ConnectCode;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>>;
  /** Seconds after which a retry may succeed (`Retry-After`). */
  readonly retryAfterS: number | undefined;

  constructor(
    code: ConnectCode,
    message: string,
    options: { status?: number; details?: Readonly<Record<string, unknown>>; retryAfterS?: number } = {},
  ) {
    super(message);
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.details = options.details ?? {};
    this.retryAfterS = options.retryAfterS;
  }

  /** The JSON-RPC 2.0 error code of this failure. */
  get jsonRpcCode(): number {
    return JSON_RPC[this.code];
  }
}

/**
 * What an HTTP client is told when a call failed: the status and code by the error's kind, the
 * message, and details that say which call failed and why, never where the backend servers are.
 *
 * @internal
 */
export function gatewayErrorOf(error: unknown, service: string, method: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const rpc = RpcError.from(error);
  const details: Record<string, unknown> = { service, method };
  const reason = rpc.details.reason;
  if (typeof reason === 'string') details.reason = reason;
  switch (rpc.code) {
    case 'SERVICE_ERROR':
      if (reason === 'NOT_FOUND') return new GatewayError('not_found', rpc.message, { details });
      if (reason === 'INVALID_ARGUMENT')
        return new GatewayError('invalid_argument', rpc.message, { details });
      return new GatewayError('unknown', rpc.message, { details });
    case 'DEADLINE_EXCEEDED':
      return new GatewayError('deadline_exceeded', rpc.message, { details });
    case 'CANCELLED':
      return new GatewayError('canceled', rpc.message, { details });
    case 'UNAUTHENTICATED':
      return new GatewayError('unauthenticated', rpc.message, { details });
    case 'RESOURCE_EXHAUSTED':
      return new GatewayError('resource_exhausted', rpc.message, { details, retryAfterS: 1 });
    case 'NO_INSTANCE':
    case 'CIRCUIT_OPEN':
    case 'UNAVAILABLE':
      return new GatewayError('unavailable', rpc.message, { details, retryAfterS: 1 });
    case 'CONNECTION_CLOSED':
    case 'PROTOCOL_ERROR':
      return new GatewayError('unavailable', rpc.message, { details, status: 502, retryAfterS: 1 });
    case 'CODEC_ERROR':
      return new GatewayError('internal', rpc.message, { details, status: 502 });
    default:
      return new GatewayError('internal', rpc.message, { details });
  }
}
