import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type HeartbeatEvent, type RetryBudget, XClient, type XClientEvent } from '../../lib/index.js';
import { trackHandles } from '../support/handles.js';
import { deadAddress, orderedXClient } from '../support/ordered-xclient.js';
import { startServer } from '../support/servers.js';

const { defer } = trackHandles();

async function liveServer(): Promise<string> {
  const { address } = await startServer(defer, (server) =>
    server.register('HelloWorld', {
      Greet: (args: { First: string }) => ({ Second: `Hello ${args.First}` }),
    }),
  );
  return address;
}

/** A budget that refuses every retry. */
const noRetries: RetryBudget = { deposit: () => {}, tryWithdraw: () => false, balance: 0 };

describe('XClient.events$ and instanceStates()', () => {
  it('a server whose breaker opens is reported, and instanceStates shows it unusable while the other is connected', async () => {
    const dead = await deadAddress();
    const live = await liveServer();
    // failtry retries the same server: two failures in a row open a breaker of threshold 1.
    const client = orderedXClient(defer, [dead, live], {
      failMode: 'failtry',
      retries: 1,
      breaker: { kind: 'consecutive', failureThreshold: 1, openMs: 60_000 },
    });
    const events: XClientEvent[] = [];
    client.events$.subscribe((event) => events.push(event));
    await expect(client.call('Greet', { First: 'a' })).rejects.toMatchObject({ name: 'ConnectionError' });
    expect(await client.call('Greet', { First: 'a' })).toEqual({ Second: 'Hello a' });
    expect(events).toEqual([{ type: 'breaker', instance: dead, from: 'closed', to: 'open' }]);
    expect(client.instanceStates()).toEqual([
      { key: dead, address: dead, breaker: 'open', connected: false, usable: false },
      { key: live, address: live, breaker: 'closed', connected: true, usable: true },
    ]);
  });

  it('a retry the budget refuses is reported, and the call fails with the first error', async () => {
    const dead = await deadAddress();
    const live = await liveServer();
    const client = orderedXClient(defer, [dead, live], { failMode: 'failover', retryBudget: noRetries });
    const refused = firstValueFrom(
      client.events$.pipe(filter((event) => event.type === 'retry-budget-exhausted')),
    );
    await expect(client.call('Greet', { First: 'b' })).rejects.toMatchObject({ name: 'ConnectionError' });
    expect(await refused).toEqual({ type: 'retry-budget-exhausted' });
  });

  it('heartbeats report their round trip per server', async () => {
    const live = await liveServer();
    const client = orderedXClient(defer, [live], { heartbeat: { intervalMs: 20 } });
    const beat = firstValueFrom(
      client.events$.pipe(filter((event): event is HeartbeatEvent => event.type === 'heartbeat')),
    );
    await client.call('Greet', { First: 'c' });
    const event = await beat;
    expect(event.instance).toBe(live);
    expect(event.rttMs).toBeGreaterThanOrEqual(0);
  });

  it('close() completes events$ and empties instanceStates; before discovery speaks there are none', async () => {
    const live = await liveServer();
    const silent = new XClient('HelloWorld', {
      discovery: { instances$: new (await import('rxjs')).Subject() },
    });
    expect(silent.instanceStates()).toEqual([]);
    await silent.close();
    const client = orderedXClient(defer, [live], {});
    await client.call('Greet', { First: 'd' });
    expect(client.instanceStates()).toHaveLength(1);
    const all = lastValueFrom(client.events$.pipe(toArray()));
    await client.close();
    expect(await all).toEqual([]);
    expect(client.instanceStates()).toEqual([]);
  });
});
