import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ETCD_NOT_INSTALLED,
  type EtcdNode,
  isEtcdHealthy,
  startEtcd,
  startEtcdCluster,
  stopAllEtcd,
  waitForEtcdHealthy,
} from '../support/etcd.js';

afterAll(stopAllEtcd);

/** Runs `use` with an etcd3 client on `hosts`, and closes the client whatever happens. */
async function withClient<T>(
  hosts: string | readonly string[],
  use: (client: Etcd3) => Promise<T>,
): Promise<T> {
  const client = new Etcd3({ hosts: typeof hosts === 'string' ? hosts : [...hosts] });
  try {
    return await use(client);
  } finally {
    client.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function member(nodes: readonly EtcdNode[], index: number): EtcdNode {
  const node = nodes[index];
  if (node === undefined) throw new Error(`no member ${index}`);
  return node;
}

describe('startEtcd', () => {
  it('startEtcd - starts a healthy single member that serves put and get', async () => {
    const node = await startEtcd({ name: 'single' });
    expect(node.name).toBe('single');
    expect(node.clientUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(node.running).toBe(true);
    expect(await isEtcdHealthy(node.clientUrl)).toBe(true);

    const value = await withClient(node.clientUrl, async (client) => {
      await client.put('greeting').value('hello');
      return client.get('greeting').string();
    });
    expect(value).toBe('hello');
    await node.remove();
  });

  it('stop - ends the process and keeps the data dir until remove', async () => {
    const node = await startEtcd();
    const { pid, dataDir } = node;
    expect(isAlive(pid)).toBe(true);

    await node.stop();
    expect(node.running).toBe(false);
    expect(isAlive(pid)).toBe(false);
    expect(await isEtcdHealthy(node.clientUrl)).toBe(false);
    expect(existsSync(dataDir)).toBe(true);

    await node.remove();
    expect(existsSync(dataDir)).toBe(false);
  });

  it('restart - keeps the data, and with wipe comes back empty with revisions starting over', async () => {
    const node = await startEtcd();
    const firstPid = node.pid;
    await withClient(node.clientUrl, async (client) => {
      await client.put('kept').value('1');
      await client.put('kept').value('2');
    });

    await node.restart();
    expect(node.pid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    await withClient(node.clientUrl, async (client) => {
      expect(await client.get('kept').string()).toBe('2');
    });

    await node.restart({ wipe: true });
    expect(existsSync(node.dataDir)).toBe(true);
    await withClient(node.clientUrl, async (client) => {
      expect(await client.get('kept').string()).toBeNull();
      const put = await client.put('fresh').value('x').exec();
      expect(put.header.revision).toBe('2');
    });
    await node.remove();
  });

  it('restart - fails with a clear error when its port has been taken meanwhile', async () => {
    const node = await startEtcd();
    await node.stop();
    const port = Number(new URL(node.clientUrl).port);
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    try {
      await expect(node.restart()).rejects.toThrow(
        `cannot restart: client port of etcd member ${node.name} (127.0.0.1:${port}) is taken by another process`,
      );
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    await node.remove();
  });

  it('startEtcd - says how to install etcd when it is not on PATH', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startEtcd()).rejects.toThrow(ETCD_NOT_INSTALLED);
    } finally {
      process.env.PATH = path;
    }
  });
});

describe('startEtcdCluster', () => {
  it('startEtcdCluster - replicates a put through member 0 to member 2, and stop removes every data dir', async () => {
    const cluster = await startEtcdCluster(3);
    expect(cluster.nodes).toHaveLength(3);
    expect(new Set(cluster.clientUrls).size).toBe(3);

    await withClient(member(cluster.nodes, 0).clientUrl, (client) =>
      client.put('replicated').value('yes').exec(),
    );
    const read = await withClient(member(cluster.nodes, 2).clientUrl, (client) =>
      client.get('replicated').string(),
    );
    expect(read).toBe('yes');

    const dataDirs = cluster.nodes.map((node) => node.dataDir);
    await cluster.stop();
    expect(cluster.nodes.every((node) => !node.running)).toBe(true);
    expect(dataDirs.filter((dir) => existsSync(dir))).toEqual([]);
  });

  it('startEtcdCluster - keeps serving after member 0 is killed, and member 0 rejoins when restarted', async () => {
    const cluster = await startEtcdCluster(3);
    const [first, ...others] = cluster.nodes;
    if (first === undefined) throw new Error('no member 0');
    const survivors = cluster.clientUrls.slice(1);
    await expect(member(cluster.nodes, 1).restart({ wipe: true })).rejects.toThrow(
      'only a single-node member can be wiped',
    );

    await first.kill();
    expect(first.running).toBe(false);
    await waitForEtcdHealthy(survivors);
    await withClient(member(cluster.nodes, 1).clientUrl, (client) =>
      client.put('while-down').value('1').exec(),
    );
    expect(
      await withClient(member(cluster.nodes, 2).clientUrl, (client) => client.get('while-down').string()),
    ).toBe('1');

    await first.restart();
    expect(others.every((node) => node.running)).toBe(true);
    await waitForEtcdHealthy(cluster.clientUrls);
    expect(await withClient(first.clientUrl, (client) => client.get('while-down').string())).toBe('1');
    await withClient(first.clientUrl, (client) => client.put('after-rejoin').value('2').exec());
    expect(await withClient(survivors, (client) => client.get('after-rejoin').string())).toBe('2');

    await cluster.stop();
  });
});
