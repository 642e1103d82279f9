import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startEtcd, stopAllEtcd } from '../support/etcd.js';
import { etcdKeys, freshBasePath } from '../support/etcd-helpers.js';

const run = promisify(execFile);
const SERVER = fileURLToPath(new URL('../../examples/etcd/server.ts', import.meta.url));
const CLIENT = fileURLToPath(new URL('../../examples/etcd/client.ts', import.meta.url));

afterAll(stopAllEtcd);

describe('examples/etcd', { timeout: 60_000 }, () => {
  it('server.ts registers in etcd, client.ts calls it through etcd, SIGTERM removes the key and the server exits', async () => {
    const etcd = await startEtcd({ name: 'example' });
    const basePath = freshBasePath();
    const server = spawn(
      process.execPath,
      ['--import', 'tsx', SERVER, '--addr', '127.0.0.1:0', '--etcd', etcd.clientUrl, '--base', basePath],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = once(server, 'exit');
    try {
      const lines = createInterface({ input: server.stdout })[Symbol.asyncIterator]();
      const next = async (): Promise<string> => {
        const line = await lines.next();
        if (line.done === true) throw new Error('the server ended its output');
        return line.value;
      };
      const address = /^serving HelloWorld on (\S+)$/.exec(await next())?.[1];
      expect(address).toMatch(/^tcp@127\.0\.0\.1:\d+$/);
      // Said only once etcd holds the key.
      expect(await next()).toBe(
        `registered ${address} in etcd ${etcd.clientUrl} under ${basePath}/HelloWorld`,
      );
      expect(await etcdKeys(etcd.clientUrl, `${basePath}/`)).toEqual({
        [`${basePath}/HelloWorld`]: 'HelloWorld',
        [`${basePath}/HelloWorld/${address}`]: 'state=active&weight=10',
      });

      const { stdout } = await run(process.execPath, [
        '--import',
        'tsx',
        CLIENT,
        '--etcd',
        etcd.clientUrl,
        '--base',
        basePath,
        '--count',
        '5',
      ]);
      const output = stdout.trim().split('\n');
      expect(output).toEqual([
        '1: Hello call 1',
        '2: Hello call 2',
        '3: Hello call 3',
        '4: Hello call 4',
        '5: Hello call 5',
        'calls=5 failed=0',
      ]);

      server.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
      expect(await etcdKeys(etcd.clientUrl, `${basePath}/HelloWorld/`)).toEqual({});
    } finally {
      server.kill('SIGKILL');
      await etcd.remove();
    }
  });
});
