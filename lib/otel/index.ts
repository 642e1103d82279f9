/**
 * OpenTelemetry tracing of Phobos clients and servers: a span per call and per attempt, the
 * caller's context carried in request metadata, by the RPC semantic conventions. A separate
 * entry point, so that programs that do not trace never load `@opentelemetry/api` (an optional
 * peer dependency).
 *
 * @module phobos/otel
 */
export { otelClient } from './otel-client.js';
export type { OtelOptions } from './otel-options.js';
export { DEFAULT_TRACER_NAME } from './otel-options.js';
export { otelContextOf, otelServer } from './otel-server.js';
