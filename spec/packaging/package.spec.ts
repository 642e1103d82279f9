// The package as a user gets it: `npm pack` (which builds through `prepare`), the tarball
// installed into a fresh project outside the repository, and every entry point used from there:
// ESM import, require(), TypeScript under nodenext and bundler resolution, the optional peers
// missing and present, and the `phobos` command.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/sources.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end; never throws (the caller looks at the code). */
function run(command: string, args: readonly string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a command that must succeed, failing the test with its output otherwise. */
async function ok(command: string, args: readonly string[], cwd: string): Promise<string> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

/** The version of a package installed in the repository (so the cache has it). */
function installedVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/** One call over loopback with the package's Server and Client, printing the reply. */
const CALL_ESM = `
import { Client, Server } from 'phobos';
const server = new Server();
server.register('Echo', { Say: (text) => 'echo ' + text });
const address = await server.listen('tcp@127.0.0.1:0');
const client = new Client(address);
console.log(await client.call('Echo', 'Say', 'esm'));
client.close();
await server.shutdown({ graceMs: 0 });
`;

const CALL_CJS = `
const { Client, Server } = require('phobos');
(async () => {
  const server = new Server();
  server.register('Echo', { Say: (text) => 'echo ' + text });
  const address = await server.listen('tcp@127.0.0.1:0');
  const client = new Client(address);
  console.log(await client.call('Echo', 'Say', 'cjs'));
  client.close();
  await server.shutdown({ graceMs: 0 });
})();
`;

/** TypeScript written against every entry point's types. */
const CONSUMER_TS = `
import { Client, RpcError, SerializeType, Server, XClient, p2pDiscovery } from 'phobos';
import { encodeFrame, FrameDecoder, Header, type Message } from 'phobos/protocol';
import { etcdDiscovery, type EtcdDiscoveryOptions } from 'phobos/etcd';
import { Gateway } from 'phobos/gateway';
import { serverMetrics } from 'phobos/metrics';
import { otelServer } from 'phobos/otel';
import * as testing from 'phobos/testing';

interface Args { readonly A: number; readonly B: number }

export async function use(address: string): Promise<number> {
  const server = new Server();
  server.register('Arith', { Mul: (args: Args) => args.A * args.B });
  const client = new Client(address, { serializeType: SerializeType.JSON });
  const product: number = await client.call<number>('Arith', 'Mul', { A: 6, B: 7 });
  const xclient = new XClient('Arith', { discovery: p2pDiscovery(address) });
  const options: EtcdDiscoveryOptions = { service: 'Arith', hosts: ['http://127.0.0.1:2379'] };
  const unused = [encodeFrame, FrameDecoder, Header, etcdDiscovery, Gateway, serverMetrics, otelServer, options, testing];
  const message: Message | undefined = undefined;
  xclient.close();
  client.close();
  if (!(new RpcError('x') instanceof Error) || unused.length === 0 || message !== undefined) throw new Error('types');
  return product;
}
`;

const TSCONFIG_BASE = {
  strict: true,
  noEmit: true,
  target: 'ES2022',
  lib: ['ES2022'],
  types: ['node'],
  skipLibCheck: false,
};

describe('the packed package, installed in a fresh project', () => {
  let work: string;
  let project: string;
  let tarball: string;
  let packed: { size: number; unpackedSize: number; files: Array<{ path: string }> };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'phobos-package-'));
    const output = await ok('npm', ['pack', '--json', '--pack-destination', work, '--loglevel=error'], ROOT);
    // npm prints the build's output before the JSON when prepare runs.
    const json = output.slice(output.indexOf('[\n'));
    const [info] = JSON.parse(json) as Array<typeof packed & { filename: string }>;
    if (info === undefined) throw new Error(`npm pack printed no package: ${output}`);
    packed = info;
    tarball = join(work, info.filename);
    project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }),
    );
    await ok('npm', ['install', tarball, ...NPM_QUIET], project);
  }, 600_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('package - the tarball holds the built code, the licence and the docs, and no sources, maps or specs', () => {
    const paths = packed.files.map((file) => file.path);
    for (const needed of [
      'LICENSE',
      'README.md',
      'CHANGELOG.md',
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/protocol/index.js',
      'dist/registry/index.js',
      'dist/gateway/index.js',
      'dist/metrics/index.js',
      'dist/otel/index.js',
      'dist/testing/index.js',
      'dist/cli/main.js',
    ]) {
      expect(paths).toContain(needed);
    }
    expect(paths.filter((path) => path.endsWith('.map'))).toEqual([]);
    expect(paths.filter((path) => !path.startsWith('dist/') && path.endsWith('.ts'))).toEqual([]);
    expect(paths.filter((path) => path.includes('spec'))).toEqual([]);
  });

  it('package - rxjs comes as a peer dependency; etcd3, prom-client and @opentelemetry/api are not installed unasked', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'node_modules/phobos/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies)).not.toContain('rxjs');
    expect(manifest.peerDependencies.rxjs).toBeDefined();
    const installed = (name: string) => {
      try {
        readFileSync(join(project, 'node_modules', name, 'package.json'));
        return true;
      } catch {
        return false;
      }
    };
    expect(installed('rxjs')).toBe(true);
    expect(
      ['etcd3', 'prom-client', '@opentelemetry/api', '@grpc/grpc-js', 'cockatiel'].filter(installed),
    ).toEqual([]);
  });

  it('package - ESM import of the root entry point makes a call over loopback', async () => {
    const result = await ok('node', ['--input-type=module', '-e', CALL_ESM], project);
    expect(result.trim()).toBe('echo esm');
  });

  it('package - require() of the root entry point makes a call over loopback', async () => {
    const result = await ok('node', ['-e', CALL_CJS], project);
    expect(result.trim()).toBe('echo cjs');
  });

  it('package - phobos/protocol, phobos/gateway and phobos/testing load without optional peers, by import and by require', async () => {
    const esm = await ok(
      'node',
      [
        '--input-type=module',
        '-e',
        `const p = await import('phobos/protocol'); const g = await import('phobos/gateway'); const t = await import('phobos/testing');
         console.log(typeof p.encodeFrame, typeof p.FrameSocket, typeof g.Gateway, Object.keys(t).length > 0);`,
      ],
      project,
    );
    expect(esm.trim()).toBe('function function function true');
    const cjs = await ok(
      'node',
      [
        '-e',
        `console.log(typeof require('phobos/protocol').decodeFrame, typeof require('phobos/gateway').Gateway)`,
      ],
      project,
    );
    expect(cjs.trim()).toBe('function function');
    // The wire level is not in the root entry point.
    const root = await ok(
      'node',
      [
        '-e',
        `const p = require('phobos'); console.log('FrameSocket' in p, 'encodeFrame' in p, 'Client' in p)`,
      ],
      project,
    );
    expect(root.trim()).toBe('false false true');
  });

  it.each([
    ['phobos/etcd', 'etcd3', 'npm install etcd3'],
    ['phobos/metrics', 'prom-client', 'npm install prom-client'],
    ['phobos/otel', '@opentelemetry/api', 'npm install @opentelemetry/api'],
  ])(
    'package - %s without its optional peer fails naming %s and the command that installs it',
    async (entry, peer, command) => {
      const imported = await run('node', ['--input-type=module', '-e', `await import('${entry}')`], project);
      expect(imported.code).not.toBe(0);
      expect(imported.stderr).toContain(`${entry} needs the package "${peer}"`);
      expect(imported.stderr).toContain(command);
      const required = await run('node', ['-e', `require('${entry}')`], project);
      expect(required.code).not.toBe(0);
      expect(required.stderr).toContain(`${entry} needs the package "${peer}"`);
    },
  );

  it('package - the phobos command runs from the installed package', async () => {
    const help = await ok(join(project, 'node_modules/.bin/phobos'), ['--help'], project);
    expect(help).toContain('call');
    expect(help).toContain('ping');
    // Without the optional etcd3, --etcd is refused with the package to install.
    const list = await run(
      join(project, 'node_modules/.bin/phobos'),
      ['list', '--etcd', 'http://127.0.0.1:1'],
      project,
    );
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('npm install etcd3');
  });

  describe('with the optional peers and @types/node installed', () => {
    beforeAll(async () => {
      const peers = ['etcd3', 'prom-client', '@opentelemetry/api', '@types/node'].map(
        (name) => `${name}@${installedVersion(name)}`,
      );
      await ok('npm', ['install', ...peers, ...NPM_QUIET], project);
      writeFileSync(join(project, 'consumer.ts'), CONSUMER_TS);
      for (const [name, resolution] of [
        ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }],
        ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
      ] as const) {
        writeFileSync(
          join(project, `tsconfig.${name}.json`),
          JSON.stringify({ compilerOptions: { ...TSCONFIG_BASE, ...resolution }, files: ['consumer.ts'] }),
        );
      }
    }, 300_000);

    it('package - phobos/etcd, phobos/metrics and phobos/otel load once their peers are installed', async () => {
      const loaded = await ok(
        'node',
        [
          '--input-type=module',
          '-e',
          `const e = await import('phobos/etcd'); const m = await import('phobos/metrics'); const o = await import('phobos/otel');
           const { Registry } = await import('prom-client');
           const { Server } = await import('phobos');
           const metrics = m.serverMetrics(new Server(), { registry: new Registry() });
           console.log(typeof e.etcdDiscovery, typeof e.etcdRegistry, typeof metrics, typeof o.otelServer);`,
        ],
        project,
      );
      expect(loaded.trim()).toBe('function function object function');
      const required = await ok(
        'node',
        ['-e', `console.log(typeof require('phobos/etcd').etcdDiscovery)`],
        project,
      );
      expect(required.trim()).toBe('function');
    });

    it.each(['nodenext', 'bundler'])(
      'package - TypeScript type-checks a consumer of every entry point under %s resolution',
      async (name) => {
        const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
        const result = await run('node', [tsc, '-p', `tsconfig.${name}.json`], project);
        expect(result.stdout + result.stderr).toBe('');
        expect(result.code).toBe(0);
      },
      120_000,
    );
  });
});
