import { readFile } from 'node:fs/promises';
import type { ConnectionOptions } from 'node:tls';
import { type Command, Option } from 'commander';
import type { ConnectOptions } from '../client/connect-options.js';
import { RPCX } from '../protocol/constants.js';
import { durationArg } from './option-parsers.js';
import { UsageError } from './usage-error.js';

/**
 * Default of `--connect-timeout`: 5 seconds (the library's default dial timeout).
 *
 * @example
 * ```ts
 * connect(address, { connectTimeoutMs: DEFAULT_CLI_CONNECT_TIMEOUT_MS });
 * ```
 */
export const DEFAULT_CLI_CONNECT_TIMEOUT_MS = 5_000;

/**
 * The flags of {@link addTransportOptions}, as commander parses them.
 *
 * @example
 * ```ts
 * const options = await connectOptionsOf(command.opts<TransportFlags>());
 * ```
 */
export interface TransportFlags {
  /** `--tls`. */
  readonly tls?: boolean;
  /** `--ca FILE`. */
  readonly ca?: string;
  /** `--cert FILE`. */
  readonly cert?: string;
  /** `--key FILE`. */
  readonly key?: string;
  /** `--insecure`. */
  readonly insecure?: boolean;
  /** `--servername NAME`. */
  readonly servername?: string;
  /** `--auth TOKEN`. */
  readonly auth?: string;
  /** `--rpcx`. */
  readonly rpcx?: boolean;
  /** `--connect-timeout`, in ms. */
  readonly connectTimeout: number;
}

/**
 * Adds the flags that say how to reach a server: TLS (`--tls`, `--ca`, `--cert`, `--key`,
 * `--insecure`, `--servername`), `--auth`, `--rpcx` and `--connect-timeout` (default 5 s).
 *
 * @example
 * ```ts
 * addTransportOptions(new Command('ping').argument('<address>'));
 * ```
 */
export function addTransportOptions(command: Command): Command {
  return command
    .option('--tls', 'connect with TLS (implied by --ca, --cert, --key, --insecure, --servername)')
    .option('--ca <file>', 'PEM certificate authority to verify the server with (default: the system CAs)')
    .option('--cert <file>', 'PEM client certificate, for servers that ask for one')
    .option('--key <file>', 'PEM key of --cert')
    .option('--insecure', 'do not verify the server certificate (testing only)')
    .option('--servername <name>', 'TLS server name to ask for and verify (default: the host)')
    .option('--auth <token>', 'auth token, sent as __AUTH metadata with every call and heartbeat')
    .option('--rpcx', 'speak the rpcx dialect (magic 0x08) instead of Phobos (0x42)')
    .addOption(
      new Option('--connect-timeout <time>', 'give up connecting after this long')
        .default(DEFAULT_CLI_CONNECT_TIMEOUT_MS, '5s')
        .argParser(durationArg(1)),
    );
}

/**
 * The connect options the transport flags ask for, with the certificate files read.
 *
 * @throws UsageError when a file cannot be read, or `--key` and `--cert` are not given together.
 * @example
 * ```ts
 * const options = await connectOptionsOf(command.opts<TransportFlags>());
 * ```
 */
export async function connectOptionsOf(flags: TransportFlags): Promise<ConnectOptions> {
  const wantsTls =
    flags.tls === true ||
    flags.ca !== undefined ||
    flags.cert !== undefined ||
    flags.key !== undefined ||
    flags.insecure === true ||
    flags.servername !== undefined;
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new UsageError('--cert and --key go together: give both or neither');
  }
  let tls: ConnectionOptions | undefined;
  if (wantsTls) {
    tls = {
      ...(flags.ca === undefined ? {} : { ca: await readPem('--ca', flags.ca) }),
      ...(flags.cert === undefined ? {} : { cert: await readPem('--cert', flags.cert) }),
      ...(flags.key === undefined ? {} : { key: await readPem('--key', flags.key) }),
      ...(flags.servername === undefined ? {} : { servername: flags.servername }),
      ...(flags.insecure === true ? { rejectUnauthorized: false } : {}),
    };
  }
  return {
    connectTimeoutMs: flags.connectTimeout,
    ...(tls === undefined ? {} : { tls }),
    ...(flags.auth === undefined ? {} : { auth: flags.auth }),
    ...(flags.rpcx === true ? { dialect: RPCX } : {}),
  };
}

async function readPem(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new UsageError(`cannot read ${flag} ${file}: ${(error as Error).message}`, { cause: error });
  }
}
