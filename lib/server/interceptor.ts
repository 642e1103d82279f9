import type { Observable } from 'rxjs';
import type { CallContext } from './call-context.js';

/**
 * One call as interceptors see it: the decoded arguments and the context.
 *
 * @example
 * ```ts
 * const call: ServerCall = { service: 'Arith', method: 'Mul', args: { A: 1, B: 2 }, ctx };
 * ```
 * @group Server
 */
export interface ServerCall {
  /** The service name. */
  readonly service: string;
  /** The method name. */
  readonly method: string;
  /** The decoded arguments. */
  readonly args: unknown;
  /** The call context. */
  readonly ctx: CallContext;
}

/**
 * Serves one call: its first value is the reply; an error becomes an error reply.
 *
 * @example
 * ```ts
 * const handler: ServerHandler = (call) => of({ echoed: call.args });
 * ```
 * @group Server
 */
export type ServerHandler = (call: ServerCall) => Observable<unknown>;

/**
 * Wraps every call: receives the next handler and returns a handler. The first interceptor
 * given to `Server.use` is the outermost. An error it throws or emits becomes an error reply.
 *
 * @example
 * ```ts
 * const logging: ServerInterceptor = (next) => (call) => {
 *   console.log('->', call.service, call.method);
 *   return next(call).pipe(tap({ error: (e) => console.log('x', e.message) }));
 * };
 * server.use(logging);
 * ```
 * @group Server
 */
export type ServerInterceptor = (next: ServerHandler) => ServerHandler;
