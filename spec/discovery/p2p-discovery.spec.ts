import { describe, expect, it } from 'vitest';
import { p2pDiscovery } from '../../lib/discovery/index.js';
import { thrown } from '../support/thrown.js';
import { record } from './record.js';

describe('p2pDiscovery', () => {
  it('p2pDiscovery - emits the one server once, keyed by its address, then completes', () => {
    const discovery = p2pDiscovery('tcp@127.0.0.1:8972');
    const seen = record(discovery.instances$);
    expect(seen.values).toEqual([
      [{ key: 'tcp@127.0.0.1:8972', address: 'tcp@127.0.0.1:8972', metadata: {} }],
    ]);
    expect(seen.completed).toBe(true);
  });

  it('p2pDiscovery - emits the same frozen list to every subscriber', () => {
    const discovery = p2pDiscovery('unix@/tmp/phobos.sock');
    const first = record(discovery.instances$).latest();
    const second = record(discovery.instances$).latest();
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first?.[0])).toBe(true);
    expect(Object.isFrozen(first?.[0]?.metadata)).toBe(true);
  });

  it('p2pDiscovery - parses the metadata in query format', () => {
    const [instance] =
      record(p2pDiscovery('127.0.0.1:8972', 'weight=10&group=a%2Cb').instances$).latest() ?? [];
    expect({ ...instance?.metadata }).toEqual({ weight: '10', group: 'a,b' });
    expect(instance?.key).toBe('127.0.0.1:8972');
  });

  it.each([
    ['udp@127.0.0.1:1', RangeError],
    ['tcp@127.0.0.1', RangeError],
    ['tcp@127.0.0.1:99999', RangeError],
    ['', RangeError],
    [undefined, TypeError],
    [8972, TypeError],
  ])('p2pDiscovery - rejects the address %j at creation', (address, kind) => {
    const error = thrown(() => p2pDiscovery(address as string));
    expect(error).toBeInstanceOf(kind);
    expect((error as Error).message).toMatch(/^p2pDiscovery address/);
  });

  it('p2pDiscovery - rejects malformed or non-string metadata', () => {
    expect(() => p2pDiscovery('tcp@h:1', 'a=%zz')).toThrow(/^p2pDiscovery metadata/);
    expect(() => p2pDiscovery('tcp@h:1', 5 as unknown as string)).toThrow(TypeError);
  });
});
