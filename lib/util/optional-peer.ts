import { createRequire } from 'node:module';

// Resolved from the installed package, so a peer installed beside phobos is found wherever the
// package manager put it.
const requireFromHere = createRequire(import.meta.url);

/**
 * Loads an optional peer dependency of one entry point (`etcd3` for `phobos/etcd`, `prom-client`
 * for `phobos/metrics`, …) when that entry point is first imported. The package is required
 * synchronously rather than imported, so that a missing one is reported by this function, with
 * the command that installs it, instead of by the module linker with a bare "Cannot find
 * package", and so that the entry points stay loadable with `require()`.
 *
 * @param name The package, e.g. `etcd3`.
 * @param entryPoint The phobos entry point that needs it, e.g. `phobos/etcd`.
 * @param install The packages that entry point needs, as `npm install` takes them.
 * @returns The package's exports.
 * @throws Error naming the entry point and the `npm install` command when the package is not
 * installed; any other error the package throws while loading, unchanged.
 * @example
 * ```ts
 * const { Etcd3 } = optionalPeer<typeof import('etcd3')>('etcd3', 'phobos/etcd', 'etcd3');
 * ```
 * @internal
 */
export function optionalPeer<T>(name: string, entryPoint: string, install: string): T {
  try {
    return requireFromHere(name) as T;
  } catch (error) {
    if (!isMissing(error, name)) throw error;
    throw new Error(
      `${entryPoint} needs the package "${name}", an optional peer dependency of phobos that is not installed: run \`npm install ${install}\``,
      { cause: error },
    );
  }
}

/** Whether `error` says that `name` itself (not something it requires) cannot be found. */
function isMissing(error: unknown, name: string): boolean {
  if (!(error instanceof Error) || (error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') return false;
  return error.message.includes(`'${name}'`);
}
