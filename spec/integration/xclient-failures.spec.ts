import { describe, expect, it } from 'vitest';
import {
  ConnectionError,
  type FailMode,
  multipleServersDiscovery,
  XClient,
  type XClientOptions,
} from '../../lib/index.js';
import { type CallLoop, callLoop } from '../support/call-loop.js';
import { type ChildServer, startChildServer } from '../support/child-server.js';
import { trackHandles } from '../support/handles.js';

const { defer } = trackHandles();
const LANES = 8;

/** Stops the loop at cleanup too, so a failed test leaves no caller running. */
function track(loop: CallLoop): CallLoop {
  defer(() => loop.stop());
  return loop;
}

async function threeServers(): Promise<ChildServer[]> {
  const servers = await Promise.all(['a', 'b', 'c'].map((name) => startChildServer(name)));
  defer(() => Promise.all(servers.map((server) => server.kill())));
  return servers;
}

function clientFor(servers: readonly ChildServer[], options: Omit<XClientOptions, 'discovery'>): XClient {
  const discovery = multipleServersDiscovery(servers.map((server) => ({ address: server.address })));
  const client = new XClient('HelloWorld', { discovery, serializeType: 1, ...options });
  defer(() => {
    discovery.close();
    return client.close();
  });
  return client;
}

async function killMidLoop(failMode: FailMode, options: Omit<XClientOptions, 'discovery'> = {}) {
  const servers = await threeServers();
  const [a] = servers as [ChildServer, ChildServer, ChildServer];
  const client = clientFor(servers, { failMode, timeoutMs: 10_000, ...options });
  const loop = track(callLoop(client, LANES));
  await loop.until((s) => (s.servedBy.get('a') ?? 0) >= 50 && s.ok >= 200);
  await a.kill('SIGKILL');
  const okAtKill = loop.stats.ok;
  await loop.until((s) => s.ok >= okAtKill + 500);
  await loop.stop();
  return { servers, client, loop };
}

describe('XClient over three servers in child processes', { timeout: 120_000 }, () => {
  it('failover - no call fails when a server is killed mid-run; a restarted server is selected again', async () => {
    // The calls that failed on the killed server may open its breaker: it lets a probe through
    // after openMs (30 s by default, longer than the loop below runs), so a short one here.
    const { servers, client, loop } = await killMidLoop('failover', {
      breaker: { kind: 'consecutive', openMs: 500 },
    });
    expect(loop.stats.failures).toEqual([]);
    const [a] = servers as [ChildServer];
    // The restarted server (same address) gets traffic again once a redial succeeds.
    const again = await startChildServer('a', a.address);
    defer(() => again.kill());
    const servedBefore = loop.stats.servedBy.get('a') ?? 0;
    const resumed = track(callLoop(client, LANES));
    await resumed.until((s) => (s.servedBy.get('a') ?? 0) > 0);
    await resumed.stop();
    expect(resumed.stats.failures).toEqual([]);
    expect(servedBefore).toBeGreaterThanOrEqual(50);
  });

  it('failfast - only the calls in flight on the killed server fail, with a connection error', async () => {
    const { loop } = await killMidLoop('failfast');
    expect(loop.stats.failures.length).toBeLessThanOrEqual(LANES);
    for (const failure of loop.stats.failures) expect(failure).toBeInstanceOf(ConnectionError);
  });

  it('failbackup - a killed server costs no call: the backup request answers', async () => {
    const { loop } = await killMidLoop('failbackup');
    expect(loop.stats.failures).toEqual([]);
  });

  it('failtry - calls pinned to the killed server fail after their retries, the others go on', async () => {
    const { loop } = await killMidLoop('failtry');
    expect(loop.stats.failures.length).toBeLessThanOrEqual(LANES);
    // Retrying the dead server fails to connect, until its breaker opens and refuses at once.
    for (const failure of loop.stats.failures)
      expect(failure.code).toMatch(/^(UNAVAILABLE|CONNECTION_CLOSED|CIRCUIT_OPEN)$/);
  });

  it('failbackup - with one server made slow, every answer comes from a fast one', async () => {
    const servers = await threeServers();
    await servers[0]?.command('slow 60000');
    const client = clientFor(servers, {
      failMode: 'failbackup',
      backupDelayMs: 20,
      selectMode: 'roundRobin',
    });
    const loop = track(callLoop(client, 4));
    await loop.until((s) => s.ok >= 200);
    await loop.stop();
    expect(loop.stats.failures).toEqual([]);
    expect(loop.stats.servedBy.get('a')).toBeUndefined();
    expect((loop.stats.servedBy.get('b') ?? 0) + (loop.stats.servedBy.get('c') ?? 0)).toBe(loop.stats.ok);
  });

  it('closest - traffic moves to the fast servers, the slow one only gets probes', async () => {
    const servers = await threeServers();
    await servers[0]?.command('slow 40');
    const client = clientFor(servers, { selectMode: 'closest' });
    const warmup = track(callLoop(client, 2));
    await warmup.until((s) => s.ok >= 100);
    await warmup.stop();
    const measured = track(callLoop(client, 2));
    await measured.until((s) => s.ok >= 600);
    await measured.stop();
    // Every 100th pick re-probes the least recently sampled server: about 6 of 600 calls.
    expect(measured.stats.servedBy.get('a') ?? 0).toBeLessThanOrEqual(12);
    expect(measured.stats.failures).toEqual([]);
  });

  it('heartbeats - a server that stops answering (SIGSTOP) is detected and skipped; failover loses no call', async () => {
    const servers = await threeServers();
    const [a] = servers as [ChildServer];
    const client = clientFor(servers, {
      failMode: 'failover',
      heartbeat: { intervalMs: 50, maxMisses: 3 },
      timeoutMs: 20_000,
    });
    const loop = track(callLoop(client, LANES));
    await loop.until((s) => (s.servedBy.get('a') ?? 0) >= 20 && s.ok >= 100);
    a.signal('SIGSTOP');
    defer(() => a.signal('SIGCONT'));
    const okAtStop = loop.stats.ok;
    // Calls keep flowing: those stuck on the stopped server fail over once its heartbeats miss.
    await loop.until((s) => s.ok >= okAtStop + 1_000);
    await loop.stop();
    expect(loop.stats.failures).toEqual([]);
  });
});
