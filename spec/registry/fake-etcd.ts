import { EventEmitter } from 'node:events';

/**
 * A lease of {@link FakeEtcd}: an event emitter, so a test answers its keepalives
 * (`emit('keepaliveSucceeded', {})`) or loses it (`emit('lost', error)`) itself.
 */
export class FakeLease extends EventEmitter {
  released = false;
  revokedByClient = false;

  constructor(
    readonly id: number,
    private readonly etcd: FakeEtcd,
  ) {
    super();
  }

  grant(): Promise<number> {
    return this.etcd.grant(this);
  }

  revoked(): boolean {
    return this.released || this.revokedByClient;
  }

  release(): void {
    this.released = true;
  }

  async revoke(): Promise<void> {
    this.revokedByClient = true;
    this.etcd.calls.push(`revoke ${this.id}`);
  }

  put(key: string): { value(value: string): Promise<void> } {
    return { value: (value) => this.etcd.write(`put ${key}=${value} lease ${this.id}`) };
  }
}

/**
 * An etcd client's part that registries use (leases, puts, deletes), in memory, with an empty
 * prefix and a silent watch for discoveries: it records every write call in `calls` when it is made, can fail grants (`grantError`) and hold writes until
 * `openGate()` (`closeGate()`), and counts the clients made and closed.
 */
export class FakeEtcd {
  readonly leases: FakeLease[] = [];
  /** Every call as it is made: `grant 1`, `put /phobos/S/a=weight=1 lease 1`, `delete /phobos/S/a`. */
  readonly calls: string[] = [];
  /** When each grant was asked for, read from `clock`. */
  readonly grantTimes: number[] = [];
  clientsMade = 0;
  clientsClosed = 0;
  /** When set, every grant fails with it. */
  grantError: Error | undefined;
  /** Where grant times are read. */
  clock: () => number = () => 0;
  #gate: { promise: Promise<void>; open: () => void } | undefined;

  /** What `createEtcdClient` returns: a new client on this store. */
  client(): unknown {
    this.clientsMade += 1;
    return {
      lease: (): FakeLease => {
        const lease = new FakeLease(this.leases.length + 1, this);
        this.leases.push(lease);
        return lease;
      },
      put: (key: string) => ({ value: (value: string) => this.write(`put ${key}=${value}`) }),
      delete: () => ({ key: (key: string) => this.write(`delete ${key}`) }),
      // What a discovery asks: an empty prefix, and a watch that reports nothing.
      getAll: () => ({ prefix: () => ({ exec: async () => ({ header: { revision: '1' }, kvs: [] }) }) }),
      watch: () => ({
        prefix: () => ({
          startRevision: () => ({
            create: async () => Object.assign(new EventEmitter(), { cancel: async () => {} }),
          }),
        }),
      }),
      close: () => {
        this.clientsClosed += 1;
      },
    };
  }

  /** Holds every write made from now on until `openGate()`. */
  closeGate(): void {
    let open = (): void => {};
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.#gate = { promise, open };
  }

  openGate(): void {
    this.#gate?.open();
    this.#gate = undefined;
  }

  async grant(lease: FakeLease): Promise<number> {
    this.calls.push(`grant ${lease.id}`);
    this.grantTimes.push(this.clock());
    if (this.grantError !== undefined) throw this.grantError;
    return lease.id;
  }

  async write(call: string): Promise<void> {
    this.calls.push(call);
    await this.#gate?.promise;
  }
}

let current = new FakeEtcd();

/**
 * The store the mocked `createEtcdClient` makes its clients on. A spec mocks it with
 * `vi.mock('../../lib/registry/etcd-client.js', async () => { const { fakeEtcd } = await
 * import('./fake-etcd.js'); return { createEtcdClient: () => fakeEtcd().client() }; })`.
 */
export function fakeEtcd(): FakeEtcd {
  return current;
}

/** A fresh store for the next test. */
export function resetFakeEtcd(): FakeEtcd {
  current = new FakeEtcd();
  return current;
}
