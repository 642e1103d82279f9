import { identity, lastValueFrom, take, takeUntil, tap, throwError, timeout } from 'rxjs';
import { formatMetadata } from '../discovery/metadata-query.js';
import { ConnectionError } from '../errors/errors.js';
import { aborted$ } from './abortable.js';
import type { CliRun } from './cli-io.js';
import { printable } from './error-report.js';
import { ExitCode } from './exit-code.js';
import { type InstanceChange, instanceChanges } from './instance-changes.js';
import { loadEtcd } from './load-etcd.js';
import { stderrLogger } from './stderr-logger.js';
import { UsageError } from './usage-error.js';
import type { WatchFlags } from './watch-command.js';

/**
 * Runs `phobos watch`: watches the service through `phobos/etcd`'s discovery and prints each
 * change, until `--count` changes or Ctrl-C. Sets the run's exit code to 0.
 *
 * @throws (rejects) UsageError for a bad service name or a missing etcd3 package;
 *   `ConnectionError` when etcd does not list the service within `--connect-timeout`.
 * @example
 * ```ts
 * await runWatch(run, 'HelloWorld', flags);
 * ```
 */
export async function runWatch(run: CliRun, service: string, flags: WatchFlags): Promise<void> {
  if (service === '' || service.includes('/')) {
    throw new UsageError(`service ${JSON.stringify(service)} must be a non-empty name without "/"`);
  }
  const { io } = run;
  const { etcdDiscovery } = await loadEtcd();
  const discovery = etcdDiscovery({
    hosts: [...flags.etcd],
    basePath: flags.base,
    service,
    logger: stderrLogger(io),
  });
  const where = `${service} under ${flags.base} in etcd (${flags.etcd.join(', ')})`;
  let first = true;
  try {
    await lastValueFrom(
      discovery.instances$.pipe(
        timeout({
          first: flags.connectTimeout,
          with: () =>
            throwError(
              () =>
                new ConnectionError(
                  `etcd did not list ${where} within ${flags.connectTimeout} ms: is etcd running there?`,
                ),
            ),
        }),
        tap((list) => {
          if (!first) return;
          first = false;
          io.stderr.write(
            `watching ${printable(where)}: ${list.length} server${list.length === 1 ? '' : 's'} now\n`,
          );
        }),
        instanceChanges(),
        flags.count === undefined ? identity : take(flags.count),
        takeUntil(aborted$(io.signal)),
        tap((change) => io.stdout.write(`${flags.json ? changeJson(change) : changeText(change)}\n`)),
      ),
      { defaultValue: undefined },
    );
  } finally {
    await discovery.close();
  }
  run.exitCode = ExitCode.Ok;
}

function changeText(change: InstanceChange): string {
  const metadata = formatMetadata(change.metadata);
  return `${change.type.padEnd(8)} ${printable(change.address)}  ${change.state.padEnd(8)}  ${printable(metadata)}`.trimEnd();
}

function changeJson(change: InstanceChange): string {
  return JSON.stringify({
    time: new Date().toISOString(),
    type: change.type,
    address: change.address,
    state: change.state,
    metadata: change.metadata,
  });
}
