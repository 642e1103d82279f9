// Runs the `phobos` command line as a child process (node --import tsx lib/cli/main.ts), the
// way a user runs it, and collects what it writes.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository's root: the CLI runs with it as its working directory. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const MAIN = 'lib/cli/main.ts';

/** How a finished run of the CLI ended. */
export interface CliResult {
  /** The exit code (null when a signal ended it). */
  readonly code: number | null;
  /** The signal that ended it, if any. */
  readonly signal: NodeJS.Signals | null;
  /** Everything it wrote to stdout. */
  readonly stdout: string;
  /** Everything it wrote to stderr. */
  readonly stderr: string;
}

/** A running CLI. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** What it wrote so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves once `pattern` matches what it wrote to `stream` (rejects if it ends first). */
  waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpExecArray>;
  /** Resolves once it exited and its pipes closed. */
  readonly done: Promise<CliResult>;
  /** Sends a signal if it still runs. */
  kill(signal?: NodeJS.Signals): void;
}

/** Starts the CLI with `args`; `stdin` is written to its stdin and closed. */
export function startCli(args: readonly string[], options: { stdin?: string } = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let stdout = '';
  let stderr = '';
  const watchers = new Set<() => void>();
  const notify = (): void => {
    for (const watcher of [...watchers]) watcher();
  };
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    notify();
  });
  child.stdin?.end(options.stdin ?? '');
  let ended = false;
  const done = new Promise<CliResult>((resolve) => {
    child.once('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stdout, stderr });
      notify();
    });
  });
  return {
    child,
    output: () => ({ stdout, stderr }),
    waitFor(stream, pattern) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stream === 'stdout' ? stdout : stderr);
          if (match !== null) {
            watchers.delete(check);
            resolve(match);
          } else if (ended) {
            watchers.delete(check);
            reject(new Error(`the CLI ended before ${stream} matched ${pattern}:\n${stdout}\n${stderr}`));
          }
        };
        watchers.add(check);
        check();
      });
    },
    done,
    kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Runs the CLI with `args` to its end. */
export function phobos(args: readonly string[], options: { stdin?: string } = {}): Promise<CliResult> {
  return startCli(args, options).done;
}

/** A run that failed the way usage errors must: exit 2, one line on stderr, no stack trace. */
export function expectUsageError(result: CliResult): string {
  if (result.code !== 2) throw new Error(`expected exit code 2, got ${result.code}: ${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got:\n${result.stderr}`);
  if (/\n\s+at /.test(result.stderr) || /\.ts:\d+/.test(result.stderr)) {
    throw new Error(`a stack trace on stderr:\n${result.stderr}`);
  }
  return lines[0] as string;
}
