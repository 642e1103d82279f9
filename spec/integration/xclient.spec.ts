import { firstValueFrom, lastValueFrom, type Observable, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type CallContext,
  CancelledError,
  CircuitOpenError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  type MemoryRegistry,
  memoryRegistry,
  multipleServersDiscovery,
  NoInstanceError,
  RpcError,
  retryBudget,
  roundRobin,
  type SelectMode,
  type Selector,
  type Server,
  ServiceError,
  type ServiceRegistry,
  XClient,
  type XClientOptions,
} from '../../lib/index.js';
import { type CallLoop, callLoop } from '../support/call-loop.js';
import { deferred, turns } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { deadAddress } from '../support/ordered-xclient.js';
import { rawServer } from '../support/raw-peer.js';
import { startServer } from '../support/servers.js';
import { advanceTo } from '../support/virtual-time.js';
import {
  byKey,
  countingDiscovery,
  type Greeter,
  type GreeterSpec,
  type Greeting,
  startGreeters,
} from '../support/xclient-servers.js';

const { defer } = trackHandles();
const LANES = 4;

/** Stops the loop at cleanup too, so a failed test leaves no caller running. */
function track(loop: CallLoop): CallLoop {
  defer(() => loop.stop());
  return loop;
}

/** An XClient that the test's cleanup closes (before the servers shut down). */
function xclient(service: string, options: XClientOptions): XClient {
  const client = new XClient(service, options);
  defer(() => client.close());
  return client;
}

/** Calls Greet `times` times one after the other, and returns who answered each. */
async function greetings(client: XClient, times: number, first = 'budei'): Promise<string[]> {
  const from: string[] = [];
  for (let i = 0; i < times; i++) from.push((await client.call<Greeting>('Greet', { First: first })).From);
  return from;
}

/** Items pushed over time, and a way to wait until there are enough. */
interface Events<T> {
  readonly items: T[];
  push(item: T): void;
  /** Resolves with the items once there are at least `count`. */
  next(count: number): Promise<T[]>;
}

