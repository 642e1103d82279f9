import { EMPTY, firstValueFrom, NEVER, type Observable, throwError, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { AttemptFailure } from '../../lib/client/attempt-failures.js';
import { XClient } from '../../lib/client/xclient.js';
import type { XClientOptions } from '../../lib/client/xclient-options.js';
import type { Discovery, DiscoveryState } from '../../lib/discovery/discovery.js';
import { memoryRegistry } from '../../lib/discovery/memory-registry.js';
import { multipleServersDiscovery } from '../../lib/discovery/multiple-servers-discovery.js';
import type { ServiceInstance } from '../../lib/discovery/service-instance.js';
import { CircuitOpenError, ConnectionError, NoInstanceError, ServiceError } from '../../lib/errors/errors.js';
import { etcdDiscovery } from '../../lib/registry/etcd-discovery.js';
import type { Server } from '../../lib/server/server.js';
import { silentLogger } from '../../lib/util/logger.js';
import { turns } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { closedPort } from '../support/ports.js';
import { advanceTo } from '../support/virtual-time.js';
import { startGreeters } from '../support/xclient-servers.js';

const { defer } = trackHandles();

function xclient(service: string, options: XClientOptions): XClient {
  const client = new XClient(service, options);
  defer(() => client.close());
  return client;
}

/** A discovery over `instances$`, describing itself as `state` when given. */
function discoveryOf(instances$: Observable<readonly ServiceInstance[]>, state?: DiscoveryState): Discovery {
  return state === undefined ? { instances$ } : { instances$, describe: () => state };
}

/** Addresses where a server listened and no longer does: dialling them is refused. */
async function deadAddresses(count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, index) => `dead${index}`);
  const greeters = await startGreeters(defer, names);
  await Promise.all(greeters.map((greeter) => greeter.server.shutdown({ graceMs: 0 })));
  return greeters.map((greeter) => greeter.address);
}

function addressesOf(error: unknown): string[] {
  return ((error as NoInstanceError).details.attempts as AttemptFailure[]).map((attempt) => attempt.address);
}

