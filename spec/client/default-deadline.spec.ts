import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Client } from '../../lib/client/client.js';
import {
  type ConnectOptions,
  DEFAULT_CALL_TIMEOUT_MS,
  resolveConnectOptions,
} from '../../lib/client/connect-options.js';
import { XClient } from '../../lib/client/xclient.js';
import { multipleServersDiscovery } from '../../lib/discovery/multiple-servers-discovery.js';
import { DeadlineExceededError } from '../../lib/errors/errors.js';
import type { CallContext } from '../../lib/server/call-context.js';
import { deferred, turns } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { startServer } from '../support/servers.js';
import { advanceTo } from '../support/virtual-time.js';

const { defer } = trackHandles();

/**
 * A server whose `Slow.Wait` never answers, recording the `__ServerTimeout` each call told it.
 * Its own deadline timers run on a virtual clock never advanced: only the client's can fire.
 */
async function silentServer() {
  const told: Array<string | undefined> = [];
  const tenants: Array<string | undefined> = [];
  let arrived = deferred();
  const { address } = await startServer(
    defer,
    (server) =>
      server.register('Slow', {
        Wait(_args: unknown, ctx: CallContext): Promise<never> {
          told.push(ctx.metadata.get('__ServerTimeout'));
          tenants.push(ctx.metadata.get('tenant'));
          arrived.resolve();
          return new Promise<never>(() => {});
        },
      }),
    { scheduler: new VirtualTimeScheduler() },
  );
  return {
    address,
    told,
    /** The `tenant` metadata of each call. */
    tenants,
    /** Resolves when the next call reaches the handler. */
    next(): Promise<void> {
      const current = arrived;
      return current.promise.then(() => {
        arrived = deferred();
      });
    },
  };
}

function client(address: string, options: ConnectOptions): Client {
  const made = new Client(address, options);
  defer(() => made.close());
  return made;
}

function xclient(address: string, options: Omit<ConstructorParameters<typeof XClient>[1], 'discovery'>) {
  const discovery = multipleServersDiscovery([{ address }]);
  const made = new XClient('Slow', { discovery, heartbeat: false, ...options });
  defer(async () => {
    await made.close();
    discovery.close();
  });
  return made;
}

