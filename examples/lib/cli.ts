// The command line of every example: flags read strictly with node:util parseArgs, a usage text
// made from the same flag table (so --help lists every flag, its unit and default), checks that
// name the flag at fault, and the exit codes: 0 after --help, 2 for bad input (one line on
// stderr, no stack trace), 1 when an address cannot be bound.
import { parseArgs } from 'node:util';

/**
 * Bad command-line input: {@link readCommandLine} prints its message on one line and exits with
 * status 2.
 *
 * @example
 * ```ts
 * throw new UsageError(`--count must be a positive integer, got "ten"`);
 * ```
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * One flag of an example: how parseArgs reads it and how the usage shows it.
 *
 * @example
 * ```ts
 * const addr: FlagSpec = { type: 'string', value: 'HOST:PORT', default: 'localhost:8972', description: 'where to listen' };
 * ```
 */
export interface FlagSpec {
  /** `string` takes a value; `boolean` is a switch (false unless given). */
  readonly type: 'string' | 'boolean';
  /** A one-letter alias (`-c`). */
  readonly short?: string;
  /** What the value is, with its unit: `HOST:PORT`, `MS`, `N`, `URL,...`. String flags only. */
  readonly value?: string;
  /** The value used when the flag is not given; the usage shows it. String flags only. */
  readonly default?: string;
  /** Refused when missing (a string flag without a default). */
  readonly required?: boolean;
  /** What it does, one line. */
  readonly description: string;
}

/** The flags of a command, by long name (without `--`). */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/**
 * What {@link readCommandLine} gives the command: a boolean per switch, a string per flag with a
 * default or `required`, and `string | undefined` for the other string flags.
 */
export type FlagValues<F extends FlagSpecs> = {
  readonly [K in keyof F]: F[K]['type'] extends 'boolean'
    ? boolean
    : F[K] extends { readonly default: string } | { readonly required: true }
      ? string
      : string | undefined;
};

/**
 * An example's command line: its name (how its error lines start), how it is run, what it does,
 * its flags and at least one example invocation.
 *
 * @example
 * ```ts
 * const COMMAND = defineCommand({ name: 'helloworld/server', run: 'npx tsx examples/helloworld/server.ts', summary: '...', flags: {}, examples: ['...'] });
 * ```
 */
export interface CommandSpec<F extends FlagSpecs> {
  /** The prefix of its error lines: `helloworld/server`. */
  readonly name: string;
  /** How it is run, without flags: `npx tsx examples/helloworld/server.ts`. */
  readonly run: string;
  /** What it does, in a sentence or two (lines of at most 100 characters). */
  readonly summary: string;
  readonly flags: F;
  /** Whole command lines, shown under "Examples". */
  readonly examples: readonly string[];
}

/** The flag every command has. */
const HELP_FLAG: FlagSpec = { type: 'boolean', short: 'h', description: 'print this help and exit' };

/**
 * Declares a command; `const` keeps each flag's literal type so that {@link FlagValues} knows
 * which flags are switches and which always have a value.
 *
 * @throws TypeError when a string flag has no `value` placeholder or a switch has a default: the
 *   usage could not show them.
 * @example
 * ```ts
 * const COMMAND = defineCommand({
 *   name: 'helloworld/server',
 *   run: 'npx tsx examples/helloworld/server.ts',
 *   summary: 'Serves HelloWorld.Greet.',
 *   flags: { addr: { type: 'string', value: 'HOST:PORT', default: 'localhost:8972', description: 'where to listen' } },
 *   examples: ['npx tsx examples/helloworld/server.ts --addr 127.0.0.1:0'],
 * });
 * ```
 */
export function defineCommand<const F extends FlagSpecs>(spec: CommandSpec<F>): CommandSpec<F> {
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (flag.type === 'string' && flag.value === undefined) {
      throw new TypeError(`${spec.name}: --${name} needs a value placeholder for the usage`);
    }
    if (flag.type === 'boolean' && (flag.default !== undefined || flag.value !== undefined)) {
      throw new TypeError(`${spec.name}: the switch --${name} takes no value and no default`);
    }
  }
  return spec;
}

