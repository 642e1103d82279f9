/**
 * The command line cannot be run as written: a bad argument or flag value, a file that cannot
 * be read, arguments that do not parse, a package an option needs that is not installed. The
 * tool prints its message on one line (no stack trace) and exits with `ExitCode.Usage` (2).
 *
 * @example
 * ```ts
 * throw new UsageError('ARGS is not valid JSON: Unexpected token } in JSON at position 9');
 * ```
 */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}