describe('default deadline', () => {
  it('DEFAULT_CALL_TIMEOUT_MS - 30 s is every call’s deadline unless timeoutMs says otherwise; 0 and Infinity mean none', () => {
    expect(DEFAULT_CALL_TIMEOUT_MS).toBe(30_000);
    expect(resolveConnectOptions({}).timeoutMs).toBe(DEFAULT_CALL_TIMEOUT_MS);
    expect(resolveConnectOptions(undefined).timeoutMs).toBe(DEFAULT_CALL_TIMEOUT_MS);
    expect(resolveConnectOptions({ timeoutMs: 250 }).timeoutMs).toBe(250);
    expect(resolveConnectOptions({ timeoutMs: 0 }).timeoutMs).toBe(0);
    expect(resolveConnectOptions({ timeoutMs: Number.POSITIVE_INFINITY }).timeoutMs).toBe(0);
  });

  it.each([
    ['-1', -1],
    ['1.5', 1.5],
    ['NaN', Number.NaN],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['2^31 (past what a timer can wait)', 2 ** 31],
    ['a string', '1000'],
  ])(
    'timeoutMs %s - Client and XClient throw a RangeError naming timeoutMs and how to say "no deadline"',
    (_name, value) => {
      const discovery = multipleServersDiscovery([]);
      for (const make of [
        () => new Client('tcp@127.0.0.1:1', { timeoutMs: value as number }),
        () => new XClient('S', { discovery, timeoutMs: value as number }),
      ]) {
        expect(make).toThrow(RangeError);
        expect(make).toThrow(
          /^timeoutMs must be an integer in 0\.\.2147483647, got .+ \(ms; 0 or Infinity: no deadline\)$/,
        );
      }
    },
  );

  it('Client - a call to a handler that never answers fails with DeadlineExceededError at 30 s, a deadline the server is not told', async () => {
    const server = await silentServer();
    const scheduler = new VirtualTimeScheduler();
    const outcome = client(server.address, { scheduler })
      .call('Slow', 'Wait')
      .catch((e: unknown) => e);
    await server.next();
    expect(server.told).toEqual([undefined]);
    expect(scheduler.actions.map((action) => action.delay)).toEqual([DEFAULT_CALL_TIMEOUT_MS]);
    advanceTo(scheduler, DEFAULT_CALL_TIMEOUT_MS - 1);
    await turns(2);
    advanceTo(scheduler, DEFAULT_CALL_TIMEOUT_MS);
    const error = await outcome;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ details: { service: 'Slow', method: 'Wait', timeoutMs: 30_000 } });
  });

  it('Client - a small client-level timeoutMs is the default of its calls; a call’s own timeoutMs overrides it', async () => {
    const server = await silentServer();
    const scheduler = new VirtualTimeScheduler();
    const small = client(server.address, { scheduler, timeoutMs: 250 });
    const byDefault = small.call('Slow', 'Wait').catch((e: unknown) => e);
    await server.next();
    const own = small.call('Slow', 'Wait', undefined, { timeoutMs: 1_000 }).catch((e: unknown) => e);
    await server.next();
    expect(server.told).toEqual(['250', '1000']);
    expect(scheduler.actions.map((action) => action.delay)).toEqual([250, 1_000]);
    advanceTo(scheduler, 250);
    expect(await byDefault).toMatchObject({ code: 'DEADLINE_EXCEEDED', details: { timeoutMs: 250 } });
    advanceTo(scheduler, 1_000);
    expect(await own).toMatchObject({ code: 'DEADLINE_EXCEEDED', details: { timeoutMs: 1_000 } });
  });

  it('a deadline given, even one equal to the default, is told to the server by Client and XClient', async () => {
    const server = await silentServer();
    const scheduler = new VirtualTimeScheduler();
    const calls = [
      client(server.address, { scheduler }).call('Slow', 'Wait', undefined, { timeoutMs: 30_000 }),
      client(server.address, { scheduler, timeoutMs: 30_000 }).call('Slow', 'Wait'),
      xclient(server.address, { scheduler }).call('Wait', {}, { timeoutMs: 30_000 }),
      xclient(server.address, { scheduler, timeoutMs: 30_000 }).call('Wait', {}),
    ].map((call) => call.catch((e: unknown) => e));
    for (let i = 0; i < calls.length; i++) await server.next();
    expect(server.told).toEqual(['30000', '30000', '30000', '30000']);
    advanceTo(scheduler, 30_000);
    for (const error of await Promise.all(calls)) expect(error).toBeInstanceOf(DeadlineExceededError);
  });

  it('Client - timeoutMs Infinity in a call means no deadline: no timer, and the server is told none', async () => {
    const server = await silentServer();
    const scheduler = new VirtualTimeScheduler();
    const forever = client(server.address, { scheduler });
    let settled = false;
    const outcome = forever
      .call('Slow', 'Wait', undefined, { timeoutMs: Number.POSITIVE_INFINITY })
      .finally(() => {
        settled = true;
      })
      .catch((e: unknown) => e);
    await server.next();
    expect(server.told).toEqual([undefined]);
    expect(scheduler.actions).toEqual([]);
    advanceTo(scheduler, 10 * DEFAULT_CALL_TIMEOUT_MS);
    await turns(2);
    expect(settled).toBe(false);
    await forever.close();
    expect(await outcome).toMatchObject({ code: 'CONNECTION_CLOSED' });
  });

  it('Client - a bad timeoutMs in a call rejects with a RangeError naming it', async () => {
    const server = await silentServer();
    const bad = client(server.address, {});
    await expect(bad.call('Slow', 'Wait', undefined, { timeoutMs: -5 })).rejects.toThrow(
      /timeoutMs must be an integer .* \(ms; 0 or Infinity: no deadline\)/,
    );
  });

  it('XClient - a call to a handler that never answers fails with DeadlineExceededError at 30 s, all attempts together, a deadline the server is not told', async () => {
    const server = await silentServer();
    const scheduler = new VirtualTimeScheduler();
    const outcome = xclient(server.address, { scheduler })
      .call('Wait', {})
      .catch((e: unknown) => e);
    await server.next();
    expect(server.told).toEqual([undefined]);
    advanceTo(scheduler, DEFAULT_CALL_TIMEOUT_MS - 1);
    await turns(2);
    advanceTo(scheduler, DEFAULT_CALL_TIMEOUT_MS);
    const error = await outcome;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ details: { service: 'Slow', timeoutMs: 30_000 } });
    expect((error as Error).message).toMatch(/raise timeoutMs/);
  });

  it('XClient - calls with their own timeoutMs end at their own deadlines, one timer per length; the server is told each with the call’s metadata', async () => {
    const server = await silentServer();
    const scheduler = new VirtualTimeScheduler();
    const governed = xclient(server.address, { scheduler });
    const outcome = (options: Parameters<XClient['call']>[2]) =>
      governed.call('Wait', {}, options).catch((e: unknown) => e);
    const a = outcome({ timeoutMs: 500, metadata: { tenant: 'a' } });
    await server.next();
    const b = outcome({ timeoutMs: 500 });
    await server.next();
    const c = outcome({ timeoutMs: 800, metadata: new Map([['tenant', 'c']]) });
    await server.next();
    expect(server.told).toEqual(['500', '500', '800']);
    expect(server.tenants).toEqual(['a', undefined, 'c']);
    expect(scheduler.actions.map((action) => action.delay).sort((x, y) => x - y)).toEqual([500, 800]);
    advanceTo(scheduler, 499);
    await turns(2);
    advanceTo(scheduler, 500);
    expect(await a).toMatchObject({ code: 'DEADLINE_EXCEEDED', details: { timeoutMs: 500 } });
    expect(await b).toMatchObject({ code: 'DEADLINE_EXCEEDED', details: { timeoutMs: 500 } });
    let settled = false;
    void c.finally(() => {
      settled = true;
    });
    await turns(2);
    expect(settled).toBe(false);
    advanceTo(scheduler, 800);
    expect(await c).toMatchObject({ code: 'DEADLINE_EXCEEDED', details: { timeoutMs: 800 } });
    // Later calls of a length seen before reuse its deadline: due 500 ms after they start.
    const d = outcome({ timeoutMs: 500 });
    await server.next();
    advanceTo(scheduler, 1_299);
    await turns(2);
    advanceTo(scheduler, 1_300);
    expect(await d).toMatchObject({ code: 'DEADLINE_EXCEEDED', details: { timeoutMs: 500 } });
  });

  it('XClient - a client-level timeoutMs replaces the default; a call’s Infinity removes it', async () => {
    const server = await silentServer();
    const scheduler = new VirtualTimeScheduler();
    const small = xclient(server.address, { scheduler, timeoutMs: 300 });
    const byDefault = small.call('Wait', {}).catch((e: unknown) => e);
    await server.next();
    let settled = false;
    const forever = small
      .call('Wait', {}, { timeoutMs: Number.POSITIVE_INFINITY })
      .finally(() => {
        settled = true;
      })
      .catch((e: unknown) => e);
    await server.next();
    expect(server.told).toEqual(['300', undefined]);
    advanceTo(scheduler, 300);
    expect(await byDefault).toMatchObject({ code: 'DEADLINE_EXCEEDED', details: { timeoutMs: 300 } });
    advanceTo(scheduler, 10 * DEFAULT_CALL_TIMEOUT_MS);
    await turns(2);
    expect(settled).toBe(false);
    await small.close();
    expect(await forever).toMatchObject({ code: 'CONNECTION_CLOSED' });
  });
});
