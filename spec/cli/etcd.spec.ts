import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdRegistry } from '../../lib/registry/index.js';
import { Server } from '../../lib/server/server.js';
import { silentLogger } from '../../lib/util/logger.js';
import { type EtcdNode, startEtcd, stopAllEtcd } from '../support/etcd.js';
import { freshBasePath } from '../support/etcd-helpers.js';
import { trackHandles } from '../support/handles.js';
import { phobos, startCli } from './cli-process.js';

const { defer } = trackHandles();
let etcd: EtcdNode;

beforeAll(async () => {
  etcd = await startEtcd({ name: 'cli-tests' });
});
afterAll(stopAllEtcd);

/** A server registered in etcd under `basePath`; `stop()` shuts it down (its keys go first). */
async function startRegistered(basePath: string, services: Readonly<Record<string, string>>) {
  const registry = etcdRegistry({ hosts: etcd.clientUrl, basePath, ttlSeconds: 10, logger: silentLogger });
  const server = new Server({ logger: silentLogger, registries: [registry] });
  for (const [name, metadata] of Object.entries(services)) {
    server.register(
      name,
      {
        Greet(args: { First: string }) {
          return { Second: `Hello ${args.First}`, From: name };
        },
      },
      { metadata },
    );
  }
  const address = await server.listen('tcp@127.0.0.1:0');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await server.shutdown({ graceMs: 0 });
    await registry.close();
  };
  defer(stop);
  return { address, registry, stop };
}

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (bound === null || typeof bound === 'string') throw new Error('no TCP address');
  return bound.port;
}

describe('phobos list, watch and call --etcd against a real etcd', { timeout: 60_000 }, () => {
  it('list - prints every service under the base path with its servers, state and metadata', async () => {
    const basePath = freshBasePath();
    const a = await startRegistered(basePath, { HelloWorld: 'weight=10&group=blue', Arith: 'weight=1' });
    await a.registry.setState('inactive', 'Arith');
    const b = await startRegistered(basePath, { HelloWorld: 'weight=5' });

    const [all, one, json] = await Promise.all([
      phobos(['list', '--etcd', etcd.clientUrl, '--base', basePath]),
      phobos(['list', '--etcd', etcd.clientUrl, '--base', basePath, 'Arith']),
      phobos(['list', '--etcd', etcd.clientUrl, '--base', basePath, '--json']),
    ]);
    expect(all.code).toBe(0);
    const [first, second] = [a.address, b.address].sort();
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Arith (1 server)');
    expect(lines[1]).toMatch(new RegExp(`^  ${a.address} +inactive +state=inactive&weight=1$`));
    expect(lines[2]).toBe('HelloWorld (2 servers)');
    expect(lines.slice(3).map((line) => line.trim().split(/\s+/)[0])).toEqual([first, second]);
    expect(all.stdout).toMatch(new RegExp(`^  ${a.address} +active +group=blue&weight=10$`, 'm'));

    expect(one.code).toBe(0);
    expect(one.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(one.stdout).toMatch(/^Arith \(1 server\)$/m);

    expect(json.code).toBe(0);
    const listed = JSON.parse(json.stdout);
    expect(listed.basePath).toBe(basePath);
    expect(listed.services.map((s: { service: string }) => s.service)).toEqual(['Arith', 'HelloWorld']);
    expect(listed.services[0].servers).toEqual([
      { address: a.address, state: 'inactive', metadata: { weight: '1', state: 'inactive' } },
    ]);
  });

  it('watch --count - prints a server added, changed and removed, one line each, then exits 0', async () => {
    const basePath = freshBasePath();
    const cli = startCli([
      'watch',
      '--etcd',
      etcd.clientUrl,
      '--base',
      basePath,
      'HelloWorld',
      '--count',
      '3',
    ]);
    defer(() => cli.kill());
    await cli.waitFor('stderr', /^watching HelloWorld under .*: 0 servers now$/m);

    const server = await startRegistered(basePath, { HelloWorld: 'weight=10' });
    await cli.waitFor('stdout', /^added /m);
    await server.registry.setState('inactive');
    await cli.waitFor('stdout', /^changed /m);
    await server.stop();
    const result = await cli.done;

    expect(result.code).toBe(0);
    const at = server.address.replaceAll('.', '\\.');
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^added +${at} +active +weight=10$`)),
      expect.stringMatching(new RegExp(`^changed +${at} +inactive +state=inactive&weight=10$`)),
      expect.stringMatching(new RegExp(`^removed +${at} +inactive +state=inactive&weight=10$`)),
    ]);
  });

  it('watch --json - reports the servers already there as added, one JSON object per line', async () => {
    const basePath = freshBasePath();
    const server = await startRegistered(basePath, { HelloWorld: 'weight=3' });
    const result = await phobos([
      'watch',
      '--etcd',
      etcd.clientUrl,
      '--base',
      basePath,
      'HelloWorld',
      '--count',
      '1',
      '--json',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      type: 'added',
      address: server.address,
      state: 'active',
      metadata: { weight: '3' },
    });
  });

  it('watch - runs until Ctrl-C, then exits 0', async () => {
    const basePath = freshBasePath();
    const server = await startRegistered(basePath, { HelloWorld: 'weight=1' });
    const cli = startCli(['watch', '--etcd', etcd.clientUrl, '--base', basePath, 'HelloWorld']);
    defer(() => cli.kill());
    await cli.waitFor('stdout', /^added /m);
    cli.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(server.address);
  });

  it('call --etcd - finds the server in etcd and calls it; -v names the server that answered', async () => {
    const basePath = freshBasePath();
    const server = await startRegistered(basePath, { HelloWorld: 'weight=10' });
    const [call, bench, none] = await Promise.all([
      phobos([
        'call',
        '--etcd',
        etcd.clientUrl,
        '--base',
        basePath,
        'HelloWorld.Greet',
        '{"First":"etcd"}',
        '-v',
      ]),
      phobos([
        'bench',
        '--etcd',
        etcd.clientUrl,
        '--base',
        basePath,
        'HelloWorld.Greet',
        '{}',
        '-n',
        '20',
        '--json',
      ]),
      phobos(['call', '--etcd', etcd.clientUrl, '--base', basePath, 'Nobody.Greet', '{}']),
    ]);
    expect(call.code).toBe(0);
    expect(JSON.parse(call.stdout)).toEqual({ Second: 'Hello etcd', From: 'HelloWorld' });
    expect(call.stderr).toMatch(
      new RegExp(`^< ok in [\\d.]+ ms from ${server.address.replaceAll('.', '\\.')} `, 'm'),
    );

    expect(bench.code).toBe(0);
    expect(JSON.parse(bench.stdout)).toMatchObject({ calls: 20, ok: 20 });

    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/^phobos call: NO_INSTANCE: no active server of Nobody under /);
  });

  it('list, watch, call --etcd - an etcd that does not answer exits 3 within --connect-timeout', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const results = await Promise.all([
      phobos(['list', '--etcd', dead, '--connect-timeout', '300ms']),
      phobos(['watch', '--etcd', dead, 'HelloWorld', '--connect-timeout', '300ms']),
      phobos(['call', '--etcd', dead, 'HelloWorld.Greet', '{}', '--connect-timeout', '300ms']),
    ]);
    for (const result of results) {
      expect(result.code).toBe(3);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(results[0]?.stderr).toMatch(/^phobos list: UNAVAILABLE: cannot list \/phobos\/ in etcd/m);
    expect(results[1]?.stderr).toMatch(
      /^phobos watch: UNAVAILABLE: etcd did not list HelloWorld under \/phobos/m,
    );
  });
});
