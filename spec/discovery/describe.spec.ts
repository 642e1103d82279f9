import { describe, expect, it } from 'vitest';
import { memoryRegistry } from '../../lib/discovery/memory-registry.js';
import { multipleServersDiscovery } from '../../lib/discovery/multiple-servers-discovery.js';
import { p2pDiscovery } from '../../lib/discovery/p2p-discovery.js';

describe('Discovery.describe', () => {
  it('p2pDiscovery - names its one address, with no error', () => {
    expect(p2pDiscovery('tcp@127.0.0.1:8972').describe?.()).toEqual({
      source: 'p2pDiscovery of tcp@127.0.0.1:8972',
    });
  });

  it('multipleServersDiscovery - says how many servers its list holds now, and when it is closed', () => {
    const discovery = multipleServersDiscovery([
      { address: 'tcp@10.0.0.1:1' },
      { address: 'tcp@10.0.0.2:1' },
    ]);
    expect(discovery.describe?.()).toEqual({ source: 'multipleServersDiscovery of 2 servers' });
    discovery.update([{ address: 'tcp@10.0.0.3:1' }]);
    expect(discovery.describe?.()).toEqual({ source: 'multipleServersDiscovery of 1 server' });
    discovery.close();
    expect(discovery.describe?.()).toEqual({ source: 'multipleServersDiscovery of 1 server (closed)' });
  });

  it('memoryRegistry - a discovery names the registry, the service and its group, and says when the registry is closed', () => {
    const registry = memoryRegistry();
    expect(registry.discovery('Arith').describe?.()).toEqual({ source: 'a memoryRegistry, service "Arith"' });
    const blue = registry.discovery('Arith', { group: 'blue' });
    expect(blue.describe?.()).toEqual({ source: 'a memoryRegistry, service "Arith", group "blue"' });
    registry.close();
    expect(blue.describe?.()).toEqual({
      source: 'a memoryRegistry, service "Arith" (the registry is closed), group "blue"',
    });
  });
});
