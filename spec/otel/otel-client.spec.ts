import {
  type Context,
  propagation,
  SpanKind,
  SpanStatusCode,
  type TextMapPropagator,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_RPC_METHOD,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import { ATTR_RPC_SERVICE, ATTR_RPC_SYSTEM } from '@opentelemetry/semantic-conventions/incubating';
import { tap } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type CallContext, type Client, SerializeType } from '../../lib/index.js';
import { otelClient } from '../../lib/otel/index.js';
import { trackHandles } from '../support/handles.js';
import { startClient, startServer } from '../support/servers.js';
import { thrown } from '../support/thrown.js';
import {
  childrenOf,
  deadAddress,
  helloClient,
  only,
  portOf,
  tracedGreeter,
  traceEachTest,
} from './tracing.js';

const { defer } = trackHandles();
const tracing = traceEachTest();

const greet = { [ATTR_RPC_SYSTEM]: 'phobos', [ATTR_RPC_SERVICE]: 'HelloWorld', [ATTR_RPC_METHOD]: 'Greet' };
const OK = { code: SpanStatusCode.OK };

function plainClient(address: string): Client {
  return startClient(defer, address, { serializeType: SerializeType.JSON });
}

describe('otelClient', () => {
  it('XClient failover - a call span, a failed first attempt on the dead server, a retry on the live one and the server span under it, one trace', async () => {
    const dead = await deadAddress();
    const live = await tracedGreeter(defer, 'live');
    const client = otelClient(helloClient(defer, [dead, live.address], { failMode: 'failover', retries: 2 }));
    const failures: unknown[] = [];
    client.use((next) => (call) => next(call).pipe(tap({ error: (error) => failures.push(error) })), {
      stage: 'attempt',
    });

    expect(await client.call('Greet', { First: 'z' })).toEqual({ Second: 'Hello z', From: 'live' });

    const spans = await tracing.current().spans();
    expect(spans).toHaveLength(4);
    const call = only(spans, (span) => span.parentSpanContext === undefined);
    expect(call).toMatchObject({
      name: 'HelloWorld/Greet',
      kind: SpanKind.CLIENT,
      status: OK,
      attributes: greet,
    });
    const attempts = childrenOf(spans, call);
    expect(attempts).toHaveLength(2);
    const [first, retry] = attempts as [(typeof attempts)[0], (typeof attempts)[0]];
    expect(failures).toHaveLength(1);
    const failure = failures[0] as Error & { code: string };
    expect(failure.code).toBe('UNAVAILABLE');
    expect(first).toMatchObject({
      name: 'HelloWorld/Greet',
      kind: SpanKind.CLIENT,
      status: { code: SpanStatusCode.ERROR, message: failure.message },
    });
    expect(first.attributes).toEqual({
      ...greet,
      'rpc.phobos.attempt': 'first',
      [ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [ATTR_SERVER_PORT]: portOf(dead),
      [ATTR_ERROR_TYPE]: 'UNAVAILABLE',
    });
    expect(retry).toMatchObject({ name: 'HelloWorld/Greet', kind: SpanKind.CLIENT, status: OK });
    expect(retry.attributes).toEqual({
      ...greet,
      'rpc.phobos.attempt': 'retry',
      [ATTR_SERVER_ADDRESS]: '127.0.0.1',
      [ATTR_SERVER_PORT]: portOf(live.address),
    });
    expect(childrenOf(spans, first)).toEqual([]);
    const [server] = childrenOf(spans, retry);
    expect(server).toMatchObject({ name: 'HelloWorld/Greet', kind: SpanKind.SERVER, status: OK });
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(
      new Set([call.spanContext().traceId]),
    );
    // What reached the server: the retry's context, and nothing of the call stage's bookkeeping.
    const [seen] = live.seen;
    expect(seen?.metadata.get('traceparent')).toBe(
      `00-${retry.spanContext().traceId}-${retry.spanContext().spanId}-01`,
    );
    expect([...(seen?.metadata.keys() ?? [])].filter((key) => key.startsWith('__phobos_otel'))).toEqual([]);
  });

  it('Client - the call span is a child of the span active when the call is made, and names the server', async () => {
    const { address, seen } = await tracedGreeter(defer, 'a');
    const client = otelClient(plainClient(address));
    const tracer = trace.getTracer('test');

    await tracer.startActiveSpan('caller', async (span) => {
      try {
        await client.call('HelloWorld', 'Greet', { First: 'c' });
      } finally {
        span.end();
      }
    });

    const spans = await tracing.current().spans();
    expect(spans).toHaveLength(4);
    const caller = only(spans, (span) => span.name === 'caller');
    expect(caller.parentSpanContext).toBeUndefined();
    const [call, ...others] = childrenOf(spans, caller);
    expect(others).toEqual([]);
    const endpoint = { [ATTR_SERVER_ADDRESS]: '127.0.0.1', [ATTR_SERVER_PORT]: portOf(address) };
    expect(call).toMatchObject({ name: 'HelloWorld/Greet', kind: SpanKind.CLIENT, status: OK });
    expect(call?.attributes).toEqual({ ...greet, ...endpoint });
    const [attempt] = childrenOf(spans, call as (typeof spans)[0]);
    expect(attempt?.attributes).toEqual({ ...greet, ...endpoint, 'rpc.phobos.attempt': 'first' });
    const [server] = childrenOf(spans, attempt as (typeof spans)[0]);
    expect(server?.kind).toBe(SpanKind.SERVER);
    expect(seen[0]?.active?.spanId).toBe(server?.spanContext().spanId);
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1);
  });

  it('Client - with no active span, continues the trace of a traceparent already in the call metadata, keeping its tracestate', async () => {
    const { address, seen } = await tracedGreeter(defer, 'a');
    const client = otelClient(plainClient(address));
    const metadata = {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'congo=t61rcWkgMzE',
    };

    await client.call('HelloWorld', 'Greet', { First: 'g' }, { metadata });

    const spans = await tracing.current().spans();
    const call = only(spans, (span) => span.parentSpanContext?.spanId === '00f067aa0ba902b7');
    expect(call.parentSpanContext?.isRemote).toBe(true);
    expect(call.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    const [attempt] = childrenOf(spans, call);
    expect(seen[0]?.metadata.get('traceparent')).toBe(
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${attempt?.spanContext().spanId}-01`,
    );
    expect(seen[0]?.metadata.get('tracestate')).toBe('congo=t61rcWkgMzE');
  });

  it('Client - an active span wins over a traceparent in the call metadata, whose stale tracestate is not sent', async () => {
    const { address, seen } = await tracedGreeter(defer, 'a');
    const client = otelClient(plainClient(address));
    const metadata = {
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: 'congo=t61rcWkgMzE',
    };

    await trace.getTracer('test').startActiveSpan('caller', async (span) => {
      await client.call('HelloWorld', 'Greet', { First: 'g' }, { metadata });
      span.end();
    });

    const spans = await tracing.current().spans();
    const caller = only(spans, (span) => span.name === 'caller');
    const [call] = childrenOf(spans, caller);
    const [attempt] = childrenOf(spans, call as (typeof spans)[0]);
    expect(seen[0]?.metadata.get('traceparent')).toBe(
      `00-${caller.spanContext().traceId}-${attempt?.spanContext().spanId}-01`,
    );
    expect(seen[0]?.metadata.has('tracestate')).toBe(false);
  });

  it('XClient failbackup - under the caller’s span, the hedged request is a backup attempt span; the first, given up, ends marked cancelled', async () => {
    const slow = await startServer(defer, (server) =>
      server.register('HelloWorld', {
        Greet: (_args: unknown, ctx: CallContext) =>
          new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null))),
      }),
    );
    const fast = await tracedGreeter(defer, 'fast');
    const client = otelClient(
      helloClient(defer, [slow.address, fast.address], { failMode: 'failbackup', backupDelayMs: 20 }),
    );

    await trace.getTracer('test').startActiveSpan('caller', async (span) => {
      expect(await client.call('Greet', { First: 'w' })).toMatchObject({ From: 'fast' });
      span.end();
    });

    const spans = await tracing.current().spans();
    const caller = only(spans, (span) => span.name === 'caller');
    const call = only(spans, (span) => span.parentSpanContext?.spanId === caller.spanContext().spanId);
    expect(call.status).toEqual(OK);
    const [first, backup, ...others] = childrenOf(spans, call);
    expect(others).toEqual([]);
    expect(first?.attributes).toMatchObject({
      'rpc.phobos.attempt': 'first',
      [ATTR_SERVER_PORT]: portOf(slow.address),
      'rpc.phobos.cancelled': true,
    });
    expect(first?.status).toEqual({ code: SpanStatusCode.UNSET });
    expect(backup?.attributes).toMatchObject({
      'rpc.phobos.attempt': 'backup',
      [ATTR_SERVER_PORT]: portOf(fast.address),
    });
    expect(backup?.attributes).not.toHaveProperty('rpc.phobos.cancelled');
    expect(backup?.status).toEqual(OK);
  });

  it('XClient failover - a call the sampler drops makes no spans, its attempts none either, and the server continues it unsampled', async () => {
    const dead = await deadAddress();
    const live = await tracedGreeter(defer, 'live');
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      sampler: new ParentBasedSampler({ root: new AlwaysOffSampler() }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    defer(() => provider.shutdown());
    const client = otelClient(
      helloClient(defer, [dead, live.address], { failMode: 'failover', retries: 2 }),
      {
        tracer: provider.getTracer('dropping'),
      },
    );
    const attempts: string[] = [];
    client.use(
      (next) => (call) => {
        attempts.push(call.attempt ?? '');
        return next(call);
      },
      { stage: 'attempt' },
    );

    expect(await client.call('Greet', { First: 'u' })).toEqual({ Second: 'Hello u', From: 'live' });

    expect(attempts).toEqual(['first', 'retry']);
    await provider.forceFlush();
    expect(exporter.getFinishedSpans()).toEqual([]);
    // The server's parent-based sampler reads the flags and records nothing either.
    expect(await tracing.current().spans()).toEqual([]);
    const [seen] = live.seen;
    const traceparent = seen?.metadata.get('traceparent') ?? '';
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(seen?.active?.traceId).toBe(traceparent.slice(3, 35));
    expect(seen?.active?.traceFlags).toBe(0);
    expect([...(seen?.metadata.keys() ?? [])].filter((key) => key.startsWith('__phobos_otel'))).toEqual([]);
  });

  it('otelClient - uses the tracer and the propagator it is given', async () => {
    const seen: ReadonlyMap<string, string>[] = [];
    const { address } = await startServer(defer, (server) =>
      server.register('HelloWorld', {
        Greet(_args: unknown, ctx: CallContext) {
          seen.push(ctx.metadata);
          return 'hi';
        },
      }),
    );
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    defer(() => provider.shutdown());
    const propagator: TextMapPropagator = {
      inject(context: Context, carrier: unknown, setter: TextMapSetter) {
        const span = trace.getSpanContext(context);
        if (span) setter.set(carrier, 'x-span', span.spanId);
      },
      extract: (context: Context) => context,
      fields: () => ['x-span'],
    };
    const client = otelClient(plainClient(address), { tracer: provider.getTracer('mine'), propagator });

    await client.call('HelloWorld', 'Greet', {});

    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    const attempt = only(spans, (span) => span.attributes['rpc.phobos.attempt'] === 'first');
    expect(seen[0]?.get('x-span')).toBe(attempt.spanContext().spanId);
    expect(seen[0]?.has('traceparent')).toBe(false);
    expect(await tracing.current().spans()).toEqual([]);
  });

  it('otelClient - sends no trace context and keeps the caller’s while no propagator is registered', async () => {
    propagation.disable();
    const { address, seen } = await tracedGreeter(defer, 'a');
    const client = otelClient(plainClient(address));
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

    await client.call('HelloWorld', 'Greet', { First: 'n' }, { metadata: { traceparent } });

    expect(seen[0]?.metadata.get('traceparent')).toBe(traceparent);
    // The spans are still made, each side its own trace.
    expect(await tracing.current().spans()).toHaveLength(3);
  });

  it('otelClient - refuses what is not a client, and bad options, naming them', () => {
    expect(() => otelClient(42 as unknown as Client)).toThrow(
      new TypeError('otelClient: client must be a Client or an XClient, got 42'),
    );
    expect(() => otelClient({} as unknown as Client)).toThrow(
      new TypeError('otelClient: client must be a Client or an XClient, got an object'),
    );
    expect(() => otelClient(null as unknown as Client)).toThrow(TypeError);
    const client = plainClient('tcp@127.0.0.1:1');
    expect(() => otelClient(client, 5 as unknown as object)).toThrow(
      new TypeError('otelClient options must be an object, got 5'),
    );
    const error = thrown(() =>
      otelClient(client, { tracer: 'phobos' as unknown as ReturnType<typeof trace.getTracer> }),
    );
    expect(error).toEqual(new RangeError('tracer must be an OpenTelemetry Tracer, got "phobos"'));
    expect(() => otelClient(client, { propagator: {} as TextMapPropagator })).toThrow(
      new RangeError('propagator must be an OpenTelemetry TextMapPropagator, got an object'),
    );
  });
});
