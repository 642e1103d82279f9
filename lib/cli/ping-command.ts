import { Command, Option } from 'commander';
import type { CliRun } from './cli-io.js';
import { EXIT_CODE_HELP } from './exit-code.js';
import { durationArg, integerArg } from './option-parsers.js';
import { addTransportOptions, type TransportFlags } from './transport-options.js';

/**
 * Default of `ping --count`: 4 heartbeats.
 *
 * @example
 * ```ts
 * new Option('-c, --count <n>').default(DEFAULT_PING_COUNT);
 * ```
 */
export const DEFAULT_PING_COUNT = 4;

/**
 * Most heartbeats `ping --count` sends.
 *
 * @example
 * ```ts
 * integerArg(0, MAX_PING_COUNT)('10'); // 10
 * ```
 */
export const MAX_PING_COUNT = 1_000_000;

/**
 * Default of `ping --interval`: one heartbeat a second.
 *
 * @example
 * ```ts
 * timer(0, flags.interval ?? DEFAULT_PING_INTERVAL_MS);
 * ```
 */
export const DEFAULT_PING_INTERVAL_MS = 1_000;

/**
 * Default of `ping --timeout`: an echo later than 5 seconds counts as lost.
 *
 * @example
 * ```ts
 * connection.ping$().pipe(timeout(DEFAULT_PING_TIMEOUT_MS));
 * ```
 */
export const DEFAULT_PING_TIMEOUT_MS = 5_000;

/**
 * The flags of `phobos ping`.
 *
 * @example
 * ```ts
 * const { count, interval, timeout } = command.opts<PingFlags>();
 * ```
 */
export interface PingFlags extends TransportFlags {
  /** `--count` (0: until interrupted). */
  readonly count: number;
  /** `--interval`, in ms. */
  readonly interval: number;
  /** `--timeout`, in ms. */
  readonly timeout: number;
  /** `--json`. */
  readonly json?: boolean;
}

const PING_HELP = `
Sends heartbeats (the protocol's ping frames, answered by the server's connection itself, not by
a service) over one connection and prints each round-trip time, then a summary. Ctrl-C stops early
and still prints the summary. Exits 0 when at least one echo came back, 4 when none did, 3 when
the server cannot be reached or closes the connection.

Examples:
  $ phobos ping tcp@127.0.0.1:8972
  $ phobos ping localhost:8972 --count 10 --interval 200ms
  $ phobos ping tcp@10.0.0.7:8972 --count 0 --tls --ca ca.pem --auth "$TOKEN"   # until Ctrl-C
  $ phobos ping tcp@127.0.0.1:8972 --count 3 --json
${EXIT_CODE_HELP}`;

/**
 * Builds `phobos ping`: heartbeat round trips to one server, like ping(8). Its work is loaded
 * when it runs (`runPing`).
 *
 * @example
 * ```ts
 * program.addCommand(pingCommand(run));
 * ```
 */
export function pingCommand(run: CliRun): Command {
  const command = new Command('ping')
    .description('measure heartbeat round trips to a server, like ping')
    .argument('<address>', 'tcp@host:port, unix@/path or host:port')
    .addOption(
      new Option('-c, --count <n>', 'heartbeats to send; 0 for until interrupted')
        .default(DEFAULT_PING_COUNT)
        .argParser(integerArg(0, MAX_PING_COUNT)),
    )
    .addOption(
      new Option('-i, --interval <time>', 'time between heartbeats')
        .default(DEFAULT_PING_INTERVAL_MS, '1s')
        .argParser(durationArg(1)),
    )
    .addOption(
      new Option('-t, --timeout <time>', 'an echo later than this counts as lost')
        .default(DEFAULT_PING_TIMEOUT_MS, '5s')
        .argParser(durationArg(1)),
    )
    .option('--json', 'print one JSON object with every round trip and the summary');
  addTransportOptions(command);
  command.addHelpText('after', PING_HELP);
  command.action(async (address: string, flags: PingFlags) => {
    const { runPing } = await import('./run-ping.js');
    await runPing(run, address, flags);
  });
  return command;
}
