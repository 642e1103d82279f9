import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type CallContext, SerializeType, type Server } from '../../lib/index.js';
import { serverMetrics } from '../../lib/metrics/index.js';
import { trackHandles } from '../support/handles.js';
import { metricValue } from '../support/metric-value.js';
import { rawClient } from '../support/raw-peer.js';
import { startClient, startServer } from '../support/servers.js';

const { defer } = trackHandles();

const echo = {
  Say(args: unknown) {
    return args;
  },
  Fail() {
    throw new Error('the handler failed');
  },
  Slow(_args: unknown, ctx: CallContext) {
    return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)));
  },
};

async function started(options: Parameters<typeof serverMetrics>[1] = {}) {
  const registry = new Registry();
  let server: Server | undefined;
  const { address } = await startServer(defer, (s) => {
    server = s;
    s.register('Echo', echo);
    serverMetrics(s, { registry, ...options });
  });
  return { registry, address, server: server as Server };
}

describe('serverMetrics', () => {
  it('counts calls by service, method and code, with durations and sizes; unknown names are "unknown"', async () => {
    const { registry, address } = await started();
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    await client.call('Echo', 'Say', 'hello');
    await client.call('Echo', 'Say', 'again');
    await expect(client.call('Echo', 'Fail', {})).rejects.toThrow();
    await expect(client.call('Echo', 'Nope', {})).rejects.toThrow();
    await expect(client.call('Made', 'Up', {})).rejects.toThrow();
    const say = { service: 'Echo', method: 'Say' };
    expect(await metricValue(registry, 'phobos_server_started_total', say)).toBe(2);
    expect(await metricValue(registry, 'phobos_server_handled_total', { ...say, code: 'OK' })).toBe(2);
    expect(
      await metricValue(registry, 'phobos_server_handled_total', {
        service: 'Echo',
        method: 'Fail',
        code: 'UNKNOWN',
      }),
    ).toBe(1);
    expect(
      await metricValue(registry, 'phobos_server_handled_total', {
        service: 'unknown',
        method: 'unknown',
        code: 'NOT_FOUND',
      }),
    ).toBe(2);
    expect(await metricValue(registry, 'phobos_server_in_flight', say)).toBe(0);
    const text = await registry.metrics();
    expect(text).toContain('phobos_server_handling_seconds_count{service="Echo",method="Say"} 2');
    expect(text).toContain('phobos_server_msg_received_bytes_sum{service="Echo",method="Say"} 14');
    expect(text).not.toMatch(/method="Nope"|service="Made"/);
    expect(await metricValue(registry, 'phobos_server_connections')).toBe(1);
    expect(await metricValue(registry, 'phobos_server_connections_accepted_total')).toBe(1);
  });

  it('counts protocol errors by reason and connections as they close; Go Phobos names on request', async () => {
    const { registry, address, server } = await started({ goPhobosNames: true });
    const peer = await rawClient(address);
    peer.send(Buffer.from('not a frame, by any measure, at all'));
    await peer.closed;
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    await client.call('Echo', 'Say', 1);
    expect(await metricValue(registry, 'phobos_server_protocol_errors_total', { reason: 'malformed' })).toBe(
      1,
    );
    expect(await metricValue(registry, 'phobos_server_connections_accepted_total')).toBe(2);
    expect(await metricValue(registry, 'phobos_server_connections')).toBe(1);
    expect(await metricValue(registry, 'accepted_connections_total')).toBe(2);
    expect(await metricValue(registry, 'processed_requests_total', { service: 'Echo', method: 'Say' })).toBe(
      1,
    );
    expect(await registry.metrics()).toContain(
      'request_duration_seconds_count{service="Echo",method="Say"} 1',
    );
    await client.close();
    await server.shutdown({ graceMs: 0 });
    expect(await metricValue(registry, 'phobos_server_connections')).toBe(0);
  });

  it('two servers share one registry: their counts add up', async () => {
    const registry = new Registry();
    const addresses: string[] = [];
    for (const name of ['a', 'b']) {
      const { address } = await startServer(defer, (s) => {
        s.register('Echo', echo);
        serverMetrics(s, { registry, prefix: `${name === 'a' ? '' : ''}phobos_` });
      });
      addresses.push(address);
    }
    for (const address of addresses) {
      await startClient(defer, address, { serializeType: SerializeType.JSON }).call('Echo', 'Say', 'x');
    }
    expect(
      await metricValue(registry, 'phobos_server_started_total', { service: 'Echo', method: 'Say' }),
    ).toBe(2);
  });

  it('stop() stops counting; bad arguments are refused, naming them', async () => {
    const { registry, address, server } = await started();
    const again = serverMetrics(server, { registry, prefix: 'other_' });
    again.stop();
    again.stop();
    await startClient(defer, address, { serializeType: SerializeType.JSON }).call('Echo', 'Say', 'x');
    expect(
      await metricValue(registry, 'other_server_started_total', { service: 'Echo', method: 'Say' }),
    ).toBe(0);
    expect(
      await metricValue(registry, 'phobos_server_started_total', { service: 'Echo', method: 'Say' }),
    ).toBe(1);
    expect(() => serverMetrics({} as Server)).toThrow(/serverMetrics needs a phobos Server, got/);
    expect(() => serverMetrics(server, { registry: {} as Registry })).toThrow(
      /registry must be a prom-client Registry/,
    );
    expect(() => serverMetrics(server, { prefix: '1bad' })).toThrow(
      /prefix must be empty or start a metric name/,
    );
    expect(() => serverMetrics(server, { durationBuckets: [1, 0.5] })).toThrow(
      /durationBuckets must be increasing/,
    );
    expect(() => serverMetrics(server, { sizeBuckets: [] })).toThrow(/sizeBuckets must be a non-empty array/);
    expect(() => serverMetrics(server, { maxLabelValues: 0 })).toThrow(/maxLabelValues/);
    expect(() => serverMetrics(server, { allow: 'all' as never })).toThrow(/allow must be a function/);
    const clash = new Registry();
    clash.registerMetric(
      new (await import('prom-client')).Gauge({
        name: 'phobos_server_started_total',
        help: 'x',
        registers: [],
      }),
    );
    expect(() => serverMetrics(server, { registry: clash })).toThrow(
      /already holds phobos_server_started_total as another kind/,
    );
  });
});
