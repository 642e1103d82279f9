import { firstValueFrom, map, type Observable, tap, throwError, timeout } from 'rxjs';
import type { ConnectOptions } from '../client/connect-options.js';
import type { Reply } from '../client/connection.js';
import { XClient } from '../client/xclient.js';
import { isActive } from '../discovery/instance-filters.js';
import type { ServiceInstance } from '../discovery/service-instance.js';
import { ConnectionError, NoInstanceError } from '../errors/errors.js';
import { abortable } from './abortable.js';
import type { Caller } from './caller.js';
import type { CliIo } from './cli-io.js';
import { loadEtcd } from './load-etcd.js';
import { stderrLogger } from './stderr-logger.js';

/**
 * Where a service's servers are registered in etcd.
 *
 * @example
 * ```ts
 * const location: EtcdLocation = { hosts: ['http://127.0.0.1:2379'], basePath: '/phobos' };
 * ```
 */
export interface EtcdLocation {
  /** etcd client URLs. */
  readonly hosts: readonly string[];
  /** The base path of the keys (`/phobos`). */
  readonly basePath: string;
}

/**
 * Finds the servers of `service` in etcd (through `phobos/etcd`, loaded now) and returns a
 * {@link Caller} that sends each call to one of the active ones, picked at random, without
 * retrying elsewhere: what the command line reports is what that server answered.
 *
 * @throws (rejects) UsageError when `etcd3` is not installed; `ConnectionError` when etcd has
 *   not listed the service within `connectTimeoutMs`; `NoInstanceError` when no active server
 *   is registered; `CancelledError` when `io.signal` aborts first.
 * @example
 * ```ts
 * const caller = await openEtcdCaller({ hosts: ['http://127.0.0.1:2379'], basePath: '/phobos' }, 'HelloWorld', {}, io);
 * ```
 */
export async function openEtcdCaller(
  location: EtcdLocation,
  service: string,
  options: ConnectOptions & { readonly connectTimeoutMs: number },
  io: CliIo,
): Promise<Caller> {
  const { etcdDiscovery } = await loadEtcd();
  const discovery = etcdDiscovery({
    hosts: [...location.hosts],
    basePath: location.basePath,
    service,
    logger: stderrLogger(io),
  });
  const where = `${service} under ${location.basePath} in etcd (${location.hosts.join(', ')})`;
  try {
    const list = await firstInstances(discovery.instances$, where, options.connectTimeoutMs, io.signal);
    if (!list.some(isActive)) {
      throw new NoInstanceError(`no active server of ${where}`, { details: { service } });
    }
  } catch (error) {
    await discovery.close();
    throw error;
  }
  const client = new XClient(service, { ...options, discovery, failMode: 'failfast', selectMode: 'random' });
  const servedBy = new WeakMap<object, string>();
  client.use(
    (next) => (call) =>
      next(call).pipe(
        tap((reply) => {
          if (call.address !== undefined) servedBy.set(reply, call.address);
        }),
      ),
    { stage: 'attempt' },
  );
  return {
    description: where,
    call$(_service, method, payload, callOptions) {
      return client.callWithMetadata$<Uint8Array>(method, payload, { ...callOptions, raw: true }).pipe(
        map((reply: Reply<Uint8Array>) => ({
          payload: reply.data,
          metadata: reply.metadata,
          address: servedBy.get(reply),
          receivedBytes: reply.receivedBytes,
        })),
      );
    },
    async close() {
      await client.close();
      await discovery.close();
    },
  };
}

/**
 * The first list etcd gives for the service.
 *
 * @throws (rejects) ConnectionError when none came within `timeoutMs`; CancelledError on abort.
 * @example
 * ```ts
 * const list = await firstInstances(discovery.instances$, 'HelloWorld in etcd', 5_000, io.signal);
 * ```
 */
export function firstInstances(
  instances$: Observable<readonly ServiceInstance[]>,
  where: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<readonly ServiceInstance[]> {
  return firstValueFrom(
    abortable(
      instances$.pipe(
        timeout({
          first: timeoutMs,
          with: () =>
            throwError(
              () =>
                new ConnectionError(
                  `etcd did not list ${where} within ${timeoutMs} ms: is etcd running there?`,
                ),
            ),
        }),
      ),
      signal,
    ),
  );
}
