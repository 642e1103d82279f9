import { Command, Option } from 'commander';
import type { CliRun } from './cli-io.js';
import { addEtcdOptions, type EtcdFlags } from './etcd-options.js';
import { EXIT_CODE_HELP } from './exit-code.js';
import { integerArg } from './option-parsers.js';

/**
 * Most changes `watch --count` waits for.
 *
 * @example
 * ```ts
 * integerArg(1, MAX_WATCH_COUNT)('2'); // 2
 * ```
 */
export const MAX_WATCH_COUNT = 1_000_000_000;

/**
 * The flags of `phobos watch`.
 *
 * @example
 * ```ts
 * const { count, json } = command.opts<WatchFlags>();
 * ```
 */
export interface WatchFlags extends EtcdFlags {
  /** `--count`: stop after this many changes. */
  readonly count?: number;
  /** `--json`: one JSON object per change. */
  readonly json?: boolean;
}

const WATCH_HELP = `
Prints one line per change of the service's servers in etcd, as clients see them: the servers
there when the watch starts are reported "added", then each server that joins (added), leaves
(removed) or changes its metadata (changed, e.g. state=inactive). A line on stderr says when the
watch is ready. Runs until Ctrl-C, or until --count changes were printed.

Line format: <added|removed|changed> <address> <active|inactive> <metadata>
With --json: {"time","type","address","state","metadata"} per line.

Examples:
  $ phobos watch --etcd http://127.0.0.1:2379 HelloWorld
  $ phobos watch --etcd http://127.0.0.1:2379 --base /phobos HelloWorld --count 2 --json
${EXIT_CODE_HELP}`;

/**
 * Builds `phobos watch`: the live changes of one service's servers in etcd, line by line.
 *
 * @example
 * ```ts
 * program.addCommand(watchCommand(run));
 * ```
 */
export function watchCommand(run: CliRun): Command {
  const command = new Command('watch')
    .description("print the changes of a service's servers in etcd as they happen")
    .argument('<service>', 'the service to watch')
    .addOption(
      new Option('--count <n>', 'stop after this many changes').argParser(integerArg(1, MAX_WATCH_COUNT)),
    )
    .option('--json', 'print one JSON object per change');
  addEtcdOptions(command);
  command.addHelpText('after', WATCH_HELP);
  command.action(async (service: string, flags: WatchFlags) => {
    const { runWatch } = await import('./run-watch.js');
    await runWatch(run, service, flags);
  });
  return command;
}
