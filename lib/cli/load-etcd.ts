import { UsageError } from './usage-error.js';

/**
 * What `phobos/etcd` exports: its discovery and registry.
 *
 * @example
 * ```ts
 * const { etcdDiscovery }: EtcdModule = await loadEtcd();
 * ```
 */
export type EtcdModule = typeof import('../registry/index.js');

/**
 * The etcd client package `phobos/etcd` is built on.
 *
 * @example
 * ```ts
 * const { Etcd3 }: Etcd3Module = await loadEtcd3();
 * ```
 */
export type Etcd3Module = typeof import('etcd3');

/**
 * The command that installs what `--etcd` needs.
 *
 * @example
 * ```ts
 * console.error(`run ${ETCD_INSTALL_COMMAND}`);
 * ```
 */
export const ETCD_INSTALL_COMMAND = 'npm install etcd3';

/**
 * Loads `phobos/etcd` when a command is given `--etcd`, and only then: the command line works
 * without the optional `etcd3` package for everything else.
 *
 * @param load - how to import it (for tests); the default imports `phobos/etcd`.
 * @throws UsageError naming the package and {@link ETCD_INSTALL_COMMAND} when `etcd3` (or the
 *   `cockatiel` it depends on) is not installed; any other loading error unchanged.
 * @example
 * ```ts
 * const { etcdDiscovery } = await loadEtcd();
 * ```
 */
export async function loadEtcd(
  load: () => Promise<EtcdModule> = () => import('../registry/index.js'),
): Promise<EtcdModule> {
  try {
    return await load();
  } catch (error) {
    throw missingPackage(error) ?? error;
  }
}

/**
 * Loads the `etcd3` client itself (to list the services under a base path, which
 * `phobos/etcd`'s discovery of one service does not do).
 *
 * @param load - how to import it (for tests); the default imports `etcd3`.
 * @throws UsageError like {@link loadEtcd} when the package is not installed.
 * @example
 * ```ts
 * const { Etcd3 } = await loadEtcd3();
 * ```
 */
export async function loadEtcd3(
  load: () => Promise<Etcd3Module> = () => import('etcd3'),
): Promise<Etcd3Module> {
  try {
    return await load();
  } catch (error) {
    throw missingPackage(error) ?? error;
  }
}

/** A UsageError when `error` says that etcd3 or cockatiel cannot be found, else undefined. */
function missingPackage(error: unknown): UsageError | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const named = /\betcd3\b|\bcockatiel\b/.test(message);
  const notFound =
    code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /not installed/.test(message);
  if (!named || !notFound) return undefined;
  return new UsageError(
    `--etcd needs the package etcd3, which is not installed: run \`${ETCD_INSTALL_COMMAND}\``,
    { cause: error },
  );
}
