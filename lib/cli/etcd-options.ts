import { type Command, Option } from 'commander';
import { basePathArg, durationArg, etcdUrlsArg } from './option-parsers.js';
import { DEFAULT_CLI_CONNECT_TIMEOUT_MS } from './transport-options.js';

/**
 * Default etcd base path of the keys (`--base`), as Go Phobos: `/phobos`.
 *
 * @example
 * ```ts
 * new Option('--base <path>').default(DEFAULT_BASE_PATH);
 * ```
 */
export const DEFAULT_BASE_PATH = '/phobos';

/**
 * The flags of {@link addEtcdOptions}, as commander parses them.
 *
 * @example
 * ```ts
 * const { etcd, base, connectTimeout } = command.opts<EtcdFlags>();
 * ```
 */
export interface EtcdFlags {
  /** `--etcd URLS`. */
  readonly etcd: readonly string[];
  /** `--base PATH`. */
  readonly base: string;
  /** `--connect-timeout`: how long to wait for etcd's first answer, in ms. */
  readonly connectTimeout: number;
}

/**
 * Adds the flags of the commands that read etcd (`list`, `watch`): `--etcd` (required),
 * `--base` (default `/phobos`) and `--connect-timeout` (default 5 s).
 *
 * @example
 * ```ts
 * addEtcdOptions(new Command('list'));
 * ```
 */
export function addEtcdOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--etcd <urls>', 'etcd client URLs, comma-separated (http://127.0.0.1:2379)')
        .argParser(etcdUrlsArg)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--base <path>', 'etcd base path of the keys')
        .default(DEFAULT_BASE_PATH)
        .argParser(basePathArg),
    )
    .addOption(
      new Option('--connect-timeout <time>', "how long to wait for etcd's first answer")
        .default(DEFAULT_CLI_CONNECT_TIMEOUT_MS, '5s')
        .argParser(durationArg(1)),
    );
}
