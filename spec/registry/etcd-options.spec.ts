import { describe, expect, it } from 'vitest';
import { etcdDiscovery, etcdRegistry } from '../../lib/registry/index.js';

// No etcd is contacted: options are checked when the registry or discovery is made.
describe('etcd options', () => {
  it('etcd options - are checked at once with clear errors', () => {
    const hosts = 'http://127.0.0.1:2379';
    expect(() => etcdRegistry(undefined as never)).toThrow(TypeError);
    expect(() => etcdRegistry({} as never)).toThrow(/hosts/);
    expect(() => etcdRegistry({ hosts: [] })).toThrow(RangeError);
    expect(() => etcdRegistry({ hosts: '' })).toThrow(/at least one/);
    expect(() => etcdRegistry({ hosts: 'localhost:2379' })).toThrow(/http:\/\/host:port/);
    expect(() => etcdRegistry({ hosts: ['http://127.0.0.1'] })).toThrow(/http:\/\/host:port/);
    expect(() => etcdRegistry({ hosts: [42 as never] })).toThrow(TypeError);
    expect(() => etcdRegistry({ hosts, basePath: 'phobos' })).toThrow(/basePath/);
    expect(() => etcdRegistry({ hosts, basePath: '/phobos/' })).toThrow(/basePath/);
    expect(() => etcdRegistry({ hosts, ttlSeconds: 0 })).toThrow(RangeError);
    expect(() => etcdRegistry({ hosts, ttlSeconds: 1.5 })).toThrow(RangeError);
    expect(() => etcdRegistry({ hosts, dialTimeoutMs: -1 })).toThrow(RangeError);
    expect(() => etcdRegistry({ hosts, logger: {} as never })).toThrow(RangeError);
    expect(() => etcdRegistry({ hosts, logger: {} as never })).toThrow(/logger/);
    expect(() => etcdDiscovery({ hosts } as never)).toThrow(/service/);
    expect(() => etcdDiscovery({ hosts, service: '' })).toThrow(RangeError);
    expect(() => etcdDiscovery({ hosts, service: 'a/b' })).toThrow(RangeError);
    expect(() => etcdDiscovery({ hosts, service: 'S', group: '' })).toThrow(RangeError);
    expect(() => etcdDiscovery({ hosts: 'http://a:1,http://b:2', service: 'S' })).not.toThrow();
  });

  it('etcd options - a discovery checks its own options too', () => {
    const hosts = 'http://127.0.0.1:2379';
    expect(() => etcdDiscovery({ hosts, service: 'S', dataLossGraceMs: -1 })).toThrow(RangeError);
    expect(() => etcdDiscovery({ hosts, service: 'S', retryMaxMs: 0 })).toThrow(RangeError);
    expect(() => etcdDiscovery({ hosts: 'ftp://127.0.0.1:2379', service: 'S' })).toThrow(/http/);
    expect(() => etcdDiscovery({ hosts, service: 42 as never })).toThrow(TypeError);
    expect(() => etcdDiscovery({ hosts, service: 'S', scheduler: {} as never })).toThrow(/SchedulerLike/);
    expect(() => etcdRegistry({ hosts, scheduler: Date as never })).toThrow(/SchedulerLike/);
  });
});
