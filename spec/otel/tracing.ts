import { context, propagation, type SpanContext, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach } from 'vitest';
import type { CallContext } from '../../lib/index.js';
import { otelContextOf, otelServer } from '../../lib/otel/index.js';
import { deferred } from '../support/deferred.js';
import { type Defer, orderedXClient } from '../support/ordered-xclient.js';
import { startServer } from '../support/servers.js';

/** The tracing SDK of one test: what it exported, and its provider. */
export interface Tracing {
  readonly provider: TracerProvider;
  /** The spans ended so far, once every export has finished. */
  spans(): Promise<ReadableSpan[]>;
}

/**
 * Registers, for each test, a tracer provider exporting to memory, the async-hooks context
 * manager and the W3C propagator as the globals, and removes them after the test.
 */
export function traceEachTest(): { current(): Tracing } {
  let tracing: Tracing | undefined;
  beforeEach(() => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    tracing = {
      provider,
      spans: async () => {
        await provider.forceFlush();
        return exporter.getFinishedSpans();
      },
    };
  });
  afterEach(async () => {
    trace.disable();
    context.disable();
    propagation.disable();
    await tracing?.provider.shutdown();
    tracing = undefined;
  });
  return {
    current: () => {
      if (tracing === undefined) throw new Error('tracing is set up for each test only');
      return tracing;
    },
  };
}

/** The one span of `spans` that `match` accepts; fails the test when there are none or several. */
export function only(spans: readonly ReadableSpan[], match: (span: ReadableSpan) => boolean): ReadableSpan {
  const found = spans.filter(match);
  if (found.length !== 1) {
    throw new Error(`expected one matching span, found ${found.length} among ${spans.map(label).join(', ')}`);
  }
  return found[0] as ReadableSpan;
}

/** The spans whose parent is `parent`, in the order they started. */
export function childrenOf(spans: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans
    .filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);
}

function label(span: ReadableSpan): string {
  return `${span.name} (kind ${span.kind}, ${String(span.attributes['rpc.phobos.attempt'] ?? '')})`;
}

/** What a traced handler saw while it ran. */
export interface Seen {
  /** The active span after an `await` in the handler. */
  readonly active: SpanContext | undefined;
  /** The span of `otelContextOf(ctx)`. */
  readonly exposed: SpanContext | undefined;
  /** The request's metadata. */
  readonly metadata: ReadonlyMap<string, string>;
}

/** A server traced by `otelServer`, and what its handlers saw. */
export interface TracedGreeter {
  readonly address: string;
  readonly seen: Seen[];
  /** Resolves when `Hang` is called. */
  readonly hanging: Promise<void>;
  /** Resolves when the call to `Hang` is aborted, just before the server ends it. */
  readonly aborted: Promise<void>;
}

/**
 * Starts a server traced by `otelServer` with a `HelloWorld` service: `Greet` answers from
 * `name`, `Fail` throws, `Hang` answers when its call is aborted. Each handler records what it
 * saw in `seen`.
 */
export async function tracedGreeter(defer: Defer, name: string): Promise<TracedGreeter> {
  const seen: Seen[] = [];
  const hanging = deferred();
  const aborted = deferred();
  const record = async (ctx: CallContext): Promise<void> => {
    await Promise.resolve();
    const exposed = otelContextOf(ctx);
    seen.push({
      active: trace.getActiveSpan()?.spanContext(),
      exposed: exposed === undefined ? undefined : trace.getSpanContext(exposed),
      metadata: ctx.metadata,
    });
  };
  const { address } = await startServer(defer, (server) =>
    otelServer(server).register('HelloWorld', {
      async Greet(args: { First: string }, ctx: CallContext) {
        await record(ctx);
        return { Second: `Hello ${args.First}`, From: name };
      },
      async Fail(_args: unknown, ctx: CallContext) {
        await record(ctx);
        throw new Error('the greeter is out of words');
      },
      Hang(_args: unknown, ctx: CallContext) {
        hanging.resolve();
        return new Promise((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            resolve(null);
            aborted.resolve();
          }),
        );
      },
    }),
  );
  return { address, seen, hanging: hanging.promise, aborted: aborted.promise };
}

export { deadAddress } from '../support/ordered-xclient.js';

/** An XClient of HelloWorld over `addresses`, picked in order, closed by the test's cleanup. */
export const helloClient = orderedXClient;

/** The port of a `tcp@host:port` address. */
export function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}