function events<T>(): Events<T> {
  const items: T[] = [];
  const waiters: Array<{ count: number; resolve(items: T[]): void }> = [];
  return {
    items,
    push(item) {
      items.push(item);
      for (const waiter of [...waiters]) {
        if (items.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(items);
        }
      }
    },
    next(count) {
      if (items.length >= count) return Promise.resolve(items);
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
  };
}

/** What the Ops handlers of one test's servers did. */
interface OpsProbe {
  readonly logged: Events<string>;
  readonly hangs: Events<CallContext>;
  readonly aborts: Events<unknown>;
  readonly booms: Events<string>;
  readonly crashes: Events<string>;
}

function opsProbe(): OpsProbe {
  return { logged: events(), hangs: events(), aborts: events(), booms: events(), crashes: events() };
}

/** The typed view of Ops for `proxy<OpsApi>()`. */
interface OpsApi {
  Name(args: Record<string, never>): string;
  Fail(args: { failing: string[] }): string;
}

/** A second service on every server, for the calls other than Greet. */
function registerOps(server: Server, name: string, probe: OpsProbe): void {
  server.register('Ops', {
    Name: () => name,
    Fail(args: { failing: string[] }) {
      if (args.failing.includes(name)) throw new Error(`${name} failed`);
      return name;
    },
    Log(args: { line: string }) {
      probe.logged.push(`${name}:${args.line}`);
    },
    Notify(_args: unknown, ctx: CallContext) {
      ctx.push('Ops', 'Note', { from: name });
      return name;
    },
    Hang(_args: unknown, ctx: CallContext) {
      ctx.signal.addEventListener('abort', () => probe.aborts.push(ctx.signal.reason), { once: true });
      probe.hangs.push(ctx);
      return new Promise<never>(() => {});
    },
    Boom() {
      probe.booms.push(name);
      throw new Error(`${name} went boom`);
    },
    // The first Crash of the test shuts its server down mid-call (a retryable UNAVAILABLE error
    // reply); every later one answers.
    Crash() {
      probe.crashes.push(name);
      if (probe.crashes.items.length > 1) return name;
      void server.shutdown({ graceMs: 0 });
      return new Promise<never>(() => {});
    },
  });
}

/** Servers a, b, c serving HelloWorld and Ops, published in a fresh memoryRegistry. */
async function opsServers(
  probe: OpsProbe,
  names: readonly string[] = ['a', 'b', 'c'],
): Promise<{ registry: MemoryRegistry; greeters: Greeter[] }> {
  const registry = memoryRegistry();
  const greeters = await startGreeters(
    defer,
    names.map((name) => ({ name, setup: (server: Server) => registerOps(server, name, probe) })),
    registry,
  );
  return { registry, greeters };
}

/** Three servers publishing HelloWorld in a memoryRegistry, with per-server metadata. */
async function threeInRegistry(
  specs: readonly GreeterSpec[] = [{ name: 'a' }, { name: 'b' }, { name: 'c' }],
): Promise<{ registry: MemoryRegistry; greeters: Greeter[] }> {
  const registry = memoryRegistry();
  const greeters = await startGreeters(defer, specs, registry);
  expect(registry.instances('HelloWorld').map((instance) => instance.key)).toEqual(
    byKey(greeters).map((greeter) => greeter.address),
  );
  return { registry, greeters };
}

function countBy(names: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

describe('XClient - select modes over a memoryRegistry', () => {
  it('random - every server answers, and only servers of the registry', async () => {
    const { registry } = await threeInRegistry();
    const client = xclient('HelloWorld', {
      discovery: registry.discovery('HelloWorld'),
      selectMode: 'random',
    });
    const loop = track(callLoop(client, 1));
    await loop.until((s) => s.servedBy.size === 3, 2_000);
    await loop.stop();
    expect(loop.stats.failures).toEqual([]);
    expect([...loop.stats.servedBy.keys()].sort()).toEqual(['a', 'b', 'c']);
  });

  it('roundRobin - visits each server once per cycle, in key order', async () => {
    const { registry, greeters } = await threeInRegistry();
    const client = xclient('HelloWorld', {
      discovery: registry.discovery('HelloWorld'),
      selectMode: 'roundRobin',
    });
    const cycle = byKey(greeters).map((greeter) => greeter.name);
    expect(await greetings(client, 9)).toEqual([...cycle, ...cycle, ...cycle]);
  });

  it('weightedRoundRobin - every window of total weight calls serves each server its weight', async () => {
    const { registry } = await threeInRegistry([
      { name: 'a', metadata: 'weight=3' },
      { name: 'b', metadata: 'weight=2' },
      { name: 'c', metadata: 'weight=1' },
    ]);
    const client = xclient('HelloWorld', {
      discovery: registry.discovery('HelloWorld'),
      selectMode: 'weightedRoundRobin',
    });
    const from = await greetings(client, 18);
    for (let start = 0; start < from.length; start += 6) {
      expect(countBy(from.slice(start, start + 6))).toEqual({ a: 3, b: 2, c: 1 });
    }
  });

  it('consistentHash - the same arguments always reach the same server', async () => {
    const { registry } = await threeInRegistry();
    const client = xclient('HelloWorld', {
      discovery: registry.discovery('HelloWorld'),
      selectMode: 'consistentHash',
    });
    expect(new Set(await greetings(client, 12, 'same')).size).toBe(1);
    const firsts = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    const first = await Promise.all(firsts.map(async (name) => (await greetings(client, 1, name))[0]));
    const again = await Promise.all(firsts.map(async (name) => (await greetings(client, 1, name))[0]));
    expect(again).toEqual(first);
    // 30 keys all hashing to one of three servers would be a broken hash (odds 3^-29).
    expect(new Set(first).size).toBeGreaterThan(1);
  });

  it('closest - gets replies from the servers of the registry', async () => {
    const { registry } = await threeInRegistry();
    const client = xclient('HelloWorld', {
      discovery: registry.discovery('HelloWorld'),
      selectMode: 'closest',
    });
    const from = await greetings(client, 30);
    expect(from.every((name) => ['a', 'b', 'c'].includes(name))).toBe(true);
  });

  it('geo - every call goes to the server nearest to the geo option', async () => {
    const { registry } = await threeInRegistry([
      { name: 'berlin', metadata: 'latitude=52.52&longitude=13.405' },
      { name: 'paris', metadata: 'latitude=48.8566&longitude=2.3522' },
      { name: 'newyork', metadata: 'latitude=40.7128&longitude=-74.006' },
    ]);
    const client = xclient('HelloWorld', {
      discovery: registry.discovery('HelloWorld'),
      selectMode: 'geo',
      geo: { latitude: 48.85, longitude: 2.35 },
    });
    expect(new Set(await greetings(client, 12))).toEqual(new Set(['paris']));
  });
});

describe('XClient - discovery changes while calls run', () => {
  it('a server added gets traffic; a server removed gets no call started after the update, and its connection closes', async () => {
    const [a, b, c] = (await startGreeters(defer, ['a', 'b', 'c'])) as [Greeter, Greeter, Greeter];
    const discovery = multipleServersDiscovery([{ address: a.address }, { address: b.address }]);
    defer(() => discovery.close());
    const client = xclient('HelloWorld', { discovery, selectMode: 'roundRobin' });
    let removedAt = Number.POSITIVE_INFINITY;
    const lateOnA: number[] = [];
    const loop = track(
      callLoop(client, LANES, (from, startedAt) => {
        if (from === 'a' && startedAt >= removedAt) lateOnA.push(startedAt);
      }),
    );
    await loop.until((s) => (s.servedBy.get('a') ?? 0) >= 10 && (s.servedBy.get('b') ?? 0) >= 10);
    expect(c.calls).toBe(0);

    discovery.update([a, b, c].map((greeter) => ({ address: greeter.address })));
    await loop.until((s) => (s.servedBy.get('c') ?? 0) >= 10);

    // Picking is synchronous at the start of a call: every call numbered from here on picks
    // from the new list.
    removedAt = loop.stats.started;
    const aCallsAtRemoval = a.calls;
    discovery.update([{ address: b.address }, { address: c.address }]);
    expect(a.connections.size).toBeGreaterThan(0);
    await Promise.all(
      [...a.connections].map((connection) => lastValueFrom(connection.closed$, { defaultValue: undefined })),
    );
    const okAtClose = loop.stats.ok;
    await loop.until((s) => s.ok >= okAtClose + 300);
    await loop.stop();

    expect(lateOnA).toEqual([]);
    // Only the calls already sent when a was removed may still have reached its handler.
    expect(a.calls - aCallsAtRemoval).toBeLessThanOrEqual(LANES);
    expect(loop.stats.failures).toEqual([]);
  });

  it('graceful shutdown under failover - no call fails: draining replies are retried elsewhere, and once unregistered the server gets no call', async () => {
    const registry = memoryRegistry();
    // a's withdrawal from the registry waits for the gate, so that a drains while clients still
    // pick it: each such call gets a "shutting down" reply (UNAVAILABLE), which failover retries.
    const gate = deferred();
    let phase: 'serving' | 'draining' | 'unregistered' = 'serving';
    let loop: CallLoop | undefined;
    let unregisteredAt = Number.POSITIVE_INFINITY;
    const gated: ServiceRegistry = {
      register: (service, address, metadata) => registry.register(service, address, metadata),
      async unregister(service, address) {
        await gate.promise;
        phase = 'unregistered';
        unregisteredAt = loop?.stats.started ?? 0;
        registry.unregister(service, address);
      },
    };
    const [a] = (await startGreeters(defer, [{ name: 'a', registry: gated }, 'b', 'c'], registry)) as [
      Greeter,
    ];
    defer(() => gate.resolve());
    const picksOfA = { serving: 0, draining: 0, unregistered: 0 };
    const inner = roundRobin();
    const counting: Selector = {
      select(instances, call) {
        const picked = inner.select(instances, call);
        if (picked?.key === a.address) picksOfA[phase] += 1;
        return picked;
      },
    };
    const client = xclient('HelloWorld', {
      discovery: registry.discovery('HelloWorld'),
      selectMode: counting,
      failMode: 'failover',
    });
    const lateOnA: number[] = [];
    loop = track(
      callLoop(client, 6, (from, startedAt) => {
        if (from === 'a' && startedAt >= unregisteredAt) lateOnA.push(startedAt);
      }),
    );
    await loop.until((s) => (s.servedBy.get('a') ?? 0) >= 20);

    const shutdown = a.server.shutdown({ graceMs: 10_000 });
    phase = 'draining';
    const aCallsAtShutdown = a.calls;
    await loop.until(() => picksOfA.draining >= 3);
    // Picked, yet its handler never ran: those calls got draining replies and were answered
    // elsewhere (no failure below).
    expect(a.calls).toBe(aCallsAtShutdown);

    gate.resolve();
    await shutdown;
    expect(phase).toBe('unregistered');
    const okAtShutdown = loop.stats.ok;
    await loop.until((s) => s.ok >= okAtShutdown + 300);
    await loop.stop();

    expect(loop.stats.failures).toEqual([]);
    expect(picksOfA.unregistered).toBe(0);
    expect(lateOnA).toEqual([]);
    expect(a.calls).toBe(aCallsAtShutdown);
  });
});

describe('XClient - calls to every server, pushes, cancellation, deadlines', () => {
  it('broadcast - every reply in key order; one failing server rejects with its error', async () => {
    const probe = opsProbe();
    const { registry, greeters } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops') });
    await expect(client.broadcast('Name', {})).resolves.toEqual(byKey(greeters).map((g) => g.name));
    const error = await client.broadcast('Fail', { failing: ['b'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toBe('b failed');
  });

  it('fork - the first success wins; rejects only when every server fails', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops') });
    await expect(client.fork('Fail', { failing: ['a', 'b'] })).resolves.toBe('c');
    const error = await client.fork('Fail', { failing: ['a', 'b', 'c'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toMatch(/^[abc] failed$/);
  });

  it('inform - every server reports its reply or its error, in key order', async () => {
    const probe = opsProbe();
    const { registry, greeters } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops') });
    const results = await client.inform<string>('Fail', { failing: ['b'] });
    expect(results.map((result) => result.instance)).toEqual(byKey(greeters).map((g) => g.address));
    for (const [index, greeter] of byKey(greeters).entries()) {
      const result = results[index];
      if (greeter.name === 'b') {
        expect(result).toMatchObject({ ok: false, error: { message: 'b failed' } });
        expect(result?.ok === false && result.error).toBeInstanceOf(ServiceError);
      } else {
        expect(result).toEqual({ instance: greeter.address, ok: true, data: greeter.name });
      }
    }
  });

  it('oneway - the handler runs and the promise resolves undefined', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops') });
    await expect(client.oneway('Log', { line: 'hello' })).resolves.toBeUndefined();
    const [line] = await probe.logged.next(1);
    expect(line).toMatch(/^[abc]:hello$/);
    await turns(5);
    expect(probe.logged.items).toHaveLength(1);
  });

  it('proxy - a typed view whose methods are calls', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops'), selectMode: 'roundRobin' });
    const ops = client.proxy<OpsApi>();
    const reply = ops.Fail({ failing: [] });
    expectTypeOf(reply).toEqualTypeOf<Promise<string>>();
    await expect(reply).resolves.toMatch(/^[abc]$/);
    await expect(ops.Fail({ failing: ['a', 'b', 'c'] })).rejects.toBeInstanceOf(ServiceError);
    // A proxy is not a thenable, so it can be returned from an async function.
    expect(await Promise.resolve(ops)).toBe(ops);
  });

  it('pushes$ - a push sent by a handler reaches the XClient', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops') });
    const push = firstValueFrom(client.pushes$);
    const from = await client.call<string>('Notify', {});
    await expect(push).resolves.toMatchObject({ service: 'Ops', method: 'Note', data: { from } });
  });

  it('an AbortSignal cancels the call: it rejects with CancelledError and the handler is told', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops') });
    const controller = new AbortController();
    const reply = client.call('Hang', {}, { signal: controller.signal });
    await probe.hangs.next(1);
    controller.abort();
    await expect(reply).rejects.toBeInstanceOf(CancelledError);
    const [reason] = await probe.aborts.next(1);
    expect(reason).toBeInstanceOf(CancelledError);
  });

  it('timeoutMs bounds all attempts together: DeadlineExceededError after at most retries + 1 attempts', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', {
      discovery: registry.discovery('Ops'),
      failMode: 'failover',
      retries: 2,
      timeoutMs: 100,
    });
    await expect(client.call('Hang', {})).rejects.toBeInstanceOf(DeadlineExceededError);
    await turns(10);
    expect(probe.hangs.items.length).toBeGreaterThanOrEqual(1);
    expect(probe.hangs.items.length).toBeLessThanOrEqual(3);
  });
});

