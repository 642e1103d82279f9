import type { Observable } from 'rxjs';
import { describeValue, toMetadata } from '../util/validate.js';
import type { CallOptions, Reply } from './connection.js';

/**
 * Where a client interceptor runs.
 *
 * - `'call'`: once per logical call, around everything the client does for it. On an `XClient`
 *   that is server selection, every retry or backup request, the backoff between them and the
 *   call's deadline; a `DeadlineExceededError` of the whole call is seen here.
 * - `'attempt'`: once per request sent to one server, inside the retries and the circuit breaker:
 *   `address` names the server and `attempt` says whether it is the first, a retry or a backup.
 *   Metadata added here goes with that request only.
 *
 * A `Client` (one server, no retries) runs both stages around its one request, `'call'` outside.
 *
 * @example
 * ```ts
 * client.use(countAttempts, { stage: 'attempt' });
 * ```
 * @group Client
 */
export type ClientStage = 'call' | 'attempt';

/**
 * Which request of a logical call an attempt is: the first, a retry after a failure, or a hedged backup.
 *
 * @group Client
 */
export type AttemptKind = 'first' | 'retry' | 'backup';

/**
 * One call as client interceptors see it.
 *
 * @example
 * ```ts
 * const call: ClientCall = { stage: 'call', service: 'Arith', method: 'Mul', args: { A: 1, B: 2 }, options: {} };
 * ```
 * @group Client
 */
export interface ClientCall {
  /** Where this interceptor runs: the logical call or one attempt (see {@link ClientStage}). */
  readonly stage: ClientStage;
  /** The service name. */
  readonly service: string;
  /** The method name. */
  readonly method: string;
  /** The arguments, before encoding (the payload bytes for a `raw` call). */
  readonly args: unknown;
  /** The call's options: pass a copy with other `metadata` to `next` to send headers. */
  readonly options: CallOptions;
  /** The server's address (attempt stage; at the call stage of a `Client`, its one server). */
  readonly address?: string;
  /** The first attempt, a retry or a backup (attempt stage only). */
  readonly attempt?: AttemptKind;
}

/**
 * Makes one call (or attempt): emits the reply with its metadata, then completes; errors with
 * the call's `RpcError`. Unsubscribing cancels it.
 *
 * @example
 * ```ts
 * const handler: ClientHandler = (call) => of({ data: call.args, metadata: new Map() });
 * ```
 * @group Client
 */
export type ClientHandler = (call: ClientCall) => Observable<Reply<unknown>>;

/**
 * Wraps every call (or attempt) of a client: receives the next handler and returns a handler, as
 * a server interceptor does. The first added is the outermost of its stage. It may change the
 * call (metadata, options) before passing it on, observe or replace the reply, or fail the call
 * by throwing or emitting an error (which the caller receives; at the attempt stage a retryable
 * error is retried as any other). `interceptor(next)` may be called once for many calls or once
 * per call: keep what belongs to one call inside the handler it returns.
 *
 * @example
 * ```ts
 * const logging: ClientInterceptor = (next) => (call) => {
 *   const startedAt = performance.now();
 *   return next(call).pipe(finalize(() => console.log(call.method, performance.now() - startedAt)));
 * };
 * client.use(logging);
 * ```
 * @group Client
 */
export type ClientInterceptor = (next: ClientHandler) => ClientHandler;

/**
 * Options of `use` on a client.
 *
 * @group Client
 */
export interface ClientUseOptions {
  /** Where the interceptor runs. Default `'call'`. */
  readonly stage?: ClientStage;
}

/**
 * The interceptors of one client, by stage, and the handlers they make.
 *
 * @internal
 */
export class ClientInterceptors {
  private readonly byStage: Record<ClientStage, ClientInterceptor[]> = { call: [], attempt: [] };
  /** Chains built around a handler that does not change, until the next `add`. */
  private chains = new WeakMap<ClientHandler, ClientHandler>();

  /**
   * Adds `interceptor` to its stage.
   *
   * @throws RangeError when `interceptor` is not a function or the stage is unknown.
   */
  add(interceptor: ClientInterceptor, options: ClientUseOptions | undefined): void {
    if (typeof interceptor !== 'function')
      throw new RangeError(`an interceptor must be a function, got ${describeValue(interceptor)}`);
    if (options !== undefined && (typeof options !== 'object' || options === null))
      throw new TypeError(`use options must be an object, got ${describeValue(options)}`);
    const stage = options?.stage ?? 'call';
    if (stage !== 'call' && stage !== 'attempt')
      throw new RangeError(`stage must be 'call' or 'attempt', got ${describeValue(stage)}`);
    this.byStage[stage].push(interceptor);
    this.chains = new WeakMap();
  }

  /** {@link ClientInterceptors.wrap}, built once for a `last` that serves every call. */
  chain(stage: ClientStage, last: ClientHandler): ClientHandler {
    let chain = this.chains.get(last);
    if (chain === undefined) {
      chain = this.wrap(stage, last);
      this.chains.set(last, chain);
    }
    return chain;
  }

  /** Whether any interceptor runs at `stage`. */
  has(stage: ClientStage): boolean {
    return this.byStage[stage].length > 0;
  }

  /** `last` wrapped in the interceptors of `stage`, the first added outermost. */
  wrap(stage: ClientStage, last: ClientHandler): ClientHandler {
    return this.byStage[stage].reduceRight<ClientHandler>((next, interceptor) => {
      const handler = interceptor(next);
      if (typeof handler !== 'function')
        throw new TypeError(`a client interceptor must return a handler, got ${describeValue(handler)}`);
      return handler;
    }, last);
  }
}

/**
 * The call with `extra` added to its metadata (replacing keys it already has): what an
 * interceptor passes to `next` to send headers.
 *
 * @throws TypeError when a value of `extra`, or a key or value of the call's metadata, is not a
 *   string.
 * @example
 * ```ts
 * client.use((next) => (call) => next(withMetadata(call, { tenant: 'acme' })));
 * ```
 * @group Client
 */
export function withMetadata(call: ClientCall, extra: Readonly<Record<string, string>>): ClientCall {
  const metadata = toMetadata('metadata', call.options.metadata);
  for (const [key, value] of Object.entries(extra)) {
    if (typeof value !== 'string')
      throw new TypeError(`metadata value of ${key} must be a string, got ${describeValue(value)}`);
    metadata.set(key, value);
  }
  return { ...call, options: { ...call.options, metadata } };
}
