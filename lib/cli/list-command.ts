import { Command } from 'commander';
import type { CliRun } from './cli-io.js';
import { addEtcdOptions, type EtcdFlags } from './etcd-options.js';
import { EXIT_CODE_HELP } from './exit-code.js';

/**
 * The flags of `phobos list`.
 *
 * @example
 * ```ts
 * const { etcd, base, json } = command.opts<ListFlags>();
 * ```
 */
export interface ListFlags extends EtcdFlags {
  /** `--json`. */
  readonly json?: boolean;
}

const LIST_HELP = `
Lists the services registered under the base path (or the one named) and, for each, its servers
with their state (inactive when their metadata says state=inactive) and metadata, as clients see
them. Keys under the base path that are not servers are skipped with a warning on stderr.

Examples:
  $ phobos list --etcd http://127.0.0.1:2379
  $ phobos list --etcd http://10.0.0.1:2379,http://10.0.0.2:2379 --base /phobos HelloWorld
  $ phobos list --etcd http://127.0.0.1:2379 --json
${EXIT_CODE_HELP}`;

/**
 * Builds `phobos list`: the services in etcd and their servers.
 *
 * @example
 * ```ts
 * program.addCommand(listCommand(run));
 * ```
 */
export function listCommand(run: CliRun): Command {
  const command = new Command('list')
    .description('list the services registered in etcd and their servers')
    .argument('[service]', 'only this service')
    .option('--json', 'print one JSON object');
  addEtcdOptions(command);
  command.addHelpText('after', LIST_HELP);
  command.action(async (service: string | undefined, flags: ListFlags) => {
    const { runList } = await import('./run-list.js');
    await runList(run, service, flags);
  });
  return command;
}