describe('XClient - which servers may be picked', () => {
  it('NoInstanceError for a service no server publishes', async () => {
    const { registry } = await threeInRegistry();
    const client = xclient('Nobody', { discovery: registry.discovery('Nobody') });
    const error = await client.call('Greet', { First: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as NoInstanceError).message).toMatch(/Nobody/);
    await expect(client.broadcast('Greet', { First: 'x' })).rejects.toBeInstanceOf(NoInstanceError);
  });

  it('group - only the servers listing the group are called; NoInstanceError naming a group no server lists', async () => {
    const { registry } = await threeInRegistry([
      { name: 'a', metadata: 'group=blue' },
      { name: 'b', metadata: 'group=green' },
      { name: 'c', metadata: 'group=blue,green' },
    ]);
    const blue = xclient('HelloWorld', {
      discovery: registry.discovery('HelloWorld'),
      selectMode: 'roundRobin',
      group: 'blue',
    });
    expect(new Set(await greetings(blue, 8))).toEqual(new Set(['a', 'c']));
    const red = xclient('HelloWorld', { discovery: registry.discovery('HelloWorld'), group: 'red' });
    const error = await red.call('Greet', { First: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as NoInstanceError).message).toMatch(/group "red"/);
  });

  it('state=inactive - an inactive server is never selected, nor broadcast to', async () => {
    const { registry, greeters } = await threeInRegistry([
      { name: 'a', metadata: 'state=inactive' },
      { name: 'b' },
      { name: 'c' },
    ]);
    const client = xclient('HelloWorld', {
      discovery: registry.discovery('HelloWorld'),
      selectMode: 'roundRobin',
    });
    expect(new Set(await greetings(client, 8))).toEqual(new Set(['b', 'c']));
    const replies = await client.broadcast<Greeting>('Greet', { First: 'all' });
    expect(replies.map((reply) => reply.From)).toEqual(
      byKey(greeters.filter((g) => g.name !== 'a')).map((g) => g.name),
    );
    expect(greeters[0]?.calls).toBe(0);
  });

  it('CircuitOpenError once every server has failed its way to an open breaker', async () => {
    const dead = await startGreeters(defer, ['a', 'b']);
    await Promise.all(dead.map((greeter) => greeter.server.shutdown({ graceMs: 0 })));
    const discovery = multipleServersDiscovery(dead.map((greeter) => ({ address: greeter.address })));
    defer(() => discovery.close());
    const client = xclient('HelloWorld', {
      discovery,
      failMode: 'failfast',
      breaker: { kind: 'consecutive', failureThreshold: 1, openMs: 60_000 },
    });
    const errors: unknown[] = [];
    for (let i = 0; i < 8 && !(errors.at(-1) instanceof CircuitOpenError); i++) {
      errors.push(await client.call('Greet', { First: 'x' }).catch((e: unknown) => e));
    }
    // A failureThreshold of 1 opens a breaker on its 2nd failure in a row: 2 servers x 2 failures.
    expect(errors).toHaveLength(5);
    for (const error of errors.slice(0, 4)) expect(error).toBeInstanceOf(ConnectionError);
    const open = errors[4] as CircuitOpenError;
    expect(open).toBeInstanceOf(CircuitOpenError);
    expect(open.details.instances).toEqual(dead.map((greeter) => greeter.address));
    await expect(client.call('Greet', { First: 'x' })).rejects.toBeInstanceOf(CircuitOpenError);
  });
});

