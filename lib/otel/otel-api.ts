import type * as OtelApi from '@opentelemetry/api';
import { optionalPeer } from '../util/optional-peer.js';

/**
 * @internal `@opentelemetry/api`, an optional peer dependency of `phobos/otel` (the error names
 * it when missing). Its copies share one global registration, so the tracer provider, context
 * manager and propagator a program registers through its own import are the ones used here.
 */
export const otelApi: typeof OtelApi = optionalPeer<typeof OtelApi>(
  '@opentelemetry/api',
  'phobos/otel',
  '@opentelemetry/api',
);
