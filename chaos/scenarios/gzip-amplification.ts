// gzip-amplification: 40 connections (quick: 10) each send ~16 KiB gzip Echo.Say requests that inflate to
// as much JSON as a server with its defaults allows (maxDecompressedBytes 4 MiB,
// maxCompressionRatio 200, so ~3 MiB), and two more send one request each past a limit: ~16 KiB
// inflating to ~3.9 MiB (ratio ~250, past maxCompressionRatio) and a bomb inflating to 8 MiB
// (past both). Expects every allowed request answered, an error reply (not a crash,
// not a close) for each refused one, and the good client's slowest call under 1 s.
import { gzipSync } from 'node:zlib';
import type { Message } from '../../lib/protocol/index.js';
import { type Attacker, connectAttacker, destroyAll, send } from '../support/attackers.js';
import { errorOf, frame, frameReader } from '../support/frames.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, info, quote } from '../support/verdict.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_DECOMPRESSED_BYTES = 4 * MiB;
const MAX_COMPRESSION_RATIO = 200;
const COMPRESSED_BYTES = 16 * KiB;
const GZIP = 1;

/**
 * A gzip JSON array of `inflatedBytes` that compresses to about `compressedBytes`: random
 * numbers (which barely compress) padded with zeros (which all but vanish), the count of random
 * numbers found by bisection.
 */
function gzipJson(
  inflatedBytes: number,
  compressedBytes: number,
  seed: number,
): { gzip: Buffer; inflated: number } {
  const build = (randoms: number): Buffer => {
    let state = seed;
    const numbers = Array.from({ length: randoms }, () => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      return state;
    });
    const head = Buffer.from(`[${numbers.join(',')}${randoms > 0 ? ',' : ''}0`);
    const zeros = Buffer.alloc(Math.max(0, inflatedBytes - head.length - 1)).fill(',0');
    return Buffer.concat([head, zeros.subarray(0, zeros.length - (zeros.length % 2)), Buffer.from(']')]);
  };
  let low = 0;
  let high = compressedBytes;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (gzipSync(build(middle), { level: 9 }).length <= compressedBytes) low = middle;
    else high = middle - 1;
  }
  const json = build(low);
  return { gzip: gzipSync(json, { level: 9 }), inflated: json.length };
}

/** An Echo.Say request with a gzip JSON payload. */
function gzipCall(gzip: Buffer, seq: bigint): Buffer {
  return frame({ compressType: GZIP, seq, payload: gzip });
}

/** Sends requests on one connection and collects one outcome per request: ok, error or closed. */
async function exchange(
  address: string,
  requests: readonly Buffer[],
  stop: AbortSignal,
): Promise<{ ok: number; errors: string[]; closed: number }> {
  const replies: Message[] = [];
  let done = (): void => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const read = frameReader((message) => {
    replies.push(message);
    if (replies.length === requests.length) done();
  });
  const attacker: Attacker = await connectAttacker(address, { onData: (chunk) => read(chunk) });
  await send(attacker, Buffer.concat(requests));
  await Promise.race([
    all,
    attacker.closed,
    new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true })),
  ]);
  await destroyAll([attacker]);
  const errors = replies.map(errorOf).filter((error): error is string => error !== undefined);
  return { ok: replies.length - errors.length, errors, closed: requests.length - replies.length };
}

export const gzipAmplification: Scenario = {
  name: 'gzip-amplification',
  run: ({ quick }) => {
    const allowedBytes = Math.min(MAX_DECOMPRESSED_BYTES, MAX_COMPRESSION_RATIO * COMPRESSED_BYTES) * 0.95;
    const allowed = gzipJson(allowedBytes, COMPRESSED_BYTES, 1);
    const ratioBomb = gzipJson(MAX_DECOMPRESSED_BYTES - 64 * KiB, COMPRESSED_BYTES, 2);
    const sizeBomb = gzipJson(2 * MAX_DECOMPRESSED_BYTES, 0, 3);
    const ratio = (bomb: { gzip: Buffer; inflated: number }): number =>
      Math.round(bomb.inflated / bomb.gzip.length);
    return underAttack(
      {
        name: 'gzip-amplification',
        server: { options: {} },
      },
      async ({ address, stop }) => {
        const connections = quick ? 10 : 40;
        const perConnection = quick ? 1 : 3;
        const [flood, ratioOutcome, sizeOutcome] = await Promise.all([
          Promise.all(
            Array.from({ length: connections }, (_, c) =>
              exchange(
                address,
                Array.from({ length: perConnection }, (_, i) =>
                  gzipCall(allowed.gzip, BigInt(c * 100 + i + 1)),
                ),
                stop,
              ),
            ),
          ),
          exchange(address, [gzipCall(ratioBomb.gzip, 1n)], stop),
          exchange(address, [gzipCall(sizeBomb.gzip, 1n)], stop),
        ]);
        const ok = flood.reduce((sum, o) => sum + o.ok, 0);
        const failed = flood.flatMap((o) => o.errors);
        const dropped = flood.reduce((sum, o) => sum + o.closed, 0);
        const refusedText = (
          name: string,
          outcome: { ok: number; errors: string[]; closed: number },
        ): string =>
          outcome.errors[0] !== undefined
            ? `${name}: error reply ${quote(outcome.errors[0], 90)}`
            : outcome.ok > 0
              ? `${name}: ANSWERED (inflated and echoed)`
              : `${name}: connection closed without a reply`;
        return [
          check(
            ok === connections * perConnection,
            `${connections} conns x ${perConnection} requests of ${(allowed.gzip.length / KiB).toFixed(1)} KiB gzip -> ${(allowed.inflated / MiB).toFixed(2)} MiB JSON (ratio ${ratio(allowed)}): ` +
              `${ok} answered, ${failed.length} error replies${failed[0] ? ` (${quote(failed[0], 80)})` : ''}, ${dropped} dropped`,
          ),
          check(
            ratioBomb.inflated <= MAX_DECOMPRESSED_BYTES && ratioOutcome.errors.length === 1,
            refusedText(
              `${(ratioBomb.gzip.length / KiB).toFixed(1)} KiB -> ${(ratioBomb.inflated / MiB).toFixed(2)} MiB (ratio ${ratio(ratioBomb)} > ${MAX_COMPRESSION_RATIO})`,
              ratioOutcome,
            ),
          ),
          check(
            sizeOutcome.errors.length === 1,
            refusedText(
              `${(sizeBomb.gzip.length / KiB).toFixed(1)} KiB -> ${(sizeBomb.inflated / MiB).toFixed(0)} MiB (> maxDecompressedBytes ${MAX_DECOMPRESSED_BYTES / MiB} MiB)`,
              sizeOutcome,
            ),
          ),
          info(
            `the defaults: maxDecompressedBytes ${MAX_DECOMPRESSED_BYTES / MiB} MiB, maxCompressionRatio ${MAX_COMPRESSION_RATIO}`,
          ),
        ];
      },
    );
  },
};

await runIfMain(gzipAmplification, import.meta.url);