describe('XClient - retries', () => {
  it.each(['failover', 'failtry'] as const)(
    '%s - a ServiceError is never retried: the handler runs exactly once',
    async (failMode) => {
      const probe = opsProbe();
      const { registry } = await opsServers(probe);
      const client = xclient('Ops', { discovery: registry.discovery('Ops'), failMode, retries: 3 });
      const error = await client.call('Boom', {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceError);
      await turns(10);
      expect(probe.booms.items).toHaveLength(1);
    },
  );

  it('failover - a retryable failure is retried on another server', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops'), failMode: 'failover', retries: 3 });
    const from = await client.call<string>('Crash', {});
    expect(probe.crashes.items).toHaveLength(2);
    expect(probe.crashes.items[1]).toBe(from);
    expect(from).not.toBe(probe.crashes.items[0]);
  });

  it('failover - an empty retry budget allows no retry: the first failure is the answer', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', {
      discovery: registry.discovery('Ops'),
      failMode: 'failover',
      retries: 3,
      retryBudget: retryBudget({ ratio: 0, minRetriesPerSecond: 0 }),
    });
    const error = await client.call('Crash', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('UNAVAILABLE');
    await turns(10);
    expect(probe.crashes.items).toHaveLength(1);
  });
});

describe('XClient - deadline', () => {
  it('failover - no attempt starts once the call deadline has passed; the call fails with DeadlineExceededError', async () => {
    const scheduler = new VirtualTimeScheduler();
    // Server a takes the first attempt past the deadline, then drops the connection (retryable).
    const a = await rawServer((peer) => {
      peer.socket.on('data', () => {
        scheduler.frame = 1_500;
        peer.socket.destroy();
      });
    });
    defer(() => a.close());
    let servedByB = 0;
    const { address: b } = await startServer(defer, (server) =>
      server.register('Greeter', {
        Greet: () => {
          servedByB += 1;
          return 'from b';
        },
      }),
    );
    const client = xclient('Greeter', {
      discovery: multipleServersDiscovery([{ address: a.address }, { address: b }]),
      failMode: 'failover',
      selectMode: { select: (instances) => instances.find((i) => i.address === a.address) ?? instances[0] },
      retryBudget: false,
      heartbeat: false,
      timeoutMs: 1_000,
      scheduler,
    });
    const outcome = client.call('Greet', {}).catch((e: unknown) => e);
    for (let turn = 0; turn < 200 && scheduler.frame < 1_500; turn++) await turns(1);
    await turns(20);
    advanceTo(scheduler, 1_500);
    const error = await outcome;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(servedByB).toBe(0);
  });
});

