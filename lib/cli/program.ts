import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { benchCommand } from './bench-command.js';
import { callCommand } from './call-command.js';
import type { CliIo, CliRun } from './cli-io.js';
import { reportError } from './error-report.js';
import { EXIT_CODE_HELP, ExitCode } from './exit-code.js';
import { listCommand } from './list-command.js';
import { pingCommand } from './ping-command.js';
import { watchCommand } from './watch-command.js';

const PROGRAM_HELP = `
ADDRESS is tcp@host:port, unix@/path or host:port. Durations take a unit: 500ms, 10s, 1m.
Run 'phobos <command> --help' for a command's flags and examples.

Examples:
  $ phobos call tcp@127.0.0.1:8972 HelloWorld.Greet '{"First":"budei"}'
  $ phobos ping tcp@127.0.0.1:8972 --count 3
  $ phobos list --etcd http://127.0.0.1:2379
  $ phobos watch --etcd http://127.0.0.1:2379 HelloWorld
  $ phobos bench tcp@127.0.0.1:8972 HelloWorld.Greet '{"First":"budei"}' -c 100 -d 10s
${EXIT_CODE_HELP}`;

/**
 * Builds the `phobos` program (call, ping, list, watch, bench) for one run: every output goes
 * to `run.io`, nothing calls `process.exit`, and usage errors are thrown as commander errors
 * (`exitOverride`) after their one-line message was written to `run.io.stderr`.
 *
 * @example
 * ```ts
 * const run: CliRun = { io, exitCode: 0, json: false, verbose: false, name: 'phobos' };
 * await createProgram(run).parseAsync(['ping', 'tcp@127.0.0.1:8972'], { from: 'user' });
 * ```
 */
export function createProgram(run: CliRun): Command {
  const program = new Command('phobos')
    .description('call, ping, list, watch and load-test Phobos and rpcx services')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help')
    .addHelpText('after', PROGRAM_HELP)
    .showSuggestionAfterError(true)
    .enablePositionalOptions();
  configure(program, run, 'phobos');
  for (const command of [
    callCommand(run),
    pingCommand(run),
    listCommand(run),
    watchCommand(run),
    benchCommand(run),
  ]) {
    configure(command, run, `phobos ${command.name()}`);
    command.helpOption('-h, --help', 'print help');
    program.addCommand(command);
  }
  program.hook('preAction', (_program, action) => {
    const flags = action.opts<{ json?: boolean; verbose?: boolean }>();
    run.name = `phobos ${action.name()}`;
    run.json = flags.json === true;
    run.verbose = flags.verbose === true;
  });
  return program;
}

/**
 * Runs the command line once: parses `argv` (the arguments after the program name), runs the
 * command, and resolves to the exit code (see `ExitCode`). Never rejects and never exits the
 * process: every error is written as one line to `io.stderr` and turned into its exit code.
 *
 * @example
 * ```ts
 * const code = await runCli(['call', 'tcp@127.0.0.1:8972', 'HelloWorld.Greet', '{"First":"a"}'], io);
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const run: CliRun = { io, exitCode: ExitCode.Ok, json: false, verbose: false, name: 'phobos' };
  try {
    await createProgram(run).parseAsync([...argv], { from: 'user' });
    return run.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with 0; commander has already written the message of the others.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    return reportError(error, run);
  }
}

/** Sends a command's output to the run's I/O and its errors through one-line messages. */
function configure(command: Command, run: CliRun, name: string): void {
  command.exitOverride();
  command.configureOutput({
    writeOut: (text) => run.io.stdout.write(text),
    writeErr: (text) => run.io.stderr.write(text),
    outputError: (text, write) => {
      const line = text
        .replace(/^error: /, '')
        .replace(/\s*\n\s*/g, ' ')
        .trim();
      write(`${name}: error: ${line} (see '${name} --help')\n`);
    },
  });
}

/** The version in package.json (two levels up from lib/cli/ and from dist/cli/). */
function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
