// conn-flood: connections opened and closed as fast as one core allows (thousands a second),
// from an attacker in its own process: some carry a valid call and wait for its reply, some
// send half a header, some reset at once, some close gracefully. Expects every valid call
// answered, the server alive, the good client unaffected and the server's fds back to start.
import { runAttackerChild } from '../support/attacker-child.js';
import type { ConnFloodConfig, ConnFloodResult } from '../support/conn-flood-main.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, info, seconds } from '../support/verdict.js';

export const connFlood: Scenario = {
  name: 'conn-flood',
  run: ({ quick }) =>
    underAttack({ name: 'conn-flood', server: { options: {} } }, async ({ address }) => {
      const config: ConnFloodConfig = { address, durationMs: quick ? 5_000 : 20_000, lanes: 32 };
      const result = await runAttackerChild<ConnFloodResult>(
        new URL('../support/conn-flood-main.ts', import.meta.url),
        config,
        config.durationMs + 30_000,
      );
      const perSecond = Math.round(result.connections / (result.elapsedMs / 1_000));
      return [
        info(
          `${result.connections} conns in ${seconds(result.elapsedMs)} (${perSecond}/s, ${config.lanes} at a time)` +
            `${result.dialFailures ? `, ${result.dialFailures} dials failed` : ''}`,
        ),
        check(
          result.callsAnswered === result.callsSent,
          `${result.callsAnswered} of ${result.callsSent} valid calls answered`,
        ),
      ];
    }),
};

await runIfMain(connFlood, import.meta.url);