describe('XClient - idle connections', () => {
  it('a connection stays open while a call is on it, however long past idleTimeoutMs, and closes once idle', async () => {
    const started = deferred();
    const release = deferred();
    const [a] = await startGreeters(defer, [
      {
        name: 'a',
        setup: (server: Server) =>
          server.register('Slow', {
            Quick: () => 'quick',
            async Wait() {
              started.resolve();
              await release.promise;
              return 'done';
            },
          }),
      },
    ]);
    if (a === undefined) throw new Error('no server');
    const scheduler = new VirtualTimeScheduler();
    const client = xclient('Slow', {
      discovery: multipleServersDiscovery([{ address: a.address }]),
      failMode: 'failfast',
      heartbeat: false,
      idleTimeoutMs: 1_000,
      scheduler,
    });
    // The first call dials; the next finds the connection open and goes straight to it.
    expect(await client.call('Quick', {})).toBe('quick');
    const slow = client.call('Wait', {});
    await started.promise;
    advanceTo(scheduler, 5_000);
    await turns(5);
    expect(a.server.connectionCount).toBe(1);
    release.resolve();
    expect(await slow).toBe('done');
    expect(a.server.connectionCount).toBe(1);

    // Idle from now: the connection closes after idleTimeoutMs, and a later call dials again.
    advanceTo(scheduler, 5_999);
    await turns(5);
    expect(a.server.connectionCount).toBe(1);
    advanceTo(scheduler, 6_001);
    for (let turn = 0; turn < 200 && a.server.connectionCount > 0; turn++) await turns(1);
    expect(a.server.connectionCount).toBe(0);
    expect(await client.call('Quick', {})).toBe('quick');
    expect(a.server.connectionCount).toBe(1);
  });
});