describe('XClient - no server known: the error names the discovery and its last error', () => {
  it('a discovery that never lists: at the deadline, NoInstanceError naming the discovery and its last error, not a bare deadline', async () => {
    const scheduler = new VirtualTimeScheduler();
    const client = xclient('Ghost', {
      discovery: discoveryOf(NEVER, { source: 'a test registry', lastError: new Error('registry down') }),
      timeoutMs: 500,
      scheduler,
    });
    const outcome = client.call('Greet', {}).catch((e: unknown) => e);
    await turns(2);
    advanceTo(scheduler, 500);
    const error = await outcome;
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as Error).message).toBe(
      'no server known for service Ghost yet (discovery: a test registry, last error: registry down); ' +
        "discovery listed none within the call's deadline of 500 ms. Start a server of Ghost, " +
        "check the discovery's settings, or raise timeoutMs if it is slow to answer",
    );
    expect((error as NoInstanceError).details).toEqual({
      service: 'Ghost',
      discovery: 'a test registry',
      lastError: 'registry down',
      timeoutMs: 500,
    });
  });

  it('the default deadline (30 s of virtual time) bounds the wait too; a discovery without describe() is named so', async () => {
    const scheduler = new VirtualTimeScheduler();
    const client = xclient('Ghost', { discovery: discoveryOf(NEVER), scheduler });
    const outcome = client.call('Greet', {}).catch((e: unknown) => e);
    await turns(2);
    advanceTo(scheduler, 29_999);
    await turns(2);
    advanceTo(scheduler, 30_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as Error).message).toMatch(
      /^no server known for service Ghost yet \(discovery: a discovery without describe\(\), last error: none\); discovery listed none within the call's deadline of 30000 ms/,
    );
  });

  it('broadcast, fork, inform and oneway wait for discovery no longer than their deadline either', async () => {
    const scheduler = new VirtualTimeScheduler();
    const client = xclient('Ghost', { discovery: discoveryOf(NEVER), timeoutMs: 200, scheduler });
    const outcomes = [
      client.broadcast('Greet', {}),
      client.fork('Greet', {}),
      client.inform('Greet', {}),
      client.oneway('Log', {}),
    ].map((call) => call.catch((e: unknown) => e));
    await turns(2);
    advanceTo(scheduler, 200);
    for (const error of await Promise.all(outcomes)) {
      expect(error).toBeInstanceOf(NoInstanceError);
      expect((error as Error).message).toMatch(
        /^no server known for service Ghost yet .*within the call's deadline of 200 ms/,
      );
    }
  });

  it('a discovery that failed before listing: NoInstanceError at once, its error as cause and last error', async () => {
    const failure = new Error('registry unreachable: ECONNREFUSED');
    const client = xclient('Ghost', {
      discovery: discoveryOf(
        throwError(() => failure),
        { source: 'a test registry' },
      ),
    });
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as Error).cause).toBe(failure);
    expect((error as Error).message).toMatch(
      /^no server known for service Ghost yet \(discovery: a test registry, last error: registry unreachable: ECONNREFUSED\); discovery failed before listing any\./,
    );
  });

  it('a discovery that ended without listing: NoInstanceError at once', async () => {
    const client = xclient('Ghost', { discovery: discoveryOf(EMPTY, { source: 'a closed registry' }) });
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as Error).message).toMatch(
      /\(discovery: a closed registry, last error: none\); discovery ended without listing any\./,
    );
  });

  it('an empty list: NoInstanceError at once naming the registry, the service and the group', async () => {
    const registry = memoryRegistry();
    const client = xclient('Nobody', { discovery: registry.discovery('Nobody'), group: 'blue' });
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as Error).message).toBe(
      'no server known for service Nobody in group "blue" yet (discovery: a memoryRegistry, service "Nobody", last error: none). ' +
        'Start a server of Nobody, or check that it registers where this discovery looks',
    );
  });

  it('servers listed but none usable (inactive): NoInstanceError saying how many are listed', async () => {
    const discovery = multipleServersDiscovery([{ address: 'tcp@127.0.0.1:1', metadata: 'state=inactive' }]);
    defer(() => discovery.close());
    const client = xclient('HelloWorld', { discovery });
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as Error).message).toMatch(
      /^no usable server for service HelloWorld \(discovery: multipleServersDiscovery of 1 server, last error: none\): discovery lists 1, each inactive/,
    );
  });

  it('etcd unreachable: at the deadline the error names the etcd hosts, the watched prefix and why the watch failed', async () => {
    const port = await closedPort();
    const hosts = `http://127.0.0.1:${port}`;
    const discovery = etcdDiscovery({
      hosts,
      service: 'HelloWorld',
      logger: silentLogger,
      dialTimeoutMs: 300,
      requestTimeoutMs: 500,
      retryMaxMs: 200,
    });
    defer(() => discovery.close());
    const lost = firstValueFrom(discovery.watchEvents$);
    const scheduler = new VirtualTimeScheduler();
    const client = xclient('HelloWorld', { discovery, timeoutMs: 1_000, scheduler });
    await lost;
    expect(discovery.describe().lastError).toBeInstanceOf(Error);
    const outcome = client.call('Greet', {}).catch((e: unknown) => e);
    await turns(2);
    advanceTo(scheduler, 1_000);
    const error = await outcome;
    expect(error).toBeInstanceOf(NoInstanceError);
    expect((error as Error).message).toContain(
      `no server known for service HelloWorld yet (discovery: etcd (${hosts}) /phobos/HelloWorld/, last error: `,
    );
    expect((error as NoInstanceError).details.lastError).toEqual(expect.any(String));
    await client.close();
    await discovery.close();
  });
});

