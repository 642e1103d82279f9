import type { Logger } from '../util/logger.js';
import type { CliIo } from './cli-io.js';

/**
 * A library `Logger` that writes each warning as one line on stderr (etcd outages, keys under
 * the base path that are not servers).
 *
 * @example
 * ```ts
 * etcdDiscovery({ hosts, service, logger: stderrLogger(io) });
 * ```
 */
export function stderrLogger(io: CliIo): Logger {
  return {
    warn(message) {
      io.stderr.write(`phobos: warning: ${message}\n`);
    },
  };
}
