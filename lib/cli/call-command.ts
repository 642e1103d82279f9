import { Command } from 'commander';
import { addCallOptions, type CallFlags } from './call-options.js';
import type { CliRun } from './cli-io.js';
import { EXIT_CODE_HELP } from './exit-code.js';
import { addTransportOptions } from './transport-options.js';

/**
 * The flags of `phobos call`.
 *
 * @example
 * ```ts
 * const flags = command.opts<CallCommandFlags>(); // { codec: 'json', timeout: 10000, verbose: true, ... }
 * ```
 */
export interface CallCommandFlags extends CallFlags {
  /** `-v`: print the reply's metadata and timing on stderr. */
  readonly verbose?: boolean;
  /** `--json`: print one JSON object (reply, metadata, timing) on one line. */
  readonly json?: boolean;
}

const CALL_HELP = `
ARGS is JSON (an object for --codec protobuf), @file to read it from a file, or @- for stdin;
without ARGS, {} is sent (no bytes for --codec raw). For --codec raw, ARGS is base64 (or hex
with --bytes hex), or @file for a file's bytes; raw replies are printed as a JSON string of
base64 (or hex). 64-bit integers past 2^53 are printed as strings.

The reply is printed as JSON on stdout. -v adds the metadata and timing on stderr; --json prints
one line {"service","method","address","codec","elapsedMs","metadata","reply"} instead (and an
{"error":{"kind","message","exitCode"}} line on failure).

Durations take a unit: 500ms, 10s, 1m (a bare number is milliseconds).

Examples:
  $ phobos call tcp@127.0.0.1:8972 HelloWorld.Greet '{"First":"budei"}'
  $ phobos call localhost:8972 Arith.Mul '{"A":7,"B":8}' --codec msgpack -m tenant=a -v
  $ phobos call tcp@127.0.0.1:8972 PBArith.Mul '{"A":7,"B":8}' --proto arith.proto --type Args --reply-type Reply
  $ phobos call --etcd http://127.0.0.1:2379 --base /phobos HelloWorld.Greet @args.json --timeout 2s
  $ phobos call tcp@10.0.0.7:8972 Echo.Say 'aGk=' --codec raw --tls --ca ca.pem --auth "$TOKEN"
${EXIT_CODE_HELP}`;

/**
 * Builds `phobos call`: one call, its reply printed as JSON. Its work is loaded when it runs
 * (`runCall`), so that `--help` and usage errors load none of the client.
 *
 * @example
 * ```ts
 * program.addCommand(callCommand(run));
 * ```
 */
export function callCommand(run: CliRun): Command {
  const command = new Command('call')
    .description('call a method once and print its reply as JSON')
    .usage(
      '[options] ADDRESS Service.Method [ARGS]\n       phobos call [options] --etcd URL Service.Method [ARGS]',
    )
    .argument('<target>', 'ADDRESS (tcp@host:port, unix@/path, host:port), or Service.Method with --etcd')
    .argument('[method]', 'Service.Method, or ARGS with --etcd')
    .argument('[args]', 'ARGS: JSON, @file or @-')
    .option('-v, --verbose', 'also print the reply metadata and timing on stderr')
    .option('--json', 'print one JSON object with the reply, its metadata and timing');
  addCallOptions(command);
  addTransportOptions(command);
  command.addHelpText('after', CALL_HELP);
  command.action(
    async (first: string, second: string | undefined, third: string | undefined, flags: CallCommandFlags) => {
      const { runCall } = await import('./run-call.js');
      await runCall(run, [first, second, third], flags, command.getOptionValueSource('codec') === 'cli');
    },
  );
  return command;
}
