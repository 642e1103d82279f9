import type { Context } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import type { Client } from '../client/client.js';
import type { Reply } from '../client/connection.js';
import type { ClientCall, ClientInterceptor } from '../client/interceptor.js';
import type { XClient } from '../client/xclient.js';
import { RpcError } from '../errors/rpc-error.js';
import { TRACEPARENT_KEY, TRACESTATE_KEY } from '../trace/trace-context.js';
import { describeValue, hasMethods, toMetadata } from '../util/validate.js';
import { metadataGetter, metadataSetter } from './metadata-carrier.js';
import { otelApi } from './otel-api.js';
import { type OtelOptions, resolveOtelOptions } from './otel-options.js';
import { Attr, endpointSetter, rpcAttributes, spanName, startRpcSpan } from './rpc-attributes.js';
import { type Outcome, subscribeTraced } from './traced.js';

const { context, SpanKind, trace } = otelApi;

/**
 * The metadata key that carries a logical call's span from the call stage to its attempts, per
 * installation (two installations on one client keep apart). Keys starting with `__` are the
 * protocol's own: the gateway never forwards them, and the attempt stage removes this one
 * before anything is sent.
 */
const PARENT_KEY_PREFIX = '__phobos_otel_call_';
/**
 * The value of that key for a logical call whose span the sampler dropped: its attempts make
 * no spans of their own (a parent-based sampler would drop them too) and send its context.
 */
const UNSAMPLED = '';

let installations = 0;

const clientOutcome: Outcome = {
  errorType: (error) => (error instanceof RpcError ? error.code : '_OTHER'),
};

/**
 * Traces a `Client` or an `XClient` with OpenTelemetry: a CLIENT span per logical call, the
 * child of the span active when the call is made, and under it a CLIENT span per attempt (the
 * first request, each retry of failover or failtry, a failbackup's hedged backup), whose context
 * goes to the server in the request metadata (`traceparent`/`tracestate` with the default W3C
 * propagator). Spans are named `service/method` and carry the RPC semantic conventions:
 * `rpc.system` (`phobos`), `rpc.service`, `rpc.method`; attempts also `server.address`,
 * `server.port` and `rpc.phobos.attempt`. A failed span has status ERROR with the error's
 * message and `error.type`, the `RpcError` code (`_OTHER` for anything else); a span given up
 * (a hedge that lost, a cancelled call) ends with `rpc.phobos.cancelled`.
 *
 * A logical call whose span the sampler drops (most calls, with a ratio sampler) makes no attempt
 * spans: its own span context goes to the server with each attempt, flagged not sampled, as a
 * parent-based sampler on either side would decide anyway, and at half the cost.
 *
 * With no active span, a call whose metadata already holds a `traceparent` (a gateway
 * forwarding its HTTP caller's) continues that trace. Install it before other interceptors, so
 * that their work happens inside the spans; a client's `broadcast` and `fork` have no call
 * stage, so each of their attempts is a span of its own under the active one.
 *
 * @returns `client`, now traced.
 * @throws TypeError when `client` is not a client (has no `use`) or `options` is not an object;
 *   RangeError naming the option when `tracer` or `propagator` is not one.
 * @example
 * ```ts
 * const client = otelClient(new XClient('Arith', { discovery }));
 * await tracer.startActiveSpan('checkout', async (span) => {
 *   await client.call('Mul', { A: 7, B: 8 }); // Arith/Mul, child of checkout
 *   span.end();
 * });
 * ```
 */
export function otelClient<C extends Pick<Client, 'use'> | Pick<XClient, 'use'>>(
  client: C,
  options?: OtelOptions,
): C {
  if (!hasMethods(client, ['use']))
    throw new TypeError(`otelClient: client must be a Client or an XClient, got ${describeValue(client)}`);
  const { tracer, propagator } = resolveOtelOptions('otelClient options', options);
  const parentKey = `${PARENT_KEY_PREFIX}${++installations}`;
  // A logical call's span context, by the id its calls' metadata carries, while the call runs.
  const logicalCalls = new Map<string, Context>();
  let lastId = 0;
  const setEndpoint = endpointSetter();

  const callStage: ClientInterceptor = (next) => (call) =>
    new Observable<Reply<unknown>>((subscriber) => {
      const metadata = toMetadata('metadata', call.options.metadata);
      let parent = context.active();
      if (trace.getSpan(parent) === undefined && metadata.has(TRACEPARENT_KEY))
        parent = propagator.extract(parent, metadata, metadataGetter);
      const span = startRpcSpan(
        tracer,
        spanName(call.service, call.method),
        SpanKind.CLIENT,
        () =>
          setEndpoint(
            rpcAttributes(call.service, call.method),
            call.address,
            Attr.serverAddress,
            Attr.serverPort,
          ),
        parent,
      );
      const active = trace.setSpan(parent, span);
      let id = UNSAMPLED;
      if (span.isRecording()) {
        id = String(++lastId);
        logicalCalls.set(id, active);
      } else inject(active, metadata);
      metadata.set(parentKey, id);
      const marked: ClientCall = { ...call, options: { ...call.options, metadata } };
      const teardown = subscribeTraced(subscriber, span, active, () => next(marked), clientOutcome);
      return () => {
        logicalCalls.delete(id);
        teardown?.();
      };
    });

  const attemptStage: ClientInterceptor = (next) => (call) =>
    new Observable<Reply<unknown>>((subscriber) => {
      const metadata = toMetadata('metadata', call.options.metadata);
      const id = metadata.get(parentKey);
      metadata.delete(parentKey);
      // The sampler dropped the logical call's span, whose context is already in the metadata.
      if (id === UNSAMPLED)
        return next({ ...call, options: { ...call.options, metadata } }).subscribe(subscriber);
      const parent = (id === undefined ? undefined : logicalCalls.get(id)) ?? context.active();
      const span = startRpcSpan(
        tracer,
        spanName(call.service, call.method),
        SpanKind.CLIENT,
        () =>
          setEndpoint(
            { ...rpcAttributes(call.service, call.method), [Attr.attempt]: call.attempt ?? 'first' },
            call.address,
            Attr.serverAddress,
            Attr.serverPort,
          ),
        parent,
      );
      const active = trace.setSpan(parent, span);
      inject(active, metadata);
      const sent: ClientCall = { ...call, options: { ...call.options, metadata } };
      return subscribeTraced(subscriber, span, active, () => next(sent), clientOutcome);
    });

  /** Writes the trace context of `active` into `metadata`, for the server to continue. */
  function inject(active: Context, metadata: Map<string, string>): void {
    const injected = new Map<string, string>();
    propagator.inject(active, injected, metadataSetter);
    // A new traceparent makes the tracestate that came with the old one stale; a propagator
    // that writes nothing (none registered) leaves what the caller set.
    if (injected.has(TRACEPARENT_KEY)) metadata.delete(TRACESTATE_KEY);
    for (const [key, value] of injected) metadata.set(key, value);
  }

  client.use(callStage, { stage: 'call' });
  client.use(attemptStage, { stage: 'attempt' });
  return client;
}
