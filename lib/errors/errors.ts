import { PLATFORM_ERRORS, RpcError, type RpcErrorOptions } from './rpc-error.js';

/**
 * The remote handler failed: the server answered with an error reply. The message is the one
 * the server sent. Never retried by the governance operators, since another attempt would fail
 * the same way.
 *
 * @example
 * ```ts
 * try { await client.call('Arith', 'Div', { A: 1, B: 0 }); }
 * catch (error) { if (error instanceof ServiceError) console.log(error.message); } // "divide by zero"
 * ```
 * @group Errors
 */
export class ServiceError extends RpcError {
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { ...options, code: 'SERVICE_ERROR' });
  }
}

/**
 * The call did not finish before its deadline (`timeoutMs`). The server was told the deadline
 * through `__ServerTimeout` and gives up too. `details.timeoutMs` holds the deadline.
 *
 * @example
 * ```ts
 * await client.call('Slow', 'Run', {}, { timeoutMs: 100 }).catch((e) => e instanceof DeadlineExceededError);
 * ```
 * @group Errors
 */
export class DeadlineExceededError extends RpcError {
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { ...options, code: 'DEADLINE_EXCEEDED' });
  }
}

/**
 * The caller gave up on the call (an `AbortSignal` fired). The server was told, and the
 * handler's `ctx.signal` aborts on a Phobos for TypeScript server.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * const reply = client.call('Slow', 'Run', {}, { signal: controller.signal });
 * controller.abort();
 * await reply.catch((e) => e instanceof CancelledError); // true
 * ```
 * @group Errors
 */
export class CancelledError extends RpcError {
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { ...options, code: 'CANCELLED' });
  }
}

/**
 * A circuit breaker is open for the chosen server: the call was not sent. Wait for the
 * breaker's half-open probe, or let failover pick another server.
 *
 * @example
 * ```ts
 * if (error instanceof CircuitOpenError) console.log(error.details.address);
 * ```
 * @group Errors
 */
export class CircuitOpenError extends RpcError {
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { ...options, code: 'CIRCUIT_OPEN' });
  }
}

/**
 * Discovery knows no usable server for the service (none registered, all inactive, or none in
 * the requested group).
 *
 * @example
 * ```ts
 * if (error instanceof NoInstanceError) console.log('start a server for', error.details.service);
 * ```
 * @group Errors
 */
export class NoInstanceError extends RpcError {
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { ...options, code: 'NO_INSTANCE' });
  }
}

/**
 * A connection could not be made (dial refused, TLS handshake failed, address malformed).
 * `details.address` names the server.
 *
 * @example
 * ```ts
 * connect('tcp@127.0.0.1:1').subscribe({ error: (e) => console.log(e instanceof ConnectionError) });
 * ```
 * @group Errors
 */
export class ConnectionError extends RpcError {
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { ...options, code: 'UNAVAILABLE' });
  }
}

/**
 * The connection closed while the call was pending (the server went away, the socket failed, or
 * the connection was closed locally). Every pending call fails with it at once. The request may
 * or may not have been processed.
 *
 * @example
 * ```ts
 * if (error instanceof ConnectionClosedError) console.log('retry elsewhere', error.details.address);
 * ```
 * @group Errors
 */
export class ConnectionClosedError extends ConnectionError {
  // Set once ConnectionError's constructor, which takes no code, has made it UNAVAILABLE.
  override readonly code = 'CONNECTION_CLOSED';
}

/**
 * Options of a {@link ProtocolError}: those of every error, and the field that was wrong.
 *
 * @example
 * ```ts
 * throw new ProtocolError('bad magic 0x48', { field: 'magic' });
 * ```
 * @group Errors
 */
export interface ProtocolErrorOptions extends RpcErrorOptions {
  /** The name of the frame field that was wrong (`magic`, `version`, `length`, `metadata`...). */
  readonly field: string;
}

/**
 * A frame broke the wire protocol: wrong magic or version, a length outside the frame or past
 * `maxMessageBytes`, a gzip payload past `maxDecompressedBytes`. `field` and `details.field` name
 * the field that was wrong.
 *
 * @example
 * ```ts
 * try { decoder.push(garbage); } catch (e) { if (e instanceof ProtocolError) console.log(e.field); }
 * ```
 * @group Errors
 */
export class ProtocolError extends RpcError {
  /** The name of the frame field that was wrong (`magic`, `version`, `length`, `metadata`...). */
  readonly field: string;

  constructor(message: string, options: ProtocolErrorOptions) {
    const { field, ...rest } = options;
    super(message, { ...rest, code: 'PROTOCOL_ERROR', details: { field, ...options.details } });
    this.field = field;
  }
}

/**
 * A payload could not be serialized or deserialized: an unknown serialize type, a value the
 * codec cannot encode, bytes that do not decode. `details.serializeType` names the codec.
 *
 * @example
 * ```ts
 * try { codecs.get(9); } catch (e) { if (e instanceof CodecError) console.log(e.details.serializeType); }
 * ```
 * @group Errors
 */
export class CodecError extends RpcError {
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { ...options, code: 'CODEC_ERROR' });
  }
}

/**
 * The server refused the call's credentials: its `authorize` option rejected (or threw on) the
 * `__AUTH` token the client sent with the `auth` connect option, or no token came. A TCP server
 * then closes the connection, and the calls it was running on it fail with this error too; calls
 * it had not started see the connection close ({@link ConnectionClosedError}). On the server, it
 * is the reason `ctx.signal` aborts with for those calls. Never retried: another server would
 * refuse the same token.
 *
 * @example
 * ```ts
 * const client = new Client('tcp@127.0.0.1:8972', { auth: 'expired-token' });
 * await client.call('Vault', 'Open').catch((e) => e instanceof UnauthenticatedError); // true
 * ```
 * @group Errors
 */
export class UnauthenticatedError extends RpcError {
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { ...options, code: 'UNAUTHENTICATED' });
  }
}

/**
 * The server had no room for the call and did not run it ("server busy"): as many calls as
 * `maxConcurrentRequests` run and `maxQueuedRequests` wait on the connection, or the server holds
 * more than `maxBufferedBytes`. Failover retries it on another server, as it does a
 * {@link ConnectionError}; a lone server may be called again later.
 *
 * @example
 * ```ts
 * try { await client.call('Report', 'Build', spec); }
 * catch (e) { if (e instanceof ResourceExhaustedError) console.log('busy, later:', e.message); }
 * ```
 * @group Errors
 */
export class ResourceExhaustedError extends RpcError {
  constructor(message: string, options: RpcErrorOptions = {}) {
    super(message, { ...options, code: 'RESOURCE_EXHAUSTED' });
  }
}

// RpcError.from turns the platform's timeout and abort errors into these classes.
PLATFORM_ERRORS.set('TimeoutError', (message, cause) => new DeadlineExceededError(message, { cause }));
PLATFORM_ERRORS.set('AbortError', (message, cause) => new CancelledError(message, { cause }));