describe('XClient - every server failed: the error names each one with its own error', () => {
  it('failover - all 3 servers refuse: a ConnectionError naming the 3 and listing them in details.attempts', async () => {
    const dead = await deadAddresses(3);
    const discovery = multipleServersDiscovery(dead.map((address) => ({ address })));
    defer(() => discovery.close());
    const client = xclient('HelloWorld', { discovery, failMode: 'failover', retries: 2, retryBudget: false });
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).code).toBe('UNAVAILABLE');
    expect((error as Error).message).toMatch(/^HelloWorld\.Greet: all 3 servers failed: /);
    expect((error as Error).message).toMatch(/; check that they are up and reachable from here$/);
    for (const address of dead) expect((error as Error).message).toContain(`${address} (cannot connect: `);
    expect(new Set(addressesOf(error))).toEqual(new Set(dead));
    expect((error as ConnectionError).details).toMatchObject({ service: 'HelloWorld', method: 'Greet' });
  });

  it('failtry - the one server picked fails every retry: the error counts its attempts', async () => {
    const dead = await deadAddresses(2);
    const discovery = multipleServersDiscovery(dead.map((address) => ({ address })));
    defer(() => discovery.close());
    const client = xclient('HelloWorld', {
      discovery,
      failMode: 'failtry',
      retries: 2,
      retryBudget: false,
      breaker: false,
    });
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    const [address] = addressesOf(error);
    expect(addressesOf(error)).toEqual([address, address, address]);
    expect((error as Error).message).toMatch(
      new RegExp(`^HelloWorld\\.Greet: 1 of 2 servers failed: ${address} \\(3 attempts: cannot connect: `),
    );
  });

  it('failover - failures open every breaker: a CircuitOpenError that says so and lists the failures before', async () => {
    const dead = await deadAddresses(2);
    const discovery = multipleServersDiscovery(dead.map((address) => ({ address })));
    defer(() => discovery.close());
    const client = xclient('HelloWorld', {
      discovery,
      failMode: 'failover',
      selectMode: 'roundRobin',
      retries: 10,
      retryBudget: false,
      breaker: { kind: 'consecutive', failureThreshold: 1, openMs: 60_000 },
    });
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CircuitOpenError);
    expect((error as Error).message).toMatch(
      /^HelloWorld\.Greet: every server's circuit breaker is open, after all 2 servers failed: /,
    );
    expect(new Set(addressesOf(error))).toEqual(new Set(dead));
    expect((error as CircuitOpenError).details.instances).toEqual(dead);
  });

  it('failbackup - both attempts fail: the error names both servers', async () => {
    const dead = await deadAddresses(2);
    const discovery = multipleServersDiscovery(dead.map((address) => ({ address })));
    defer(() => discovery.close());
    const client = xclient('HelloWorld', { discovery, failMode: 'failbackup', breaker: false });
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/^HelloWorld\.Greet: all 2 servers failed: /);
    expect(new Set(addressesOf(error))).toEqual(new Set(dead));
  });

  it('one failed attempt and no retry: its own error, unchanged', async () => {
    const dead = await deadAddresses(2);
    const discovery = multipleServersDiscovery(dead.map((address) => ({ address })));
    defer(() => discovery.close());
    const client = xclient('HelloWorld', { discovery, failMode: 'failover', retries: 0 });
    const error = await client.call('Greet', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as Error).message).toMatch(/^cannot connect to tcp@/);
    expect((error as ConnectionError).details.attempts).toBeUndefined();
  });

  it('an answer of the service after a failed attempt is the answer: the ServiceError passes unchanged', async () => {
    const [dead] = await deadAddresses(1);
    const [live] = await startGreeters(defer, [
      {
        name: 'live',
        setup: (server: Server) =>
          server.register('Ops', {
            Boom() {
              throw new Error('live went boom');
            },
          }),
      },
    ]);
    const discovery = multipleServersDiscovery([
      { address: dead as string },
      { address: live?.address as string },
    ]);
    defer(() => discovery.close());
    const client = xclient('Ops', {
      discovery,
      failMode: 'failover',
      selectMode: { select: (instances) => instances.find((i) => i.address === dead) ?? instances[0] },
    });
    const error = await client.call('Boom', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as Error).message).toBe('live went boom');
  });
});
