import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_RPC_METHOD,
} from '@opentelemetry/semantic-conventions';
import { ATTR_RPC_SERVICE, ATTR_RPC_SYSTEM } from '@opentelemetry/semantic-conventions/incubating';
import fc from 'fast-check';
import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type CallContext,
  type Client,
  DeadlineExceededError,
  SerializeType,
  type Server,
  ServiceError,
} from '../../lib/index.js';
import { otelClient, otelContextOf, otelServer } from '../../lib/otel/index.js';
import { trackHandles } from '../support/handles.js';
import { type Delivery, deliver, hostileValue } from '../support/hostile-values.js';
import { startClient, startServer } from '../support/servers.js';
import { childrenOf, only, tracedGreeter, traceEachTest } from './tracing.js';

const { defer } = trackHandles();
const tracing = traceEachTest();

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

function plainClient(address: string): Client {
  return startClient(defer, address, { serializeType: SerializeType.JSON });
}

describe('otelServer', () => {
  it('otelServer - a root span for a call without trace context, active in the handler after an await, and given by otelContextOf', async () => {
    const { address, seen } = await tracedGreeter(defer, 'a');

    await plainClient(address).call('HelloWorld', 'Greet', { First: 'r' });

    const [server, ...others] = await tracing.current().spans();
    expect(others).toEqual([]);
    expect(server).toMatchObject({
      name: 'HelloWorld/Greet',
      kind: SpanKind.SERVER,
      status: { code: SpanStatusCode.OK },
      parentSpanContext: undefined,
    });
    expect(server?.attributes).toEqual({
      [ATTR_RPC_SYSTEM]: 'phobos',
      [ATTR_RPC_SERVICE]: 'HelloWorld',
      [ATTR_RPC_METHOD]: 'Greet',
      [ATTR_NETWORK_PEER_ADDRESS]: '127.0.0.1',
      [ATTR_NETWORK_PEER_PORT]: expect.any(Number),
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.active).toEqual(server?.spanContext());
    expect(seen[0]?.exposed).toEqual(server?.spanContext());
  });

  it('otelServer - the child of a valid traceparent in the request metadata', async () => {
    const { address, seen } = await tracedGreeter(defer, 'a');
    const traceparent = `00-${TRACE_ID}-${PARENT_ID}-01`;

    await plainClient(address).call('HelloWorld', 'Greet', { First: 'p' }, { metadata: { traceparent } });

    const server = only(await tracing.current().spans(), () => true);
    expect(server.spanContext().traceId).toBe(TRACE_ID);
    expect(server.parentSpanContext).toMatchObject({ traceId: TRACE_ID, spanId: PARENT_ID, isRemote: true });
    expect(seen[0]?.active?.spanId).toBe(server.spanContext().spanId);
  });

  it.each([
    'garbage',
    '',
    `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`,
    `00-${'0'.repeat(32)}-${PARENT_ID}-01`,
    `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
    `ff-${TRACE_ID}-${PARENT_ID}-01`,
    `00-${TRACE_ID}-${PARENT_ID}-01-extra`,
    `00-${TRACE_ID}-${PARENT_ID}`,
    `00_${TRACE_ID}_${PARENT_ID}_01`,
    `00-${TRACE_ID}-${PARENT_ID}-01`.repeat(100),
  ])(
    'otelServer - a malformed traceparent %j starts a new root span, and the call succeeds',
    async (traceparent) => {
      const { address, seen } = await tracedGreeter(defer, 'a');

      const reply = await plainClient(address).call(
        'HelloWorld',
        'Greet',
        { First: 'm' },
        { metadata: { traceparent, tracestate: 'congo=t61rcWkgMzE' } },
      );

      expect(reply).toMatchObject({ Second: 'Hello m' });
      const server = only(await tracing.current().spans(), () => true);
      expect(server.parentSpanContext).toBeUndefined();
      expect(server.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(server.spanContext().traceId).not.toBe(TRACE_ID);
      expect(server.spanContext().traceState).toBeUndefined();
      expect(seen[0]?.active?.spanId).toBe(server.spanContext().spanId);
    },
  );

  it('otelServer - reads the parent from the request alone, never from a context active on the server', async () => {
    const stray = trace.getTracer('test').startSpan('stray');
    const strayContext = trace.setSpan(ROOT_CONTEXT, stray);
    const { address } = await startServer(defer, (server) => {
      server.use(
        (next) => (call) =>
          new Observable((subscriber) => context.with(strayContext, () => next(call).subscribe(subscriber))),
      );
      otelServer(server).register('Plain', { Look: () => null });
    });

    await plainClient(address).call('Plain', 'Look', {}, { metadata: { traceparent: 'garbage' } });
    stray.end();

    const server = only(await tracing.current().spans(), (span) => span.kind === SpanKind.SERVER);
    expect(server.parentSpanContext).toBeUndefined();
    expect(server.spanContext().traceId).not.toBe(stray.spanContext().traceId);
  });

  it('otelServer - a handler that throws fails its span with the message and SERVICE_ERROR, and the caller’s spans with the ServiceError', async () => {
    const { address } = await tracedGreeter(defer, 'a');
    const client = otelClient(plainClient(address));

    const error = await client.call('HelloWorld', 'Fail', {}).catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(ServiceError);
    const spans = await tracing.current().spans();
    expect(spans).toHaveLength(3);
    const call = only(spans, (span) => span.parentSpanContext === undefined);
    const [attempt] = childrenOf(spans, call);
    const server = only(spans, (span) => span.kind === SpanKind.SERVER);
    expect(server.parentSpanContext?.spanId).toBe(attempt?.spanContext().spanId);
    expect(server.name).toBe('HelloWorld/Fail');
    expect(server.status).toEqual({ code: SpanStatusCode.ERROR, message: 'the greeter is out of words' });
    expect(server.attributes[ATTR_ERROR_TYPE]).toBe('SERVICE_ERROR');
    expect(server.events.map((event) => event.name)).toEqual(['exception']);
    for (const span of [call, attempt]) {
      expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      expect(span?.attributes[ATTR_ERROR_TYPE]).toBe('SERVICE_ERROR');
    }
  });

  it('otelServer - whatever a handler fails with, even a hostile value, the call gets its error reply and the span ends failed', async () => {
    let failure: { how: Delivery; value: unknown } = { how: 'throw', value: 1 };
    const { address } = await startServer(defer, (server) =>
      otelServer(server).register('Hostile', { Run: () => deliver(failure.how, failure.value) }),
    );
    const client = plainClient(address);
    const failing = fc.constantFrom<Delivery>(
      'throw',
      'reject',
      'observable-error',
      'thenable-throws',
      'thenable-rejects',
    );
    await fc.assert(
      fc.asyncProperty(failing, hostileValue, async (how, recipe) => {
        failure = { how, value: recipe.make() };
        const before = (await tracing.current().spans()).length;

        const error = await client.call('Hostile', 'Run', {}).catch((thrown: unknown) => thrown);

        expect(error).toBeInstanceOf(ServiceError);
        const spans = await tracing.current().spans();
        expect(spans).toHaveLength(before + 1);
        const server = spans[before];
        expect(server?.status.code).toBe(SpanStatusCode.ERROR);
        expect(server?.status.message).toBe((error as Error).message);
        expect(server?.attributes[ATTR_ERROR_TYPE]).toBe('SERVICE_ERROR');
      }),
      { numRuns: 60 },
    );
  });

  it('otelServer - a call past its deadline fails its span with DEADLINE_EXCEEDED', async () => {
    const { address, hanging } = await tracedGreeter(defer, 'a');

    // The deadline is the server's own: the caller sets no timer, so its cancel cannot come first.
    const error = await plainClient(address)
      .call('HelloWorld', 'Hang', {}, { timeoutMs: 0, metadata: { __ServerTimeout: '20' } })
      .catch((thrown: unknown) => thrown);
    await hanging;

    expect(error).toBeInstanceOf(DeadlineExceededError);
    const server = only(await tracing.current().spans(), () => true);
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.status.message).toMatch(/deadline exceeded/);
    expect(server.attributes[ATTR_ERROR_TYPE]).toBe('DEADLINE_EXCEEDED');
    expect(server.attributes).not.toHaveProperty('rpc.phobos.cancelled');
  });

  it('otelServer - a call its caller cancels ends its span marked cancelled, not failed', async () => {
    const { address, hanging, aborted } = await tracedGreeter(defer, 'a');
    const controller = new AbortController();

    const call = plainClient(address)
      .call('HelloWorld', 'Hang', {}, { signal: controller.signal })
      .catch((thrown: unknown) => thrown);
    await hanging;
    controller.abort();
    await call;
    await aborted;

    const server = only(await tracing.current().spans(), () => true);
    expect(server.status).toEqual({ code: SpanStatusCode.UNSET });
    expect(server.attributes['rpc.phobos.cancelled']).toBe(true);
    expect(server.attributes).not.toHaveProperty(ATTR_ERROR_TYPE);
  });

  it('otelContextOf - undefined for a call its server does not trace, and for what is not a call context', async () => {
    const seen: unknown[] = [];
    const { address } = await tracedGreeter(defer, 'a');
    const untraced = await startServer(defer, (server) =>
      server.register('Plain', {
        Look(_args: unknown, ctx: CallContext) {
          seen.push(otelContextOf(ctx));
          return null;
        },
      }),
    );
    await plainClient(address).call('HelloWorld', 'Greet', { First: 'x' });
    await plainClient(untraced.address).call('Plain', 'Look', {});

    expect(seen).toEqual([undefined]);
    for (const value of [undefined, null, 42, 'ctx', {}])
      expect(otelContextOf(value as CallContext)).toBeUndefined();
  });

  it('otelContextOf - finds the call’s context on a call context an interceptor froze', async () => {
    const seen: (string | undefined)[] = [];
    const { address } = await startServer(defer, (server) =>
      // Installed before otelServer, so that the call otelServer traces has the frozen context.
      otelServer(
        server.use(
          (next) => (call) => next({ ...call, ctx: Object.freeze(Object.create(call.ctx) as CallContext) }),
        ),
      ).register('Frozen', {
        Look(_args: unknown, ctx: CallContext) {
          const exposed = otelContextOf(ctx);
          seen.push(exposed === undefined ? undefined : trace.getSpanContext(exposed)?.traceId);
          return trace.getActiveSpan()?.spanContext().traceId ?? null;
        },
      }),
    );
    const traceId = await plainClient(address).call('Frozen', 'Look', {});

    expect(typeof traceId).toBe('string');
    expect(seen).toEqual([traceId]);
  });

  it('otelServer - refuses what is not a server, and bad options, naming them', () => {
    expect(() => otelServer({} as unknown as Server)).toThrow(
      new TypeError('otelServer: server must be a Server, got an object'),
    );
    expect(() => otelServer(undefined as unknown as Server)).toThrow(
      new TypeError('otelServer: server must be a Server, got undefined'),
    );
    const server = { use: () => server };
    expect(() => otelServer(server as unknown as Server, 'fast' as unknown as object)).toThrow(
      new TypeError('otelServer options must be an object, got "fast"'),
    );
    expect(() => otelServer(server as unknown as Server, { tracer: {} as never })).toThrow(
      new RangeError('tracer must be an OpenTelemetry Tracer, got an object'),
    );
  });
});
