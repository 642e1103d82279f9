import { from, lastValueFrom, mergeMap, toArray } from 'rxjs';
import { isActive } from '../discovery/instance-filters.js';
import { formatMetadata } from '../discovery/metadata-query.js';
import type { ServiceInstance } from '../discovery/service-instance.js';
import { ConnectionError } from '../errors/errors.js';
import type { CliRun } from './cli-io.js';
import { printable } from './error-report.js';
import { firstInstances } from './etcd-caller.js';
import { ExitCode } from './exit-code.js';
import type { ListFlags } from './list-command.js';
import { loadEtcd, loadEtcd3 } from './load-etcd.js';
import { stderrLogger } from './stderr-logger.js';
import { UsageError } from './usage-error.js';

/**
 * Services whose servers `list` reads from etcd at a time.
 *
 * @example
 * ```ts
 * from(names).pipe(mergeMap(listService, LIST_CONCURRENCY));
 * ```
 */
export const LIST_CONCURRENCY = 8;

/**
 * One service as `list` reports it.
 *
 * @example
 * ```ts
 * const listed: ListedService = { service: 'HelloWorld', servers: [{ address: 'tcp@127.0.0.1:8972', state: 'active', metadata: {} }] };
 * ```
 */
export interface ListedService {
  /** The service name. */
  readonly service: string;
  /** Its registered servers, in key order. */
  readonly servers: readonly {
    readonly address: string;
    readonly state: 'active' | 'inactive';
    readonly metadata: Readonly<Record<string, string>>;
  }[];
}

/**
 * Runs `phobos list`: reads the service names under the base path (unless one is named), then
 * each service's servers through `phobos/etcd`'s discovery, and prints them.
 *
 * @throws (rejects) UsageError for a bad service name or a missing etcd3 package;
 *   `ConnectionError` when etcd does not answer within `--connect-timeout`.
 * @example
 * ```ts
 * await runList(run, undefined, flags);
 * ```
 */
export async function runList(run: CliRun, service: string | undefined, flags: ListFlags): Promise<void> {
  if (service !== undefined && (service === '' || service.includes('/'))) {
    throw new UsageError(`service ${JSON.stringify(service)} must be a non-empty name without "/"`);
  }
  const names = service === undefined ? await serviceNames(flags) : [service];
  const { etcdDiscovery } = await loadEtcd();
  const listed = await lastValueFrom(
    from(names).pipe(
      mergeMap(async (name): Promise<ListedService> => {
        const discovery = etcdDiscovery({
          hosts: [...flags.etcd],
          basePath: flags.base,
          service: name,
          logger: stderrLogger(run.io),
        });
        try {
          const where = `${name} under ${flags.base} in etcd (${flags.etcd.join(', ')})`;
          const list = await firstInstances(discovery.instances$, where, flags.connectTimeout, run.io.signal);
          return { service: name, servers: list.map(serverOf) };
        } finally {
          await discovery.close();
        }
      }, LIST_CONCURRENCY),
      toArray(),
    ),
  );
  listed.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  if (flags.json) {
    run.io.stdout.write(`${JSON.stringify({ etcd: flags.etcd, basePath: flags.base, services: listed })}\n`);
  } else {
    run.io.stdout.write(listText(listed, flags));
  }
  run.exitCode = ExitCode.Ok;
}

/** The service names under the base path: the first segment of every key below it. */
async function serviceNames(flags: ListFlags): Promise<string[]> {
  const { Etcd3 } = await loadEtcd3();
  const client = new Etcd3({
    hosts: [...flags.etcd],
    dialTimeout: flags.connectTimeout,
    // Connections of its own, closed with it.
    grpcOptions: { 'grpc.use_local_subchannel_pool': 1 },
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + flags.connectTimeout },
  });
  const prefix = `${flags.base}/`;
  try {
    const keys = await client.getAll().prefix(prefix).keys();
    const names = new Set<string>();
    for (const key of keys) {
      const name = key.slice(prefix.length).split('/')[0];
      if (name !== undefined && name !== '') names.add(name);
    }
    return [...names];
  } catch (error) {
    throw new ConnectionError(
      `cannot list ${prefix} in etcd (${flags.etcd.join(', ')}): ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    client.close();
  }
}

function serverOf(instance: ServiceInstance): ListedService['servers'][number] {
  return {
    address: instance.address,
    state: isActive(instance) ? 'active' : 'inactive',
    metadata: instance.metadata,
  };
}

function listText(listed: readonly ListedService[], flags: ListFlags): string {
  if (listed.length === 0) return `no services under ${flags.base} in etcd (${flags.etcd.join(', ')})\n`;
  const lines: string[] = [];
  for (const { service, servers } of listed) {
    lines.push(`${printable(service)} (${servers.length} server${servers.length === 1 ? '' : 's'})`);
    const width = Math.max(0, ...servers.map((server) => server.address.length));
    for (const server of servers) {
      const metadata = formatMetadata(server.metadata);
      lines.push(
        `  ${printable(server.address.padEnd(width))}  ${server.state.padEnd(8)}  ${printable(metadata)}`.trimEnd(),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
