import { readFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { filter, firstValueFrom, type Observable, timeout } from 'rxjs';
import type { Logger, ServiceInstance } from '../../lib/index.js';

let bases = 0;

/** A base path of its own for each test, so that tests sharing one etcd never see each other's keys. */
export function freshBasePath(): string {
  bases += 1;
  return `/phobos-test-${process.pid}-${bases}`;
}

/** Every key under `prefix` and its value, as etcd holds them now. */
export async function etcdKeys(
  hosts: string | readonly string[],
  prefix: string,
): Promise<Record<string, string>> {
  const client = new Etcd3({
    hosts: typeof hosts === 'string' ? hosts : [...hosts],
    grpcOptions: { 'grpc.use_local_subchannel_pool': 1 },
  });
  try {
    return await client.getAll().prefix(prefix).strings();
  } finally {
    client.close();
  }
}

/** Writes one key directly (what someone else's tool would do). */
export async function putKey(hosts: string, key: string, value: string): Promise<void> {
  const client = new Etcd3({ hosts, grpcOptions: { 'grpc.use_local_subchannel_pool': 1 } });
  try {
    await client.put(key).value(value);
  } finally {
    client.close();
  }
}

/**
 * The first list from `instances$` that `predicate` accepts; fails after `deadlineMs` (a guard
 * against a hang, not a measurement).
 */
export function listWhere(
  instances$: Observable<readonly ServiceInstance[]>,
  predicate: (list: readonly ServiceInstance[]) => boolean,
  deadlineMs = 15_000,
): Promise<readonly ServiceInstance[]> {
  return firstValueFrom(instances$.pipe(filter(predicate), timeout({ first: deadlineMs })));
}

/** The addresses of a list, sorted. */
export function addressesOf(list: readonly ServiceInstance[]): string[] {
  return list.map((instance) => instance.address).sort();
}

/** A logger that keeps what it was told. */
export function recordingLogger(): Logger & { readonly messages: string[] } {
  const messages: string[] = [];
  return {
    messages,
    warn(message) {
      messages.push(message);
    },
  };
}

/**
 * Calls `check` until it returns true, every 20 ms, failing after `deadlineMs`: for state that
 * only a query can see (etcd's keys), never for a duration.
 */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  deadlineMs = 15_000,
): Promise<void> {
  const giveUpAt = Date.now() + deadlineMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > giveUpAt) throw new Error(`${what}: not true within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The etcd member (by client URL) that holds the most established TCP connections from clients:
 * the one this process's etcd clients talk to. Read from /proc/net/tcp.
 */
export function busiestMember(clientUrls: readonly string[]): string {
  const ports = new Map(clientUrls.map((url) => [Number(new URL(url).port), url]));
  const counts = new Map<string, number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4 || fields[3] !== '01') continue; // 01: ESTABLISHED
    const remotePort = Number.parseInt((fields[2] ?? '').split(':')[1] ?? '', 16);
    const url = ports.get(remotePort);
    if (url !== undefined) counts.set(url, (counts.get(url) ?? 0) + 1);
  }
  const [busiest] = [...counts].sort((a, b) => b[1] - a[1]);
  if (busiest === undefined) throw new Error('no connection to any etcd member');
  return busiest[0];
}