/**
 * The usage text of a command: what it does, every flag with its value, unit and default, and
 * the examples.
 *
 * @example
 * ```ts
 * process.stdout.write(usageText(COMMAND));
 * ```
 */
export function usageText(spec: CommandSpec<FlagSpecs>): string {
  const rows = Object.entries({ ...spec.flags, help: HELP_FLAG }).map(([name, flag]) => {
    const names = `${flag.short === undefined ? '' : `-${flag.short}, `}--${name}`;
    const left = flag.value === undefined ? names : `${names} ${flag.value}`;
    const right =
      flag.required === true
        ? `${flag.description} (required)`
        : flag.default === undefined
          ? flag.description
          : `${flag.description} (default ${flag.default === '' ? '""' : flag.default})`;
    return [left, right] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 3;
  const required = Object.entries(spec.flags)
    .filter(([, flag]) => flag.required === true)
    .map(([name, flag]) => ` --${name} ${flag.value}`)
    .join('');
  return [
    `Usage: ${spec.run}${required} [flags]`,
    '',
    spec.summary,
    '',
    'Flags:',
    ...rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`),
    '',
    spec.examples.length === 1 ? 'Example:' : 'Examples:',
    ...spec.examples.map((example) => `  ${example}`),
    '',
  ].join('\n');
}

/**
 * Reads the command line strictly (unknown flags, positional arguments and missing values are
 * refused) and hands the values to `build`, which checks them and returns the command's options.
 *
 * @returns the options; `undefined` after printing the usage for `--help`/`-h` (exit status 0),
 *   or after printing `name: problem` on one line of stderr for bad input (exit status 2): a
 *   parse error, a missing required flag, or a {@link UsageError} thrown by `build`.
 * @throws whatever else `build` throws (a bug, not bad input).
 * @example
 * ```ts
 * const options = readCommandLine(COMMAND, (flags) => ({ addr: hostPort('--addr', flags.addr, { dial: false }) }));
 * if (options !== undefined) await main(options);
 * ```
 */
export function readCommandLine<F extends FlagSpecs, T>(
  spec: CommandSpec<F>,
  build: (values: FlagValues<F>) => T,
  args: readonly string[] = process.argv.slice(2),
): T | undefined {
  try {
    const values = parseFlags(spec, args);
    if (values === 'help') {
      process.stdout.write(usageText(spec));
      return undefined;
    }
    return build(values);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    reportUsageError(spec.name, error.message);
    return undefined;
  }
}

/**
 * Prints `name: problem` and a pointer to --help on one line of stderr, and sets exit status 2.
 *
 * @example
 * ```ts
 * reportUsageError('helloworld/client', '--codec must be json or msgpack, got "protobuf"');
 * ```
 */
export function reportUsageError(name: string, problem: string): void {
  console.error(`${name}: ${problem} (run with --help for the flags)`);
  process.exitCode = 2;
}

function parseFlags<F extends FlagSpecs>(
  spec: CommandSpec<F>,
  args: readonly string[],
): FlagValues<F> | 'help' {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string }> = {};
  for (const [name, flag] of Object.entries({ ...spec.flags, help: HELP_FLAG })) {
    options[name] = {
      type: flag.type,
      ...(flag.short === undefined ? {} : { short: flag.short }),
      ...(flag.default === undefined ? {} : { default: flag.default }),
    };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(parseErrorText(error));
  }
  if (values.help === true) return 'help';
  const result: Record<string, string | boolean | undefined> = {};
  for (const [name, flag] of Object.entries(spec.flags)) {
    const value = values[name];
    if (flag.type === 'boolean') {
      result[name] = value === true;
    } else if (value === undefined && flag.required === true) {
      throw new UsageError(`--${name} is required: ${flag.description}`);
    } else {
      result[name] = value;
    }
  }
  return result as FlagValues<F>;
}

/** parseArgs's error, said in one short line. */
function parseErrorText(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  const quoted = /'([^']*)'/.exec(text)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${quoted.split(' ')[0]}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(quoted)}: this command takes only flags`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = quoted.split(' ')[0];
      if (text.includes('argument missing')) return `${flag} needs a value`;
      if (text.includes('does not take an argument')) return `${flag} is a switch and takes no value`;
      if (text.includes('ambiguous'))
        return `${flag} needs a value (write ${flag}=-VALUE for one starting with -)`;
      return text.split('\n')[0] ?? text;
    }
    default:
      return text.split('\n')[0] ?? text;
  }
}

const HOST_PORT = /^(?:tcp@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * Checks one address, `host:port` or `tcp@host:port` (`[::1]:8972` for IPv6), and returns it as
 * `host:port`.
 *
 * @throws UsageError naming `flag` when it is not an address, its port is past 65535, or it is 0
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
 * The host of a `host:port` from {@link hostPort}, without IPv6 brackets.
 *
 * @example
 * ```ts
 * hostOf('[::1]:8972'); // '::1'
 * ```
 */
export function hostOf(address: string): string {
  return address.slice(0, address.lastIndexOf(':')).replace(/^\[(.*)\]$/, '$1');
}

/**
 * Whether a host means "every interface" (`0.0.0.0`, `::`): something to listen on, never an
 * address a client can dial.
 *
 * @example
 * ```ts
 * isUnspecifiedHost('0.0.0.0'); // true
 * ```
 */
export function isUnspecifiedHost(host: string): boolean {
  return host === '0.0.0.0' || /^[0:]+$/.test(host);
}

/**
 * Checks a decimal integer from `min` to `max`.
 *
 * @throws UsageError naming `flag` when `text` is not one.
 * @example
 * ```ts
 * integerFlag('--count', '10', 1); // 10
 * ```
 */
export function integerFlag(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const what =
      max !== Number.MAX_SAFE_INTEGER
        ? `an integer from ${min} to ${max}`
        : min === 1
          ? 'a positive integer'
          : `an integer >= ${min}`;
    throw new UsageError(`${flag} must be ${what}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * Checks that `text` is one of `allowed`.
 *
 * @throws UsageError naming `flag`, the values allowed and, when given, why others are not.
 * @example
 * ```ts
 * oneOf('--codec', 'json', ['json', 'msgpack']); // 'json'
 * ```
 */
export function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[], why?: string): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  const choices = allowed.length === 2 ? `${allowed[0]} or ${allowed[1]}` : `one of ${allowed.join(', ')}`;
  throw new UsageError(
    `${flag} must be ${choices}, got ${JSON.stringify(text)}${why === undefined ? '' : `: ${why}`}`,
  );
}

/**
 * Checks comma-separated etcd client URLs (`http://host:port` or `https://host:port`) and returns
 * them as given.
 *
 * @throws UsageError naming `flag` for an empty list or an entry that is not such a URL.
 * @example
 * ```ts
 * etcdUrls('--etcd', 'http://127.0.0.1:2379'); // 'http://127.0.0.1:2379'
 * ```
 */
export function etcdUrls(flag: string, text: string): string {
  const entries = text.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    const plain = url !== undefined && url.pathname === '/' && url.search === '' && url.username === '';
    if (!plain || (url?.protocol !== 'http:' && url?.protocol !== 'https:') || url.port === '') {
      throw new UsageError(
        `${flag} must be etcd client URLs like http://127.0.0.1:2379 (with a port), comma-separated; got ${JSON.stringify(entry)}`,
      );
    }
  }
  return entries.join(',');
}

/**
 * Checks an etcd base path: starts with `/`, does not end with one.
 *
 * @throws UsageError naming `flag` otherwise.
 * @example
 * ```ts
 * basePath('--base', '/phobos'); // '/phobos'
 * ```
 */
export function basePath(flag: string, text: string): string {
  if (!/^\/\S*[^/\s]$/.test(text)) {
    throw new UsageError(
      `${flag} must be a path like /phobos (a leading /, no trailing /), got ${JSON.stringify(text)}`,
    );
  }
  return text;
}

/**
 * Prints why an address could not be bound, on one line of stderr, and sets exit status 1.
 *
 * @example
 * ```ts
 * cannotListen('helloworld/server', 'tcp@127.0.0.1:8972', error);
 * ```
 */
export function cannotListen(name: string, address: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  // The library's errors already say where; a bare socket error does not.
  const where = message.includes('cannot listen') ? '' : `cannot listen on ${address}: `;
  console.error(`${name}: ${where}${message}`);
  process.exitCode = 1;
}
