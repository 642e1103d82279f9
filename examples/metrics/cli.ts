// Command-line helpers of the metrics example's server and client: flag checks that say what is
// wrong, and the exit codes (2 for bad input, 1 when an address cannot be bound).

/** Bad command-line input: reported without a stack trace, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const HOST_PORT = /^(?:tcp@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * Checks one address, `host:port` or `tcp@host:port` (`[::1]:8972` for IPv6), and returns it as
 * `host:port`.
 *
 * @throws UsageError naming `flag` when it is not an address, or its port is past 65535, or is 0
 *   where a port to dial is needed (`dial: true`).
 * @example
 * ```ts
 * hostPort('--addr', 'tcp@localhost:8972', { dial: false }); // 'localhost:8972'
 * ```
 */
export function hostPort(flag: string, text: string, options: { readonly dial: boolean }): string {
  const match = HOST_PORT.exec(text.trim());
  const port = Number(match?.[2]);
  if (match === null || port > 65_535 || (options.dial && port === 0)) {
    const range = options.dial ? '1 to 65535' : '0 to 65535, 0 picks a free one';
    throw new UsageError(`${flag} must be host:port (port ${range}), got ${JSON.stringify(text)}`);
  }
  return `${match[1]}:${port}`;
}

/**
 * Checks a comma-separated list of addresses to dial (at least one, no repeats) and returns them
 * as `host:port`.
 *
 * @throws UsageError naming `flag` when the list is empty, an entry is not an address, or one repeats.
 * @example
 * ```ts
 * hostPorts('--addrs', 'localhost:8972,localhost:8973'); // ['localhost:8972', 'localhost:8973']
 * ```
 */
export function hostPorts(flag: string, text: string): string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) throw new UsageError(`${flag} must name at least one host:port`);
  const addresses = entries.map((entry) => hostPort(flag, entry, { dial: true }));
  const repeated = addresses.find((address, index) => addresses.indexOf(address) !== index);
  if (repeated !== undefined) throw new UsageError(`${flag} names ${repeated} twice`);
  return addresses;
}

/**
 * Checks a decimal integer of at least `min`.
 *
 * @throws UsageError naming `flag` when `text` is not one.
 * @example
 * ```ts
 * integerFlag('--count', '10', 1); // 10
 * ```
 */
export function integerFlag(flag: string, text: string, min: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    const what = min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new UsageError(`${flag} must be ${what}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * Reads the command line with `parse`: returns its result, or `undefined` after printing the usage
 * (`--help`) or, for bad input, the problem on stderr with exit code 2.
 *
 * @example
 * ```ts
 * const options = commandLine('server', USAGE, (args) => parseOptions(args));
 * if (options === undefined) return;
 * ```
 */
export function commandLine<T>(
  command: string,
  usage: string,
  parse: (args: string[]) => T | 'help',
): T | undefined {
  try {
    const parsed = parse(process.argv.slice(2));
    if (parsed !== 'help') return parsed;
    process.stdout.write(usage);
  } catch (error) {
    // parseArgs throws a TypeError for an unknown flag or a missing value.
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    console.error(`${command}: ${error.message}\nRun with --help for the options.`);
    process.exitCode = 2;
  }
  return undefined;
}

/**
 * Prints why an address could not be bound, with exit code 1.
 *
 * @example
 * ```ts
 * cannotListen('server', error);
 * ```
 */
export function cannotListen(command: string, error: unknown): void {
  console.error(`${command}: cannot listen: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
