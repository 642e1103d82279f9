import fc from 'fast-check';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Client, SerializeType } from '../../lib/index.js';
import { clientMetrics, UNKNOWN_LABEL } from '../../lib/metrics/index.js';
import { LabelGuard, resolveMetricsOptions } from '../../lib/metrics/metrics-options.js';
import { trackHandles } from '../support/handles.js';
import { metricValue } from '../support/metric-value.js';
import { deadAddress, orderedXClient } from '../support/ordered-xclient.js';
import { startClient, startServer } from '../support/servers.js';

const { defer } = trackHandles();

async function liveServer(): Promise<string> {
  const { address } = await startServer(defer, (server) =>
    server.register('HelloWorld', {
      Greet: (args: { First: string }) => ({ Second: `Hello ${args.First}` }),
      Fail: () => {
        throw new Error('no');
      },
    }),
  );
  return address;
}

describe('clientMetrics', () => {
  it('Client - per-method calls by code, durations, sizes and one first attempt per call', async () => {
    const registry = new Registry();
    const address = await liveServer();
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    clientMetrics(client, { registry });
    await client.call('HelloWorld', 'Greet', { First: 'a' });
    await expect(client.call('HelloWorld', 'Fail', {})).rejects.toThrow('no');
    const greet = { service: 'HelloWorld', method: 'Greet' };
    expect(await metricValue(registry, 'phobos_client_started_total', greet)).toBe(1);
    expect(await metricValue(registry, 'phobos_client_handled_total', { ...greet, code: 'OK' })).toBe(1);
    expect(
      await metricValue(registry, 'phobos_client_handled_total', {
        service: 'HelloWorld',
        method: 'Fail',
        code: 'UNKNOWN',
      }),
    ).toBe(1);
    expect(await metricValue(registry, 'phobos_client_attempts_total', { ...greet, outcome: 'first' })).toBe(
      1,
    );
    expect(await metricValue(registry, 'phobos_client_in_flight', greet)).toBe(0);
    const text = await registry.metrics();
    expect(text).toContain('phobos_client_handling_seconds_count{service="HelloWorld",method="Greet"} 1');
    expect(text).toContain(
      `phobos_client_msg_sent_bytes_sum{service="HelloWorld",method="Greet"} ${JSON.stringify({ First: 'a' }).length}`,
    );
    expect(text).toContain(
      `phobos_client_msg_received_bytes_sum{service="HelloWorld",method="Greet"} ${JSON.stringify({ Second: 'Hello a' }).length}`,
    );
  });

  it('XClient - retries, breaker state and transitions, instances and connections, the budget', async () => {
    const registry = new Registry();
    const dead = await deadAddress();
    const live = await liveServer();
    const client = orderedXClient(defer, [dead, live], {
      failMode: 'failtry',
      retries: 1,
      breaker: { kind: 'consecutive', failureThreshold: 1, openMs: 60_000 },
    });
    clientMetrics(client, { registry });
    await expect(client.call('Greet', { First: 'a' })).rejects.toMatchObject({ name: 'ConnectionError' });
    await client.call('Greet', { First: 'b' });
    const greet = { service: 'HelloWorld', method: 'Greet' };
    expect(await metricValue(registry, 'phobos_client_attempts_total', { ...greet, outcome: 'first' })).toBe(
      2,
    );
    expect(await metricValue(registry, 'phobos_client_attempts_total', { ...greet, outcome: 'retry' })).toBe(
      1,
    );
    expect(
      await metricValue(registry, 'phobos_client_handled_total', { ...greet, code: 'UNAVAILABLE' }),
    ).toBe(1);
    expect(await metricValue(registry, 'phobos_client_handled_total', { ...greet, code: 'OK' })).toBe(1);
    expect(
      await metricValue(registry, 'phobos_client_breaker_transitions_total', {
        service: 'HelloWorld',
        instance: dead,
        to: 'open',
      }),
    ).toBe(1);
    expect(
      await metricValue(registry, 'phobos_client_breaker_state', { service: 'HelloWorld', instance: dead }),
    ).toBe(2);
    expect(
      await metricValue(registry, 'phobos_client_breaker_state', { service: 'HelloWorld', instance: live }),
    ).toBe(0);
    expect(
      await metricValue(registry, 'phobos_client_instances', { service: 'HelloWorld', state: 'discovered' }),
    ).toBe(2);
    expect(
      await metricValue(registry, 'phobos_client_instances', { service: 'HelloWorld', state: 'usable' }),
    ).toBe(1);
    expect(await metricValue(registry, 'phobos_client_connections', { service: 'HelloWorld' })).toBe(1);

    const thrifty = orderedXClient(defer, [dead, live], {
      failMode: 'failover',
      retryBudget: { deposit: () => {}, tryWithdraw: () => false, balance: 0 },
    });
    clientMetrics(thrifty, { registry });
    await expect(thrifty.call('Greet', { First: 'c' })).rejects.toMatchObject({ name: 'ConnectionError' });
    expect(
      await metricValue(registry, 'phobos_client_retry_budget_exhausted_total', { service: 'HelloWorld' }),
    ).toBe(1);
    await thrifty.close();
    await client.close();
    expect(
      await metricValue(registry, 'phobos_client_instances', { service: 'HelloWorld', state: 'discovered' }),
    ).toBe(0);
  });

  it('label values stay bounded: past maxLabelValues, or refused by allow, a pair is "unknown"', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('A', 'B', 'C'), fc.string({ maxLength: 3 })), { maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        (pairs, max) => {
          const guard = new LabelGuard(
            resolveMetricsOptions({ maxLabelValues: max, allow: (service) => service !== 'C' }),
          );
          const labelled = new Set<string>();
          for (const [service, method] of pairs) {
            const [s, m] = guard.labels(service, method);
            if (service === 'C') expect([s, m]).toEqual([UNKNOWN_LABEL, UNKNOWN_LABEL]);
            else
              expect([s, m]).toSatisfy(
                ([a, b]: string[]) => (a === service && b === method) || a === UNKNOWN_LABEL,
              );
            if (s !== UNKNOWN_LABEL) labelled.add(`${s}/${m}`);
            // Once a pair has a label, it keeps it.
            expect(guard.labels(service, method)).toEqual([s, m]);
          }
          expect(labelled.size).toBeLessThanOrEqual(max);
        },
      ),
    );
  });

  it('refuses what is not a client', () => {
    expect(() => clientMetrics(42 as unknown as Client)).toThrow(
      /clientMetrics needs a phobos Client or XClient, got 42/,
    );
    expect(() => clientMetrics(new Client('tcp@127.0.0.1:1'), { prefix: 'no spaces' })).toThrow(/prefix/);
  });
});