describe('XClient - breakers on the client’s clock', () => {
  it.each([
    ['consecutive', { kind: 'consecutive', failureThreshold: 1, openMs: 1_000 }],
    ['rate', { kind: 'rate', failureRateThreshold: 0.5, minimumRequests: 2, openMs: 1_000 }],
  ] as const)(
    'a %s breaker given as options opens and turns half-open on the client’s scheduler, not the wall clock',
    async (_kind, breaker) => {
      const scheduler = new VirtualTimeScheduler();
      const address = await deadAddress();
      const client = xclient('Dead', {
        discovery: multipleServersDiscovery([{ address }]),
        failMode: 'failfast',
        heartbeat: false,
        timeoutMs: 0,
        breaker,
        scheduler,
      });
      for (let i = 0; i < 2; i++) await client.call('Any', {}).catch(() => undefined);
      expect(client.instanceStates().map((state) => state.breaker)).toEqual(['open']);
      advanceTo(scheduler, 999);
      expect(client.instanceStates().map((state) => state.breaker)).toEqual(['open']);
      advanceTo(scheduler, 1_000);
      expect(client.instanceStates().map((state) => state.breaker)).toEqual(['half-open']);
    },
  );
});

describe('XClient - idle connections, calls one at a time', () => {
  it('calls one at a time keep one connection open on one idle timer, not a timer each; it closes idleTimeoutMs after the last', async () => {
    const [a] = await startGreeters(defer, [
      { name: 'a', setup: (server: Server) => server.register('Slow', { Quick: () => 'quick' }) },
    ]);
    if (a === undefined) throw new Error('no server');
    const scheduler = new VirtualTimeScheduler();
    let scheduled = 0;
    const client = xclient('Slow', {
      discovery: multipleServersDiscovery([{ address: a.address }]),
      failMode: 'failfast',
      heartbeat: false,
      idleTimeoutMs: 1_000,
      timeoutMs: 0,
      scheduler: {
        now: () => scheduler.now(),
        schedule: ((...args: Parameters<VirtualTimeScheduler['schedule']>) => {
          scheduled += 1;
          return scheduler.schedule(...args);
        }) as VirtualTimeScheduler['schedule'],
      },
    });
    expect(await client.call('Quick', {})).toBe('quick');
    // 50 calls, one every 10 ms: the idle timer armed after the first (at 10 ms) looks at 1,010 ms
    // and again 1,000 ms after the last.
    for (let at = 10; at <= 500; at += 10) {
      advanceTo(scheduler, at);
      expect(await client.call('Quick', {})).toBe('quick');
    }
    expect(a.server.connectionCount).toBe(1);
    // The dial's connect timeout, the dialling call's idle wait, then the one idle timer of the
    // 50 calls.
    expect(scheduled).toBe(3);
    advanceTo(scheduler, 1_499);
    await turns(5);
    expect(a.server.connectionCount).toBe(1);
    expect(scheduled).toBe(4);
    advanceTo(scheduler, 1_501);
    for (let turn = 0; turn < 200 && a.server.connectionCount > 0; turn++) await turns(1);
    expect(a.server.connectionCount).toBe(0);
    expect(scheduler.actions).toEqual([]);
  });
});

