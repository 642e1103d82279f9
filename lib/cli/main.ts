#!/usr/bin/env node
// The `phobos` command: runs the program once with the process's I/O and exits with its code.
import { ExitCode } from './exit-code.js';
import { runCli } from './program.js';

/** How long a library handle that outlived its close (a socket, etcd's gRPC channels) may keep the tool alive. */
const EXIT_GRACE_MS = 1_000;

// A reader that went away (`phobos watch ... | head -1`) ends the tool quietly, not with a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const controller = new AbortController();
// The first Ctrl-C stops the command (which summarises); a second one ends the process at once.
process.once('SIGINT', () => controller.abort());

let code: number;
try {
  code = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: () => process.stdin,
    signal: controller.signal,
  });
} catch (error) {
  process.stderr.write(`phobos: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
  code = ExitCode.Internal;
}
process.exitCode = code;
setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
