import type { TextMapPropagator, Tracer } from '@opentelemetry/api';
import { describeValue, hasMethods, optionsObject } from '../util/validate.js';
import { otelApi } from './otel-api.js';

const { propagation, trace } = otelApi;

/** The name of the tracer `otelClient` and `otelServer` get from the global provider by default. */
export const DEFAULT_TRACER_NAME = 'phobos';

/**
 * Options of {@link otelClient} and {@link otelServer}.
 *
 * @example
 * ```ts
 * otelClient(client, { tracer: provider.getTracer('checkout'), propagator: new W3CTraceContextPropagator() });
 * ```
 */
export interface OtelOptions {
  /** Starts the spans. Default `trace.getTracer('phobos')`: the global tracer provider's. */
  readonly tracer?: Tracer;
  /**
   * Writes the caller's span into request metadata and reads it back on the server. Default the
   * global propagator (`propagation` of `@opentelemetry/api`), which an SDK's setup registers
   * (W3C trace context and baggage); with none registered, nothing crosses the wire and each
   * server span starts a trace of its own.
   */
  readonly propagator?: TextMapPropagator;
}

/**
 * {@link OtelOptions} with their defaults.
 *
 * @internal
 */
export interface ResolvedOtelOptions {
  readonly tracer: Tracer;
  readonly propagator: Pick<TextMapPropagator, 'inject' | 'extract'>;
}

/**
 * Resolves and checks {@link OtelOptions}.
 *
 * @throws TypeError when `options` is not an object; RangeError naming the option when `tracer`
 *   has no `startSpan` or `propagator` no `inject` and `extract`.
 * @internal
 */
export function resolveOtelOptions(name: string, options: OtelOptions | undefined): ResolvedOtelOptions {
  const { tracer, propagator } = optionsObject(name, options);
  if (tracer !== undefined && !hasMethods(tracer, ['startSpan']))
    throw new RangeError(`tracer must be an OpenTelemetry Tracer, got ${describeValue(tracer)}`);
  if (propagator !== undefined && !hasMethods(propagator, ['inject', 'extract']))
    throw new RangeError(
      `propagator must be an OpenTelemetry TextMapPropagator, got ${describeValue(propagator)}`,
    );
  return { tracer: tracer ?? trace.getTracer(DEFAULT_TRACER_NAME), propagator: propagator ?? propagation };
}
