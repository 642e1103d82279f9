import { type Command, Option } from 'commander';
import { CODEC_NAMES, type CodecName } from './codec-name.js';
import { DEFAULT_BASE_PATH } from './etcd-options.js';
import { basePathArg, durationArg, etcdUrlsArg, metaArg } from './option-parsers.js';
import { BYTES_ENCODINGS, type BytesEncoding } from './to-json.js';
import type { TransportFlags } from './transport-options.js';

/**
 * Default deadline of one call (`--timeout`): 10 seconds.
 *
 * @example
 * ```ts
 * const callOptions = { timeoutMs: flags.timeout ?? DEFAULT_CALL_TIMEOUT_MS };
 * ```
 */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;

/**
 * The flags of {@link addCallOptions} (and the transport flags), as commander parses them.
 *
 * @example
 * ```ts
 * const flags: CallFlags = { ...command.opts<CallFlags>() }; // codec, meta, timeout, etcd...
 * ```
 */
export interface CallFlags extends TransportFlags {
  /** `--codec`. */
  readonly codec: CodecName;
  /** `--proto FILE`. */
  readonly proto?: string;
  /** `--type NAME`. */
  readonly type?: string;
  /** `--reply-type NAME`. */
  readonly replyType?: string;
  /** `--bytes`. */
  readonly bytes: BytesEncoding;
  /** `--meta key=value`, collected. */
  readonly meta: ReadonlyMap<string, string>;
  /** `--timeout`, in ms (0: none). */
  readonly timeout: number;
  /** `--gzip`. */
  readonly gzip?: boolean;
  /** `--etcd URLS`. */
  readonly etcd?: readonly string[];
  /** `--base PATH`. */
  readonly base: string;
}

/**
 * Adds the flags shared by `call` and `bench`: the payload (`--codec`, `--proto`, `--type`,
 * `--reply-type`, `--bytes`), the request (`--meta`, `--timeout`, `--gzip`) and discovery
 * (`--etcd`, `--base`). Add the transport flags separately.
 *
 * @example
 * ```ts
 * addCallOptions(new Command('call'));
 * ```
 */
export function addCallOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--codec <name>', 'payload format of ARGS and the reply')
        .choices(CODEC_NAMES)
        .default('json'),
    )
    .option('--proto <file>', '.proto file holding --type and --reply-type (implies --codec protobuf)')
    .option('--type <name>', 'protobuf message type of ARGS, fully qualified (pkg.Args)')
    .option('--reply-type <name>', 'protobuf message type of the reply (without it: its bytes are printed)')
    .addOption(
      new Option('--bytes <encoding>', 'how raw bytes are written, in ARGS of --codec raw and in output')
        .choices(BYTES_ENCODINGS)
        .default('base64'),
    )
    .addOption(
      new Option('-m, --meta <key=value>', 'request metadata (repeatable)')
        .argParser(metaArg)
        .default(new Map(), 'none'),
    )
    .addOption(
      new Option('-t, --timeout <time>', 'deadline of a call, also sent to the server; 0 for none')
        .default(DEFAULT_CALL_TIMEOUT_MS, '10s')
        .argParser(durationArg(0)),
    )
    .option('--gzip', 'gzip the request payload (any size)')
    .option(
      '--etcd <urls>',
      'find the servers in etcd (comma-separated client URLs) instead of ADDRESS',
      etcdUrlsArg,
    )
    .addOption(
      new Option('--base <path>', 'etcd base path of the keys')
        .default(DEFAULT_BASE_PATH)
        .argParser(basePathArg),
    );
}
