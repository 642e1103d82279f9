/**
 * Somewhere the command line writes text: stdout or stderr.
 *
 * @example
 * ```ts
 * const output: CliOutput = { write: (text) => chunks.push(text), isTTY: false };
 * ```
 */
export interface CliOutput {
  /** Writes text as it is (the caller adds line ends). */
  write(text: string): unknown;
  /** Whether it is a terminal (progress lines are drawn only on one). */
  readonly isTTY?: boolean;
}

/**
 * What a run of the command line reads and writes: the tool's whole outside world, so that
 * tests run it in process with strings for outputs.
 *
 * @example
 * ```ts
 * const controller = new AbortController();
 * process.once('SIGINT', () => controller.abort());
 * await runCli(process.argv.slice(2), {
 *   stdout: process.stdout,
 *   stderr: process.stderr,
 *   stdin: () => process.stdin,
 *   signal: controller.signal,
 * });
 * ```
 */
export interface CliIo {
  /** Where results go. */
  readonly stdout: CliOutput;
  /** Where errors, progress and `-v` details go. */
  readonly stderr: CliOutput;
  /** Stdin, for ARGS `@-`; a function so that it is opened only when read. */
  readonly stdin?: () => NodeJS.ReadableStream;
  /** Aborts on Ctrl-C: a call is cancelled, ping/bench/watch stop and summarise. */
  readonly signal?: AbortSignal;
}

/**
 * The state of one run of the command line, shared by its commands: the I/O, and what the
 * running command has said about how it ends and how errors are to be reported.
 *
 * @example
 * ```ts
 * const run: CliRun = { io, exitCode: 0, json: false, verbose: false, name: 'phobos' };
 * ```
 */
export interface CliRun {
  /** Outputs, stdin and the interrupt signal. */
  readonly io: CliIo;
  /** How the run ends when no error escapes the command. */
  exitCode: number;
  /** `--json`: an error is also written to stdout as a JSON object. */
  json: boolean;
  /** `-v`: an internal error is written with its stack. */
  verbose: boolean;
  /** The running command (`phobos call`), for messages. */
  name: string;
}