describe('XClient - close', () => {
  it.each(['failover', 'failfast', 'failtry', 'failbackup'] as const)(
    '%s - close() with heartbeats on and calls in flight: the calls fail with ConnectionClosedError, connections and the discovery watch end',
    async (failMode) => {
      const probe = opsProbe();
      const { registry } = await opsServers(probe, ['a', 'b']);
      const discovery = countingDiscovery(registry.discovery('Ops'));
      const beat = deferred();
      const rr = roundRobin();
      const client = xclient('Ops', {
        discovery,
        selectMode: {
          select: (instances, call) => rr.select(instances, call),
          observeLatency: () => beat.resolve(),
        },
        heartbeat: { intervalMs: 10 },
        failMode,
      });
      const pending = Array.from({ length: 4 }, () => client.call('Hang', {}).catch((e: unknown) => e));
      const contexts = await probe.hangs.next(4);
      // Only heartbeats report latency here (no call has answered).
      await beat.promise;
      expect(new Set(contexts.map((ctx) => ctx.connection)).size).toBe(2);
      expect(discovery.subscribers).toBe(1);
      const pushesEnd = lastValueFrom(client.pushes$, { defaultValue: 'completed' });

      await client.close();
      for (const error of await Promise.all(pending)) expect(error).toBeInstanceOf(ConnectionClosedError);
      await Promise.all(
        contexts.map((ctx) => lastValueFrom(ctx.connection.closed$, { defaultValue: undefined })),
      );
      await expect(pushesEnd).resolves.toBe('completed');
      expect(discovery.subscribers).toBe(0);
      await client.close();
    },
  );

  it('every call after close() rejects', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops') });
    await expect(client.call('Name', {})).resolves.toMatch(/^[abc]$/);
    await client.close();
    for (const attempt of [
      () => client.call('Name', {}),
      () => firstValueFrom(client.call$('Name', {}) as Observable<unknown>),
      () => client.broadcast('Name', {}),
      () => client.fork('Name', {}),
      () => client.inform('Name', {}),
      () => client.oneway('Log', { line: 'late' }),
    ]) {
      const error = await attempt().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).message).toMatch(/closed/);
    }
    await turns(5);
    expect(probe.logged.items).toEqual([]);
  });
});

