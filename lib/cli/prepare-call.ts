import type { CallOptions } from '../client/connection.js';
import type { CallFlags } from './call-options.js';
import { type CallTarget, callTarget } from './call-target.js';
import { type Caller, openAddressCaller } from './caller.js';
import type { CliIo } from './cli-io.js';
import type { CodecName } from './codec-name.js';
import { openEtcdCaller } from './etcd-caller.js';
import { loadProtoTypes } from './load-proto.js';
import { type PayloadCodec, payloadCodec } from './payload-codec.js';
import { readArgs } from './read-args.js';
import { connectOptionsOf } from './transport-options.js';
import { UsageError } from './usage-error.js';

/**
 * A call ready to send: where, what, and how to connect.
 *
 * @example
 * ```ts
 * const prepared: PreparedCall = await prepareCall(positionals, flags, io, false);
 * const caller = await prepared.open();
 * ```
 */
export interface PreparedCall {
  /** The positional arguments, read. */
  readonly target: CallTarget;
  /** The payload format. */
  readonly codec: PayloadCodec;
  /** The encoded request payload. */
  readonly payload: Uint8Array;
  /** The options of each request. */
  readonly callOptions: CallOptions;
  /**
   * Connects (to the address, or through etcd) and returns the caller.
   *
   * @param connections - connections to one address (ignored with etcd). Default 1.
   */
  open(connections?: number): Promise<Caller>;
}

/**
 * Reads the positional arguments and flags of `call` or `bench` into a {@link PreparedCall}:
 * loads `--proto`, reads and encodes ARGS, reads the certificate files. Nothing is sent yet.
 *
 * @param codecGiven - whether `--codec` was given on the command line (rather than defaulted).
 * @throws (rejects) UsageError for anything wrong in them, before any connection is made.
 * @example
 * ```ts
 * const prepared = await prepareCall([first, second, third], flags, io, command.getOptionValueSource('codec') === 'cli');
 * const caller = await prepared.open();
 * ```
 */
export async function prepareCall(
  positionals: readonly (string | undefined)[],
  flags: CallFlags,
  io: CliIo,
  codecGiven: boolean,
): Promise<PreparedCall> {
  const target = callTarget(positionals, flags.etcd && { hosts: flags.etcd, basePath: flags.base });
  const codecName = codecOf(flags, codecGiven);
  const proto =
    codecName === 'protobuf' && flags.proto !== undefined && flags.type !== undefined
      ? await loadProtoTypes(flags.proto, flags.type, flags.replyType)
      : undefined;
  const codec = payloadCodec({ codec: codecName, proto, bytes: flags.bytes });
  const args = target.args === undefined ? undefined : await readArgs(target.args, io.stdin?.());
  const payload = codec.encode(args);
  const connectOptions = await connectOptionsOf(flags);
  const callOptions: CallOptions = {
    serializeType: codec.serializeType,
    timeoutMs: flags.timeout,
    ...(flags.meta.size > 0 ? { metadata: flags.meta } : {}),
    ...(flags.gzip === true ? { compress: true } : {}),
  };
  // Gzip asked for is gzip done, whatever the payload's size.
  const options = flags.gzip === true ? { ...connectOptions, compressThresholdBytes: 0 } : connectOptions;
  const destination = target.destination;
  return {
    target,
    codec,
    payload,
    callOptions,
    open: (connections = 1) =>
      destination.kind === 'address'
        ? openAddressCaller(destination.address, options, { connections, signal: io.signal })
        : openEtcdCaller(
            destination,
            target.service,
            { ...options, connectTimeoutMs: flags.connectTimeout },
            io,
          ),
  };
}

function codecOf(flags: CallFlags, codecGiven: boolean): CodecName {
  const protoFlags = [flags.proto, flags.type, flags.replyType].some((value) => value !== undefined);
  if (!protoFlags) {
    if (flags.codec === 'protobuf')
      throw new UsageError('--codec protobuf needs --proto FILE and --type NAME');
    return flags.codec;
  }
  if (codecGiven && flags.codec !== 'protobuf') {
    throw new UsageError(
      `--proto, --type and --reply-type are for --codec protobuf, not --codec ${flags.codec}`,
    );
  }
  if (flags.proto === undefined) throw new UsageError('--type and --reply-type need --proto FILE');
  if (flags.type === undefined) throw new UsageError('--proto needs --type NAME, the message type of ARGS');
  return 'protobuf';
}
