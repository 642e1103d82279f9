// metadata-flood: Echo.Say frames within maxMessageBytes (16 MiB) whose metadata is the attack:
// a million tiny entries (distinct keys, empty values, ~11 MiB), one 8 MiB key, one 8 MiB value,
// and 1,000 entries in 12 KiB (within maxMetadataBytes, past maxMetadataEntries). The server runs
// with its defaults (maxMetadataEntries 128, maxMetadataBytes 32 KiB). Expects each frame
// refused, by an error reply or a close, within 1 s of its last byte, and the good client
// unaffected (its slowest call under 1 s).
import { connectAttacker, destroyAll, send } from '../support/attackers.js';
import { errorOf, frameReader, lengthPrefixed, withPrefix } from '../support/frames.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, duration, mib, quote } from '../support/verdict.js';

const MiB = 1024 * 1024;
const REFUSE_WITHIN_MS = 1_000;
const GIVE_UP_MS = 10_000;

/** An Echo.Say JSON call whose metadata section is `metadata` (raw entry bytes). */
function callWithMetadata(metadata: Buffer): Buffer {
  return withPrefix(lengthPrefixed(Buffer.from('Echo'), Buffer.from('Say'), metadata, Buffer.from('"hi"')));
}

/** `count` entries: keys 0, 1, 2... in base 36, empty values. */
function manyEntries(count: number): Buffer {
  const entries: Buffer[] = [];
  for (let i = 0; i < count; i += 1)
    entries.push(lengthPrefixed(Buffer.from(i.toString(36)), Buffer.alloc(0)));
  return Buffer.concat(entries);
}

type Outcome =
  | { kind: 'error'; message: string; ms: number }
  | { kind: 'closed'; ms: number }
  | { kind: 'answered'; ms: number }
  | { kind: 'nothing' };

/** Sends one frame and says how the server answered it, timed from its last byte. */
async function attempt(address: string, bytes: Buffer, stop: AbortSignal): Promise<Outcome> {
  let outcome: Outcome | undefined;
  let settle = (): void => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const since = (): number => performance.now() - (attacker.lastByteAt ?? performance.now());
  const read = frameReader((message) => {
    const error = errorOf(message);
    outcome ??=
      error === undefined
        ? { kind: 'answered', ms: since() }
        : { kind: 'error', message: error, ms: since() };
    settle();
  });
  const attacker = await connectAttacker(address, { onData: (chunk) => read(chunk) });
  void attacker.closed.then(() => {
    outcome ??= { kind: 'closed', ms: since() };
    settle();
  });
  await send(attacker, bytes);
  const timer = setTimeout(settle, GIVE_UP_MS);
  stop.addEventListener('abort', settle, { once: true });
  await settled;
  clearTimeout(timer);
  await destroyAll([attacker]);
  return outcome ?? { kind: 'nothing' };
}

function judge(label: string, outcomes: readonly Outcome[]) {
  const refused = outcomes.filter(
    (o) => (o.kind === 'error' || o.kind === 'closed') && o.ms <= REFUSE_WITHIN_MS,
  );
  const slowest = Math.max(0, ...outcomes.map((o) => ('ms' in o ? o.ms : GIVE_UP_MS)));
  const answered = outcomes.filter((o) => o.kind === 'answered').length;
  const silent = outcomes.filter((o) => o.kind === 'nothing').length;
  const firstError = outcomes.find((o): o is Extract<Outcome, { kind: 'error' }> => o.kind === 'error');
  const closed = outcomes.filter((o) => o.kind === 'closed').length;
  return check(
    refused.length === outcomes.length,
    `${outcomes.length} x ${label}: ` +
      [
        firstError
          ? `${outcomes.length - closed - answered - silent} error replies (${quote(firstError.message, 70)})`
          : '',
        closed ? `${closed} closed` : '',
        answered ? `${answered} ANSWERED normally` : '',
        silent ? `${silent} got nothing in ${duration(GIVE_UP_MS)}` : '',
      ]
        .filter(Boolean)
        .join(', ') +
      `, slowest ${duration(slowest)} after the last byte (limit ${duration(REFUSE_WITHIN_MS)})`,
  );
}

export const metadataFlood: Scenario = {
  name: 'metadata-flood',
  run: ({ quick }) => {
    const tiny = callWithMetadata(manyEntries(1_000_000));
    const thousand = callWithMetadata(manyEntries(1_000));
    const hugeKey = callWithMetadata(lengthPrefixed(Buffer.alloc(8 * MiB, 0x6b), Buffer.from('v')));
    const hugeValue = callWithMetadata(lengthPrefixed(Buffer.from('k'), Buffer.alloc(8 * MiB, 0x76)));
    return underAttack(
      {
        name: 'metadata-flood',
        server: { options: {} },
      },
      async ({ address, stop }) => {
        const many = quick ? 2 : 5;
        const huge = quick ? 1 : 3;
        const [tinyOutcomes, keyOutcomes, valueOutcomes, thousandOutcomes] = await Promise.all(
          [
            { bytes: tiny, count: many },
            { bytes: hugeKey, count: huge },
            { bytes: hugeValue, count: huge },
            { bytes: thousand, count: many },
          ].map(({ bytes, count }) =>
            Promise.all(Array.from({ length: count }, () => attempt(address, bytes, stop))),
          ),
        );
        return [
          judge(`1,000,000 metadata entries (${mib(tiny.length)} frame)`, tinyOutcomes ?? []),
          judge('8 MiB metadata key', keyOutcomes ?? []),
          judge('8 MiB metadata value', valueOutcomes ?? []),
          judge(
            `1,000 metadata entries in ${(thousand.length / 1024).toFixed(1)} KiB`,
            thousandOutcomes ?? [],
          ),
        ];
      },
    );
  },
};

await runIfMain(metadataFlood, import.meta.url);
