import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../lib/index.js';
import { serveCluster } from '../../lib/server/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = 'spec/fixtures/cluster/main.ts';

/** The fixture's primary, read line by line. */
interface Primary {
  readonly child: ChildProcess;
  /** The next stdout line matching `pattern`; rejects when the process ends first. */
  line(pattern: RegExp): Promise<RegExpExecArray>;
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: Primary[] = [];
afterEach(async () => {
  for (const primary of started.splice(0)) {
    if (primary.child.exitCode === null && primary.child.signalCode === null) primary.child.kill('SIGKILL');
    await primary.ended;
  }
});

function startPrimary(env: Record<string, string> = {}): Primary {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const lines: string[] = [];
  const waiting = new Set<() => void>();
  let done = false;
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiting) wake();
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
      for (const wake of waiting) wake();
    });
  });
  const primary: Primary = {
    child,
    ended,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          while (lines.length > 0) {
            const match = pattern.exec(lines.shift() as string);
            if (match) {
              waiting.delete(check);
              resolve(match);
              return;
            }
          }
          if (done) {
            waiting.delete(check);
            reject(new Error(`the primary ended without a line matching ${pattern}; stderr: ${stderr}`));
          }
        };
        waiting.add(check);
        check();
      }),
  };
  started.push(primary);
  return primary;
}

async function pidOf(client: Client): Promise<number> {
  const reply = await client.call<{ Pid: number }>('Pid', 'Get', {});
  return reply.Pid;
}

/** A call on a new connection: its worker's pid, or undefined when the call failed. */
async function pidOnNewConnection(address: string): Promise<number | undefined> {
  const client = new Client(address);
  try {
    return await pidOf(client);
  } catch {
    return undefined;
  } finally {
    await client.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function refused(address: string): Promise<boolean> {
  const match = /^tcp@(.+):(\d+)$/.exec(address) as RegExpExecArray;
  return new Promise((resolve) => {
    const socket = connect(Number(match[2]), match[1] as string);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('serveCluster', () => {
  it('serveCluster - spreads connections over the workers, restarts a killed one, closes on SIGTERM', async () => {
    const primary = startPrimary();
    const address = (await primary.line(/^address (tcp@\S+)$/))[1] as string;
    expect(address).toMatch(/^tcp@127\.0\.0\.1:[1-9]\d*$/);

    const clients = Array.from({ length: 8 }, () => new Client(address));
    try {
      const pids = new Set<number>();
      for (let round = 0; round < 5; round++) {
        for (const pid of await Promise.all(clients.map(pidOf))) pids.add(pid);
      }
      expect(pids.size).toBe(2);
      const [victim, survivor] = [...pids] as [number, number];

      process.kill(victim, 'SIGKILL');
      let replacement: number | undefined;
      let succeeded = 0;
      // Bounded by the test's timeout: the replacement takes a restart delay and a boot.
      while (replacement === undefined) {
        const pid = await pidOnNewConnection(address);
        if (pid === undefined) continue;
        succeeded++;
        expect(pid).not.toBe(victim);
        if (pid !== survivor) replacement = pid;
      }
      expect(succeeded).toBeGreaterThan(0);
      expect(alive(victim)).toBe(false);

      primary.child.kill('SIGTERM');
      await primary.line(/^closed$/);
      expect(await primary.ended).toEqual({ code: 0, signal: null });
      expect(await refused(address)).toBe(true);
      expect(alive(survivor)).toBe(false);
      expect(alive(replacement)).toBe(false);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  }, 90_000);

  it('serveCluster - rejects the address and exits when a worker cannot start', async () => {
    const primary = startPrimary({ CLUSTER_FIXTURE_FAIL: '1' });
    const failure = (await primary.line(/^failed: (.*)$/))[1];
    expect(failure).toMatch(/before listening on tcp@127\.0\.0\.1:\d+: setup failed on purpose/);
    expect(await primary.ended).toEqual({ code: 1, signal: null });
  }, 60_000);
});

describe('serveCluster options', () => {
  const base = { address: 'tcp@127.0.0.1:0', setup: () => {} };
  const cases: [string, unknown, ErrorConstructor, RegExp][] = [
    ['options not an object', null, TypeError, /serveCluster options must be an object/],
    ['no setup', { address: base.address }, TypeError, /setup must be a function/],
    ['address not a string', { ...base, address: 8972 }, TypeError, /address must be a string/],
    ['address as a URL', { ...base, address: 'tcp://127.0.0.1:0' }, RangeError, /tcp@/],
    ['workers 0', { ...base, workers: 0 }, RangeError, /workers must be an integer in 1\.\.1024, got 0/],
    ['workers 1.5', { ...base, workers: 1.5 }, RangeError, /workers must be an integer/],
    ['workers a string', { ...base, workers: '2' }, RangeError, /workers must be an integer/],
    ['negative restartDelayMs', { ...base, restartDelayMs: -1 }, RangeError, /restartDelayMs/],
    [
      'negative maxRestartsPerMinute',
      { ...base, maxRestartsPerMinute: -1 },
      RangeError,
      /maxRestartsPerMinute/,
    ],
    ['shutdownGraceMs not a number', { ...base, shutdownGraceMs: '5s' }, RangeError, /shutdownGraceMs/],
    [
      'handleSignals not a boolean',
      { ...base, handleSignals: 'yes' },
      RangeError,
      /handleSignals must be a boolean/,
    ],
    ['registries not a function', { ...base, registries: [] }, RangeError, /registries must be a function/],
    [
      'serverOptions.registries',
      { ...base, serverOptions: { registries: [] } },
      RangeError,
      /serverOptions\.registries is refused/,
    ],
    [
      'a bad server option',
      { ...base, serverOptions: { maxConcurrentRequests: 0 } },
      RangeError,
      /maxConcurrentRequests/,
    ],
    ['a bad advertiseAddress', { ...base, advertiseAddress: 'http://x:1' }, RangeError, /tcp@/],
  ];
  for (const [name, options, type, message] of cases) {
    it(`serveCluster - refuses ${name} before forking`, () => {
      const call = (): unknown => serveCluster(options as never);
      expect(call).toThrow(type);
      expect(call).toThrow(message);
    });
  }
});
