import { describe, expect, it } from 'vitest';
import { Client } from '../../lib/client/client.js';
import { SerializeType } from '../../lib/codec/index.js';
import { ConnectionClosedError } from '../../lib/errors/index.js';
import { Server } from '../../lib/server/server.js';
import { MemoryNetwork } from '../../lib/testing/memory-network.js';
import { silentLogger } from '../../lib/util/logger.js';

/** A server on an in-memory network whose `Hold` calls wait until released. */
async function world() {
  const network = new MemoryNetwork();
  const server = new Server({ logger: silentLogger });
  const held: (() => void)[] = [];
  server.register('Echo', {
    Say: (args: unknown) => args,
    Hold: () => new Promise<string>((resolve) => held.push(() => resolve('released'))),
  });
  await server.listen('memory@echo', { transport: network });
  const client = new Client('memory@echo', { transport: network, serializeType: SerializeType.JSON });
  return { network, server, client, held };
}

describe('Client over the in-memory network', () => {
  it('Client - concurrent first calls share one dial and one connection', async () => {
    const { network, server, client } = await world();
    const replies = await Promise.all([1, 2, 3, 4].map((n) => client.call('Echo', 'Say', n)));
    expect(replies).toEqual([1, 2, 3, 4]);
    expect(network.linkCount('memory@echo')).toBe(1);
    expect(server.connectionCount).toBe(1);
    await client.close();
    await server.shutdown({ graceMs: 0 });
  });

  it('Client - after the connection drops, the next call dials again and is answered', async () => {
    const { network, server, client } = await world();
    expect(await client.call('Echo', 'Say', 'before')).toBe('before');
    network.cut('memory@echo');
    // The cut is seen a hop later; the call after it dials a new connection.
    await new Promise((resolve) => setImmediate(resolve));
    expect(network.linkCount('memory@echo')).toBe(0);
    expect(await client.call('Echo', 'Say', 'after')).toBe('after');
    expect(network.linkCount('memory@echo')).toBe(1);
    await client.close();
    await server.shutdown({ graceMs: 0 });
  });

  it('Client - a call pending when the connection drops fails with ConnectionClosedError; the client goes on', async () => {
    const { network, server, client, held } = await world();
    const pending = client.call('Echo', 'Hold', {});
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    network.cut('memory@echo');
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(await client.call('Echo', 'Say', 'again')).toBe('again');
    await client.close();
    await server.shutdown({ graceMs: 0 });
  });

  it('Client - close fails pending calls, closes the connection, and later calls reject at once', async () => {
    const { network, server, client, held } = await world();
    const pending = client.call('Echo', 'Hold', {});
    while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await client.close();
    await expect(pending).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(network.linkCount('memory@echo')).toBe(0);
    await expect(client.call('Echo', 'Say', 1)).rejects.toThrow(/client for memory@echo is closed/);
    await client.close();
    await server.shutdown({ graceMs: 0 });
  });

  it('Client - close while the first dial is pending fails the waiting call and dials nothing more', async () => {
    const network = new MemoryNetwork({ dialDelayMs: 50 });
    const server = new Server({ logger: silentLogger });
    server.register('Echo', { Say: (args: unknown) => args });
    await server.listen('memory@echo', { transport: network });
    const client = new Client('memory@echo', { transport: network });
    const waiting = client.call('Echo', 'Say', 1);
    await client.close();
    await expect(waiting).rejects.toBeInstanceOf(ConnectionClosedError);
    expect(network.linkCount('memory@echo')).toBe(0);
    await server.shutdown({ graceMs: 0 });
  });
});
