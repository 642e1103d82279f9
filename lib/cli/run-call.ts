import { lastValueFrom } from 'rxjs';
import type { Metadata } from '../protocol/message.js';
import { abortable } from './abortable.js';
import type { CallCommandFlags } from './call-command.js';
import type { CliRun } from './cli-io.js';
import { printable } from './error-report.js';
import { ExitCode } from './exit-code.js';
import { prepareCall } from './prepare-call.js';
import { toJson } from './to-json.js';

/**
 * Runs `phobos call`: reads the arguments, connects, makes the call and prints the reply (and
 * with `-v` its metadata on stderr). Sets the run's exit code to 0 on success.
 *
 * @param positionals - ADDRESS, Service.Method and ARGS (or, with `--etcd`, Service.Method and ARGS).
 * @param codecGiven - whether `--codec` was given rather than defaulted.
 * @throws (rejects) UsageError for bad arguments; the call's `RpcError` when it fails (its code
 *   gives the exit code).
 * @example
 * ```ts
 * await runCall(run, ['tcp@127.0.0.1:8972', 'HelloWorld.Greet', '{"First":"a"}'], flags, false);
 * ```
 */
export async function runCall(
  run: CliRun,
  positionals: readonly (string | undefined)[],
  flags: CallCommandFlags,
  codecGiven: boolean,
): Promise<void> {
  const prepared = await prepareCall(positionals, flags, run.io, codecGiven);
  const { service, method } = prepared.target;
  const caller = await prepared.open();
  try {
    if (flags.verbose) {
      run.io.stderr.write(
        `> ${service}.${method} to ${printable(caller.description)} (${prepared.codec.name}, ${prepared.payload.length} bytes)\n`,
      );
    }
    const started = performance.now();
    const reply = await lastValueFrom(
      abortable(caller.call$(service, method, prepared.payload, prepared.callOptions), run.io.signal),
    );
    const elapsedMs = round(performance.now() - started);
    const data = prepared.codec.decode(reply.payload);
    const metadata = metadataRecord(reply.metadata);
    if (flags.verbose) {
      const from = reply.address === undefined ? '' : ` from ${printable(reply.address)}`;
      run.io.stderr.write(`< ok in ${elapsedMs} ms${from} (${reply.payload.length} bytes)\n`);
      for (const [key, value] of Object.entries(metadata)) {
        run.io.stderr.write(`< ${printable(key)}: ${printable(value)}\n`);
      }
    }
    if (flags.json) {
      const envelope = {
        service,
        method,
        address: reply.address ?? null,
        codec: prepared.codec.name,
        elapsedMs,
        metadata,
        // Through toJson, which writes bytes, BigInts and Maps as JSON can hold them.
        reply: JSON.parse(toJson(data, { bytes: flags.bytes })) as unknown,
      };
      run.io.stdout.write(`${JSON.stringify(envelope)}\n`);
    } else {
      run.io.stdout.write(`${toJson(data, { bytes: flags.bytes, indent: 2 })}\n`);
    }
    run.exitCode = ExitCode.Ok;
  } finally {
    await caller.close();
  }
}

/**
 * Metadata as a plain record, for printing (a null prototype: any key, `__proto__` included, is
 * a plain entry). Never throws.
 *
 * @example
 * ```ts
 * metadataRecord(new Map([['k', 'v']])); // { k: 'v' }
 * ```
 */
export function metadataRecord(metadata: Metadata): Record<string, string> {
  const record: Record<string, string> = Object.create(null);
  for (const [key, value] of metadata) record[key] = value;
  return record;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
