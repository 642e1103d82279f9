import { describe, expect, it } from 'vitest';
import { Server, type ServiceRegistry } from '../../lib/index.js';
import { trackHandles } from '../support/handles.js';

const { defer } = trackHandles();

function recordingRegistry(): ServiceRegistry & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    register: (service, address, metadata) => void log.push(`+${service}@${address}?${metadata}`),
    unregister: (service, address) => void log.push(`-${service}@${address}`),
  };
}

const impl = { Ping: () => 'pong' };

describe('Server registries', () => {
  it('publishes every service under the bound address on listen, and later registrations too', async () => {
    const registry = recordingRegistry();
    const warnings: string[] = [];
    const server = new Server({ registries: [registry], logger: { warn: (m) => warnings.push(m) } });
    server.register('A', impl, { metadata: 'weight=2' });
    const address = await server.listen('tcp@127.0.0.1:0');
    defer(() => server.shutdown({ graceMs: 0 }));
    expect(registry.log).toEqual([`+A@${address}?weight=2`]);
    server.register('B', impl);
    expect(registry.log).toEqual([`+A@${address}?weight=2`, `+B@${address}?`]);
    server.unregister('B');
    expect(registry.log.at(-1)).toBe(`-B@${address}`);
    expect(warnings).toEqual([]);
  });

  it('withdraws every service first thing on shutdown, before the connections close', async () => {
    const log: string[] = [];
    let connectionsWhenWithdrawn = -1;
    const server = new Server({
      logger: { warn: () => {} },
      registries: [
        {
          register: (service) => void log.push(`+${service}`),
          unregister: async (service) => {
            connectionsWhenWithdrawn = server.connectionCount;
            log.push(`-${service}`);
          },
        },
      ],
    });
    server.register('A', impl);
    const address = await server.listen('tcp@127.0.0.1:0');
    const { Client } = await import('../../lib/index.js');
    const client = new Client(address);
    defer(() => client.close());
    await expect(client.call('A', 'Ping')).resolves.toBe('pong');
    await server.shutdown({ graceMs: 0 });
    expect(log).toEqual(['+A', '-A']);
    expect(connectionsWhenWithdrawn).toBe(1);
  });

  it('publishes the advertised address when one is given', async () => {
    const registry = recordingRegistry();
    const server = new Server({ registries: [registry] });
    server.register('A', impl);
    await server.listen('tcp@127.0.0.1:0', { advertiseAddress: 'tcp@10.1.2.3:8972' });
    defer(() => server.shutdown({ graceMs: 0 }));
    expect(registry.log).toEqual(['+A@tcp@10.1.2.3:8972?']);
    await expect(server.listen('tcp@127.0.0.1:0', { advertiseAddress: 'nope' })).rejects.toThrow(RangeError);
  });

  it('a registry that fails is logged and the server goes on', async () => {
    const warnings: string[] = [];
    const server = new Server({
      logger: { warn: (message) => warnings.push(message) },
      registries: [
        {
          register: () => Promise.reject(new Error('registry down')),
          unregister: () => {
            throw new Error('still down');
          },
        },
      ],
    });
    server.register('A', impl);
    const address = await server.listen('tcp@127.0.0.1:0');
    await server.shutdown({ graceMs: 0 });
    expect(warnings).toEqual([
      `could not register A at ${address}: registry down`,
      `could not unregister A at ${address}: still down`,
    ]);
  });

  it('rejects registries that are not registries', () => {
    expect(() => new Server({ registries: {} as never })).toThrow(/registries must be an array/);
    expect(() => new Server({ registries: [{ register: () => {} }] as never })).toThrow(/unregister/);
  });
});
