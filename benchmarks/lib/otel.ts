// phobos/otel as users run it: dist/otel/index.js, typed by lib/otel/index.ts (see compiled.ts),
// and an OpenTelemetry SDK set up as a service would: spans sampled, batched to an exporter
// (here one that only counts them), W3C propagation, async-hooks context.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import type * as Otel from '../../lib/otel/index.js';
import { compiledModule } from './compiled.js';

/** The compiled otel module. */
export const otel: typeof Otel = await import(compiledModule('otel/index.js'));

/** Spans exported so far by {@link setUpTracing}'s exporter. */
export let exportedSpans = 0;

/**
 * Registers a tracer provider that samples `ratio` of the traces (1: every span; below 1, a
 * parent-based ratio sampler, as services run it) and exports them in batches (counted, then dropped).
 */
export function setUpTracing(ratio = 1): void {
  const exporter = {
    export(spans: ReadableSpan[], done: (result: { code: ExportResultCode }) => void): void {
      exportedSpans += spans.length;
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: async (): Promise<void> => {},
  };
  const provider = new TracerProvider({
    ...(ratio < 1 ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) }) } : {}),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: 65_536,
        maxExportBatchSize: 2_048,
        scheduledDelayMillis: 500,
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}
