import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { filter, firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Client } from '../../lib/client/client.js';
import { XClient } from '../../lib/client/xclient.js';
import { multipleServersDiscovery } from '../../lib/discovery/multiple-servers-discovery.js';
import { ConnectionClosedError, ConnectionError } from '../../lib/errors/errors.js';
import { Server } from '../../lib/server/server.js';
import { silentLogger } from '../../lib/util/logger.js';
import { type Deferred, deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';

const { defer } = trackHandles();

const FIXTURES = new URL('../fixtures/resources/', import.meta.url);

/** A server serving HelloWorld.Greet and Slow.Wait (which answers when the test says). */
async function startResourceServer() {
  const waiting: Array<Deferred<void>> = [];
  let arrived = deferred();
  const server = new Server({ logger: silentLogger });
  server.register('HelloWorld', {
    Greet: (args: { First: string }) => ({ Second: `Hello ${args.First}` }),
  });
  server.register('Slow', {
    async Wait(from: string) {
      const release = deferred();
      waiting.push(release);
      arrived.resolve();
      await release.promise;
      return `done for ${from}`;
    },
  });
  const address = await server.listen('tcp@127.0.0.1:0');
  defer(() => server.shutdown({ graceMs: 0 }));
  return {
    address,
    /** Resolves once `count` Slow.Wait calls are waiting. */
    async waiting(count: number): Promise<void> {
      while (waiting.length < count) {
        await arrived.promise;
        arrived = deferred();
      }
    },
    /** Lets every waiting Slow.Wait answer. */
    release(): void {
      for (const release of waiting.splice(0)) release.resolve();
    },
  };
}

/** Runs a fixture under tsx with `args`; `exited` resolves with its code and output. */
function runFixture(name: string, args: readonly string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(name, FIXTURES)), ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  defer(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  const lines: Array<{ text: string; seen: Deferred<void> }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const line of lines) if (stdout.includes(line.text)) line.seen.resolve();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  return {
    child,
    exited,
    /** Resolves once the child printed `text`. */
    printed(text: string): Promise<void> {
      const seen = deferred();
      if (stdout.includes(text)) seen.resolve();
      else lines.push({ text, seen });
      return seen.promise;
    },
  };
}

/** Sockets that keep the process alive now. */
function refSockets(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'TCPSocketWrap').length;
}

describe('await using', () => {
  it('Symbol.asyncDispose exists on this Node', () => {
    expect(typeof Symbol.asyncDispose).toBe('symbol');
  });

  it('await using - a Client is closed at the end of its scope', async () => {
    const { address } = await startResourceServer();
    let leaked: Client | undefined;
    {
      await using client = new Client(address, { serializeType: 1 });
      leaked = client;
      expect(await client.call('HelloWorld', 'Greet', { First: 'a' })).toEqual({ Second: 'Hello a' });
    }
    await expect(leaked.call('HelloWorld', 'Greet', { First: 'a' })).rejects.toBeInstanceOf(
      ConnectionClosedError,
    );
  });

  it('await using - an XClient is closed at the end of its scope', async () => {
    const { address } = await startResourceServer();
    const discovery = multipleServersDiscovery([{ address }]);
    defer(() => discovery.close());
    let leaked: XClient | undefined;
    {
      await using client = new XClient('HelloWorld', { discovery, serializeType: 1 });
      leaked = client;
      expect(await client.call('Greet', { First: 'b' })).toEqual({ Second: 'Hello b' });
    }
    await expect(leaked.call('Greet', { First: 'b' })).rejects.toThrow(/closed/);
  });

  it('await using - a Server shuts down gracefully at the end of its scope', async () => {
    let leaked: Server | undefined;
    let address = '';
    {
      await using server = new Server({ logger: silentLogger });
      leaked = server;
      server.register('HelloWorld', { Greet: () => 'hi' });
      address = await server.listen('tcp@127.0.0.1:0');
    }
    await expect(leaked.listen('tcp@127.0.0.1:0')).rejects.toThrow(/shut down/);
    const client = new Client(address);
    defer(() => client.close());
    await expect(client.call('HelloWorld', 'Greet')).rejects.toBeInstanceOf(ConnectionError);
  });
});

describe('what keeps the process alive', { timeout: 60_000 }, () => {
  it('a Client’s socket holds the process only while a call is in flight', async () => {
    const server = await startResourceServer();
    const client = new Client(server.address, { serializeType: 1 });
    defer(() => client.close());
    await client.call('HelloWorld', 'Greet', { First: 'x' });
    const idle = refSockets();
    const call = client.call('Slow', 'Wait', 'x');
    await server.waiting(1);
    expect(refSockets()).toBe(idle + 1);
    server.release();
    expect(await call).toBe('done for x');
    expect(refSockets()).toBe(idle);
  });

  it('an XClient’s sockets hold the process only while calls are in flight, heartbeats never', async () => {
    const server = await startResourceServer();
    const discovery = multipleServersDiscovery([{ address: server.address }]);
    defer(() => discovery.close());
    const client = new XClient('Slow', { discovery, serializeType: 1, heartbeat: { intervalMs: 10 } });
    defer(() => client.close());
    const beats = client.events$.pipe(filter((event) => event.type === 'heartbeat'));
    const first = firstValueFrom(beats);
    const calls = [client.call('Wait', 'a'), client.call('Wait', 'b')];
    await server.waiting(2);
    const busy = refSockets();
    await first;
    server.release();
    expect(await Promise.all(calls)).toEqual(['done for a', 'done for b']);
    expect(refSockets()).toBe(busy - 1);
    // Heartbeats go on while idle, and hold nothing.
    await firstValueFrom(beats);
    expect(refSockets()).toBe(busy - 1);
  });

  it('a child process that calls with a Client and an XClient (heartbeats on) and closes neither exits by itself, with code 0', async () => {
    const { address } = await startResourceServer();
    const { exited } = runFixture('forgotten-clients.ts', [address]);
    const { code, stdout, stderr } = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual([{ Second: 'Hello client' }, { Second: 'Hello xclient' }]);
  });

  it('a child process with calls in flight (and no deadline timer) lives until their replies arrive', async () => {
    const server = await startResourceServer();
    const { child, exited, printed } = runFixture('call-in-flight.ts', [server.address]);
    await Promise.all([printed('sent\n'), server.waiting(2)]);
    expect(child.exitCode).toBeNull();
    server.release();
    const { code, stdout, stderr } = await exited;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe(`sent\n${JSON.stringify(['done for client', 'done for xclient'])}\n`);
  });
});
