import { CommanderError } from 'commander';
import { ProtocolError } from '../errors/errors.js';
import { RpcError, type RpcErrorCode } from '../errors/rpc-error.js';
import { UsageError } from './usage-error.js';

/**
 * The exit codes of the `phobos` command, by what went wrong. A script tells a server that
 * answered with an error (1) from one it could not reach (3) or that was too slow (4).
 *
 * @example
 * ```ts
 * if (code === ExitCode.DeadlineExceeded) console.error('the server did not answer in time');
 * ```
 */
export const ExitCode = {
  /** The command did what it was asked. */
  Ok: 0,
  /** The server answered with an error: the handler failed, no such service or method, bad arguments, refused auth. */
  ServiceError: 1,
  /** The command line is wrong (unknown option, bad value, bad address, ARGS that do not parse) or a package it needs is missing. */
  Usage: 2,
  /** No server could be reached: the dial failed, the connection dropped, the server was busy, etcd or the service's servers unreachable. */
  Unavailable: 3,
  /** The deadline (`--timeout`) passed before the answer came. */
  DeadlineExceeded: 4,
  /** Interrupted (Ctrl-C) before the answer came. */
  Cancelled: 5,
  /** The peer broke the protocol: a frame that is not Phobos/rpcx, a reply that does not decode. */
  Protocol: 6,
  /** Anything else: a fault of the tool itself. */
  Internal: 7,
} as const;

/**
 * One of the {@link ExitCode} values.
 *
 * @example
 * ```ts
 * const code: ExitCode = ExitCode.Unavailable; // 3
 * ```
 */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The exit code table as `--help` prints it.
 *
 * @example
 * ```ts
 * program.addHelpText('after', EXIT_CODE_HELP);
 * ```
 */
export const EXIT_CODE_HELP = `
Exit codes:
  0  ok
  1  the server answered with an error (handler failed, unknown service or method, bad arguments, auth refused)
  2  usage: unknown option, bad value, bad address, ARGS that do not parse, missing package
  3  unavailable: cannot connect, connection lost, server busy, etcd or every server unreachable
  4  deadline exceeded (--timeout)
  5  cancelled (interrupted)
  6  protocol: the peer sent frames or a payload that do not decode
  7  internal error of the tool`;

const BY_RPC_CODE: Readonly<Record<RpcErrorCode, ExitCode>> = {
  SERVICE_ERROR: ExitCode.ServiceError,
  UNAUTHENTICATED: ExitCode.ServiceError,
  UNAVAILABLE: ExitCode.Unavailable,
  RESOURCE_EXHAUSTED: ExitCode.Unavailable,
  CONNECTION_CLOSED: ExitCode.Unavailable,
  NO_INSTANCE: ExitCode.Unavailable,
  CIRCUIT_OPEN: ExitCode.Unavailable,
  DEADLINE_EXCEEDED: ExitCode.DeadlineExceeded,
  CANCELLED: ExitCode.Cancelled,
  PROTOCOL_ERROR: ExitCode.Protocol,
  CODEC_ERROR: ExitCode.Protocol,
  UNKNOWN: ExitCode.Internal,
};

/**
 * The exit code for an error the command ended with: {@link UsageError}, commander's own
 * errors and `RangeError` (a value the library refused) are usage errors; an
 * {@link RpcError} maps by its code; a connection that closed because the peer broke the
 * protocol is a protocol error. Anything else is internal. Never throws.
 *
 * @example
 * ```ts
 * exitCodeOf(new DeadlineExceededError('too slow')); // 4
 * exitCodeOf(new UsageError('bad flag'));            // 2
 * ```
 */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof UsageError || error instanceof CommanderError) return ExitCode.Usage;
  if (error instanceof RpcError) {
    if (error.code === 'CONNECTION_CLOSED' && causedBy(error, (cause) => cause instanceof ProtocolError)) {
      return ExitCode.Protocol;
    }
    return BY_RPC_CODE[error.code] ?? ExitCode.Internal;
  }
  if (error instanceof RangeError) return ExitCode.Usage;
  return ExitCode.Internal;
}

/** Whether `error` or one of its causes (at most 8 deep) passes `test`. */
function causedBy(error: unknown, test: (cause: unknown) => boolean): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    if (test(current)) return true;
    current = current instanceof Error ? current.cause : undefined;
  }
  return false;
}
