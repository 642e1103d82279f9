import { CommanderError } from 'commander';
import { RpcError } from '../errors/rpc-error.js';
import type { CliRun } from './cli-io.js';
import { ExitCode, exitCodeOf } from './exit-code.js';
import { UsageError } from './usage-error.js';

/**
 * What the command line says of an error: its kind, a one-line message and the exit code.
 *
 * @example
 * ```ts
 * const { kind, message, exitCode }: ErrorSummary = errorSummary(error);
 * ```
 */
export interface ErrorSummary {
  /**
   * The kind: an `RpcError` code (`SERVICE_ERROR`, with the server's reason when it gave one:
   * `SERVICE_ERROR/NOT_FOUND`), `USAGE` or `INTERNAL`.
   */
  readonly kind: string;
  /** The message, on one line, with control characters escaped. */
  readonly message: string;
  /** The exit code of the kind (see `ExitCode`). */
  readonly exitCode: number;
}

/**
 * Summarises an error for output. Text that came from a peer (a server's error message) is made
 * printable: control characters, line ends included, are escaped, so that a hostile server
 * cannot write to the terminal. Never throws.
 *
 * @example
 * ```ts
 * errorSummary(new ServiceError('divide by zero'));
 * // { kind: 'SERVICE_ERROR', message: 'divide by zero', exitCode: 1 }
 * ```
 */
export function errorSummary(error: unknown): ErrorSummary {
  const exitCode = exitCodeOf(error);
  let kind: string;
  if (error instanceof RpcError) {
    const reason = error.details.reason;
    kind = typeof reason === 'string' ? `${error.code}/${reason}` : error.code;
  } else if (error instanceof UsageError || error instanceof CommanderError || exitCode === ExitCode.Usage) {
    kind = 'USAGE';
  } else {
    kind = 'INTERNAL';
  }
  return { kind, message: printable(messageOf(error)), exitCode };
}

/**
 * Writes the error a command ended with: one line on stderr (`phobos call: DEADLINE_EXCEEDED:
 * ...`), a JSON object on stdout as well under `--json`, the stack as well for an internal
 * error under `-v`. Returns the exit code.
 *
 * @example
 * ```ts
 * return reportError(error, run);
 * ```
 */
export function reportError(error: unknown, run: CliRun): number {
  const summary = errorSummary(error);
  const label = summary.kind === 'USAGE' ? 'error' : summary.kind;
  run.io.stderr.write(`${run.name}: ${label}: ${summary.message}\n`);
  if (summary.kind === 'INTERNAL' && run.verbose && error instanceof Error && error.stack !== undefined) {
    run.io.stderr.write(`${error.stack}\n`);
  }
  if (run.json) run.io.stdout.write(`${JSON.stringify({ error: summary })}\n`);
  return summary.exitCode;
}

/**
 * Escapes control characters (C0, DEL, C1), so that text from a peer stays on one line and
 * cannot drive the terminal.
 *
 * @example
 * ```ts
 * printable('a\nb\u001b[31m'); // 'a\\nb\\u001b[31m'
 * ```
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => {
    if (char === '\n') return '\\n';
    if (char === '\r') return '\\r';
    if (char === '\t') return '\\t';
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  try {
    return String(error);
  } catch {
    return 'an error that cannot be described';
  }
}
