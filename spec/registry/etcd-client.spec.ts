import { afterEach, describe, expect, it, vi } from 'vitest';

// The etcd3 client, replaced by one that keeps the options it was made with.
const made = vi.hoisted(() => [] as Array<Record<string, unknown>>);
vi.mock('../../lib/registry/etcd-peer.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../lib/registry/etcd-peer.js')>();
  class Etcd3 {
    constructor(options: Record<string, unknown>) {
      made.push(options);
    }
    close(): void {}
  }
  return { etcdPeers: { ...real.etcdPeers, etcd3: { ...real.etcdPeers.etcd3, Etcd3 } } };
});

const { createEtcdClient } = await import('../../lib/registry/etcd-client.js');
const { resolveEtcdOptions } = await import('../../lib/registry/etcd-options.js');

type CallOptionsFactory = (context: { isStream: boolean }) => { deadline?: number };

/** The per-call options a client made for `hosts` and `requestTimeoutMs` gives a request and a stream. */
function callOptions(hosts: string[], requestTimeoutMs: number) {
  createEtcdClient(resolveEtcdOptions('spec', { hosts, requestTimeoutMs }));
  const factory = made.at(-1)?.defaultCallOptions as CallOptionsFactory;
  return { request: factory({ isStream: false }), stream: factory({ isStream: true }) };
}

describe('etcd client', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('etcd client - each attempt of a request has the request deadline divided among the hosts; streams have none', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const three = ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'];
    // A silent member costs a third of the deadline before the next one is asked.
    expect(callOptions(three, 900)).toEqual({ request: { deadline: 1_000_300 }, stream: {} });
    expect(callOptions(three, 1_000).request).toEqual({ deadline: 1_000_334 });
    expect(callOptions(['http://127.0.0.1:1'], 900).request).toEqual({ deadline: 1_000_900 });
    // Never a deadline of 0, which would fail every request.
    expect(callOptions(three, 1).request).toEqual({ deadline: 1_000_001 });
  });
});
