// hostile-handlers: calls every Hostile.* method (each hostile value — a revoked Proxy, a
// null-prototype object holding a BigInt and a cycle, an object whose getters throw, a Proxy
// whose every trap throws, a Symbol, a BigInt — thrown, rejected, returned, errored and emitted
// by an Observable; and thenables whose `then` throws), many times and concurrently, over the
// JSON and MsgPack codecs, with Clients from dist. Expects every call to get a reply or an error
// reply (never a dropped connection or no answer), and the server alive.
import { HOSTILE_METHODS } from '../support/messages.js';
import { phobos } from '../support/phobos.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, info, quote } from '../support/verdict.js';

const CALL_TIMEOUT_MS = 3_000;

type Outcome = 'reply' | 'error reply' | 'dropped' | 'no answer';

function outcomeOf(error: unknown): Outcome {
  const name = error instanceof Error ? error.name : '';
  if (name === 'ServiceError') return 'error reply';
  if (name === 'DeadlineExceededError') return 'no answer';
  return 'dropped';
}

export const hostileHandlers: Scenario = {
  name: 'hostile-handlers',
  run: ({ quick }) =>
    underAttack({ name: 'hostile-handlers', server: { options: {} } }, async ({ address, stop }) => {
      const rounds = quick ? 3 : 20;
      const concurrency = quick ? 2 : 5;
      const codecs = [
        { name: 'json', serializeType: phobos.SerializeType.JSON },
        { name: 'msgpack', serializeType: phobos.SerializeType.MsgPack },
      ];
      const clients = codecs.map(
        (codec) =>
          new phobos.Client(address, { serializeType: codec.serializeType, timeoutMs: CALL_TIMEOUT_MS }),
      );
      const counts: Record<Outcome, number> = { reply: 0, 'error reply': 0, dropped: 0, 'no answer': 0 };
      const bad = new Map<string, string>();
      let roundsRun = 0;
      try {
        for (let round = 0; round < rounds && !stop.aborted; round += 1) {
          roundsRun += 1;
          await Promise.all(
            clients.flatMap((client, c) =>
              HOSTILE_METHODS.flatMap((method) =>
                Array.from({ length: concurrency }, async (_, n) => {
                  let outcome: Outcome = 'reply';
                  try {
                    await client.call('Hostile', method, { round, n });
                  } catch (error) {
                    outcome = outcomeOf(error);
                    const key = `${method}/${codecs[c]?.name}`;
                    if ((outcome === 'dropped' || outcome === 'no answer') && !bad.has(key)) {
                      bad.set(key, `${outcome}: ${error instanceof Error ? error.message : String(error)}`);
                    }
                  }
                  counts[outcome] += 1;
                }),
              ),
            ),
          );
        }
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
      const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
      const failures = [...bad.entries()];
      return [
        info(
          `${total} calls (${HOSTILE_METHODS.length} methods x ${codecs.length} codecs x ${concurrency} at once x ${roundsRun} of ${rounds} rounds)`,
        ),
        check(
          counts.dropped === 0 && counts['no answer'] === 0,
          `${counts.reply} replies, ${counts['error reply']} error replies, ${counts.dropped} dropped, ${counts['no answer']} unanswered` +
            (failures.length
              ? ` (first: ${failures
                  .slice(0, 3)
                  .map(([key, why]) => `${key} ${quote(why, 70)}`)
                  .join(', ')})`
              : ''),
        ),
      ];
    }),
};

await runIfMain(hostileHandlers, import.meta.url);
