// inherited-methods: calls names a service object has but never meant to expose — EventEmitter's
// emit, on and removeAllListeners on a service class extending it, and Object.prototype's
// toString, constructor, __proto__ and hasOwnProperty on a plain one — many times each, with a
// Client from dist. Expects each an error reply "can not find method" that does not list the
// service's methods (listMethodsInErrors defaults to false), and the one own method,
// Emitter.Ping, to answer "pong".
import { phobos } from '../support/phobos.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { type Check, check, quote } from '../support/verdict.js';

const INHERITED = [
  ['Emitter', 'emit'],
  ['Emitter', 'on'],
  ['Emitter', 'removeAllListeners'],
  ['Echo', 'toString'],
  ['Echo', 'constructor'],
  ['Echo', '__proto__'],
  ['Echo', 'hasOwnProperty'],
] as const;

/** What came back for one name: the same every time, or the first of each kind. */
interface Answer {
  readonly refusedCleanly: number;
  readonly listed: number;
  readonly ran: number;
  readonly otherError: number;
  first: string | undefined;
}

export const inheritedMethods: Scenario = {
  name: 'inherited-methods',
  run: ({ quick }) =>
    underAttack({ name: 'inherited-methods', server: { options: {} } }, async ({ address }) => {
      const times = quick ? 10 : 50;
      const client = new phobos.Client(address, {
        serializeType: phobos.SerializeType.JSON,
        timeoutMs: 5_000,
      });
      try {
        const answers = await Promise.all(
          INHERITED.map(async ([service, method]) => {
            const answer = {
              refusedCleanly: 0,
              listed: 0,
              ran: 0,
              otherError: 0,
              first: undefined as string | undefined,
            };
            await Promise.all(
              Array.from({ length: times }, async () => {
                try {
                  const reply = await client.call(service, method, 'error');
                  answer.ran += 1;
                  answer.first ??= `ran, replied ${quote(JSON.stringify(reply) ?? 'undefined', 50)}`;
                } catch (error) {
                  const message = error instanceof Error ? error.message : String(error);
                  if (!message.includes('can not find method')) {
                    answer.otherError += 1;
                    answer.first ??= `ran, failed ${quote(message, 60)}`;
                  } else if (/methods:|Say|Ping/.test(message)) {
                    answer.listed += 1;
                    answer.first ??= `refused but lists the methods ${quote(message, 90)}`;
                  } else {
                    answer.refusedCleanly += 1;
                  }
                }
              }),
            );
            return { name: `${service}.${method}`, answer: answer as Answer };
          }),
        );
        let pong: string;
        try {
          pong = JSON.stringify(await client.call('Emitter', 'Ping', {}));
        } catch (error) {
          pong = `failed: ${error instanceof Error ? error.message : String(error)}`;
        }
        const clean = answers.filter(({ answer }) => answer.refusedCleanly === times);
        const checks: Check[] = [
          check(
            clean.length === INHERITED.length,
            `${INHERITED.length} inherited names x ${times} calls: ${clean.length} refused cleanly` +
              (clean.length < INHERITED.length
                ? ` (${answers
                    .filter(({ answer }) => answer.refusedCleanly !== times)
                    .map(({ name, answer }) => `${name} ${answer.first}`)
                    .join('; ')})`
                : ''),
          ),
          check(pong === '"pong"', `Emitter.Ping ${pong === '"pong"' ? 'answered "pong"' : pong}`),
        ];
        return checks;
      } finally {
        await client.close();
      }
    }),
};

await runIfMain(inheritedMethods, import.meta.url);
