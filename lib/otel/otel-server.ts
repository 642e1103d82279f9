import type { Context } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { RpcError } from '../errors/rpc-error.js';
import type { CallContext } from '../server/call-context.js';
import type { ServerInterceptor } from '../server/interceptor.js';
import type { Server } from '../server/server.js';
import { describeValue, hasMethods } from '../util/validate.js';
import { metadataGetter } from './metadata-carrier.js';
import { otelApi } from './otel-api.js';
import { type OtelOptions, resolveOtelOptions } from './otel-options.js';
import { Attr, endpointSetter, rpcAttributes, spanName, startRpcSpan } from './rpc-attributes.js';
import { type Outcome, subscribeTraced } from './traced.js';

const { ROOT_CONTEXT, SpanKind, trace } = otelApi;

/**
 * Where a call context keeps the OpenTelemetry context of its call: a property of its own, since
 * a WeakMap entry per call costs the garbage collector more than the rest of the tracing does.
 */
const OTEL_CONTEXT = Symbol('phobos.otel.context');
type TracedCallContext = CallContext & { [OTEL_CONTEXT]?: Context };
/** The contexts of call contexts that take no new property (frozen by an interceptor). */
const sealedContexts = new WeakMap<CallContext, Context>();

/**
 * Traces a `Server` with OpenTelemetry: a SERVER span per call, the child of the caller's span
 * read from the request metadata (`traceparent`/`tracestate` with the default W3C propagator),
 * active while the handler runs, so that `trace.getActiveSpan()` and the spans a handler starts
 * belong to it (after an `await` too, with the async-hooks context manager an SDK registers).
 * Spans are named `service/method` and carry the RPC semantic conventions: `rpc.system`
 * (`phobos`), `rpc.service`, `rpc.method`, `network.peer.address` and `network.peer.port`.
 *
 * The span ends with status OK when the handler replies; ERROR, with the error's message and
 * `error.type` (the `RpcError` code, `SERVICE_ERROR` for what a handler throws), when it fails
 * or its call passes its deadline; with `rpc.phobos.cancelled` when the caller cancels. Request
 * metadata with no trace context, or a malformed one, starts a new trace: the parent is read
 * from the request alone, never from what happens to be active on the server.
 *
 * Install it before other interceptors, so that their work happens inside the span.
 *
 * @returns `server`, now traced.
 * @throws TypeError when `server` is not a server (has no `use`) or `options` is not an object;
 *   RangeError naming the option when `tracer` or `propagator` is not one.
 * @example
 * ```ts
 * const server = otelServer(new Server());
 * server.register('Arith', {
 *   Mul(args: { A: number; B: number }) {
 *     trace.getActiveSpan()?.addEvent('multiplying');
 *     return { C: args.A * args.B };
 *   },
 * });
 * ```
 */
export function otelServer<S extends Pick<Server, 'use'>>(server: S, options?: OtelOptions): S {
  if (!hasMethods(server, ['use']))
    throw new TypeError(`otelServer: server must be a Server, got ${describeValue(server)}`);
  const { tracer, propagator } = resolveOtelOptions('otelServer options', options);
  const setEndpoint = endpointSetter();
  const interceptor: ServerInterceptor = (next) => (call) =>
    new Observable<unknown>((subscriber) => {
      const ctx = call.ctx;
      const parent = propagator.extract(ROOT_CONTEXT, ctx.metadata, metadataGetter);
      const span = startRpcSpan(
        tracer,
        spanName(call.service, call.method),
        SpanKind.SERVER,
        () =>
          setEndpoint(
            rpcAttributes(call.service, call.method),
            ctx.remoteAddress,
            Attr.peerAddress,
            Attr.peerPort,
          ),
        parent,
      );
      const active = trace.setSpan(parent, span);
      if (Object.isExtensible(ctx)) (ctx as TracedCallContext)[OTEL_CONTEXT] = active;
      else sealedContexts.set(ctx, active);
      const outcome: Outcome = {
        errorType: (error) => (error instanceof RpcError ? error.code : 'SERVICE_ERROR'),
        abandoned: () => abandonedBy(ctx.signal),
      };
      return subscribeTraced(subscriber, span, active, () => next(call), outcome);
    });
  server.use(interceptor);
  return server;
}

/**
 * The OpenTelemetry context of the call a handler serves: its SERVER span's, as `otelServer`
 * made it active. For work a handler starts outside that context (a timer, a push to the caller
 * after the reply), pass it to `context.with` or as a span's parent.
 *
 * @returns undefined, never a throw, when the call is not traced (no `otelServer` on its server)
 *   or `ctx` is not a call context.
 * @example
 * ```ts
 * server.register('Clock', {
 *   Watch(_args: unknown, ctx: CallContext) {
 *     const parent = otelContextOf(ctx);
 *     setTimeout(() => tracer.startSpan('tick', {}, parent).end(), 1_000);
 *     return 'watching';
 *   },
 * });
 * ```
 */
export function otelContextOf(ctx: CallContext): Context | undefined {
  if (typeof ctx !== 'object' || ctx === null) return undefined;
  return (ctx as TracedCallContext)[OTEL_CONTEXT] ?? sealedContexts.get(ctx);
}

/** The failure of a call the server gave up: past its deadline, the server shutting down. A cancel is none. */
function abandonedBy(signal: AbortSignal): unknown {
  if (!signal.aborted) return undefined;
  const reason: unknown = signal.reason;
  return reason instanceof RpcError && reason.code !== 'CANCELLED' ? reason : undefined;
}