describe('XClient - options', () => {
  const discovery = multipleServersDiscovery([]);
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['failMode nope', { failMode: 'nope' }, /failMode/],
    ['selectMode nope', { selectMode: 'nope' }, /selectMode/],
    ['selectMode geo without geo', { selectMode: 'geo' }, /geo/],
    ['retries -1', { retries: -1 }, /retries/],
    ['heartbeat intervalMs 0', { heartbeat: { intervalMs: 0 } }, /heartbeat\.intervalMs/],
    ['backupDelayMs -1', { backupDelayMs: -1 }, /backupDelayMs/],
    ['idleTimeoutMs 0', { idleTimeoutMs: 0 }, /idleTimeoutMs/],
  ];

  it.each(bad)('%s - throws a RangeError naming the option at construction', (_name, options, pattern) => {
    const make = () => new XClient('HelloWorld', { discovery, ...options } as unknown as XClientOptions);
    expect(make).toThrow(RangeError);
    expect(make).toThrow(pattern);
  });

  it('a missing or empty discovery throws a TypeError naming discovery', () => {
    expect(() => new XClient('HelloWorld', {} as XClientOptions)).toThrow(TypeError);
    expect(() => new XClient('HelloWorld', {} as XClientOptions)).toThrow(/discovery/);
    expect(() => new XClient('HelloWorld', { discovery: {} } as XClientOptions)).toThrow(/discovery/);
    expect(() => new XClient('HelloWorld', undefined as unknown as XClientOptions)).toThrow(TypeError);
  });

  it('an empty service name throws, naming service', () => {
    expect(() => new XClient('', { discovery })).toThrow(/service/);
  });

  it('every select mode by name is accepted', () => {
    const modes: SelectMode[] = ['random', 'roundRobin', 'weightedRoundRobin', 'consistentHash', 'closest'];
    for (const selectMode of modes) xclient('HelloWorld', { discovery, selectMode });
    xclient('HelloWorld', { discovery, selectMode: 'geo', geo: { latitude: 0, longitude: 0 } });
  });

  it('call$ with bad options errors when subscribed, never throws', async () => {
    const client = xclient('HelloWorld', { discovery });
    let negative: Observable<unknown> | undefined;
    let notObject: Observable<unknown> | undefined;
    expect(() => {
      negative = client.call$('Greet', {}, { timeoutMs: -1 });
      notObject = client.call$('Greet', {}, 'fast' as never);
    }).not.toThrow();
    await expect(firstValueFrom(negative as Observable<unknown>)).rejects.toThrow(RangeError);
    await expect(firstValueFrom(negative as Observable<unknown>)).rejects.toThrow(/timeoutMs/);
    await expect(firstValueFrom(notObject as Observable<unknown>)).rejects.toThrow(TypeError);
  });

  it('oneway rejects call options that are not an object', async () => {
    const probe = opsProbe();
    const { registry } = await opsServers(probe);
    const client = xclient('Ops', { discovery: registry.discovery('Ops') });
    await expect(client.oneway('Log', { line: 'bad' }, 'fast' as never)).rejects.toThrow(TypeError);
    await expect(client.oneway('Log', { line: 'bad' }, { timeoutMs: -1 })).rejects.toThrow(/timeoutMs/);
    await turns(5);
    expect(probe.logged.items).toEqual([]);
  });

  it('the promise methods reject bad call options, never throw', async () => {
    const client = xclient('HelloWorld', { discovery });
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['call', () => client.call('Greet', {}, 'fast' as never)],
      ['broadcast', () => client.broadcast('Greet', {}, 'fast' as never)],
      ['fork', () => client.fork('Greet', {}, 'fast' as never)],
      ['inform', () => client.inform('Greet', {}, 'fast' as never)],
      [
        'call with a signal that is not an AbortSignal',
        () => client.call('Greet', {}, { signal: 'x' as never }),
      ],
    ];
    for (const [name, call] of calls) {
      let outcome: Promise<unknown> | undefined;
      expect(() => {
        outcome = call();
      }, name).not.toThrow();
      await expect(outcome, name).rejects.toThrow(TypeError);
    }
  });
});
