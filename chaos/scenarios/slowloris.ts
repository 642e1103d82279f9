// slowloris: many connections each start a frame and never finish it. Half send half a frame
// header (8 of its 16 prefix bytes) and stall; the other half trickle the frame one byte every
// 500 ms, so a timer that restarts on every byte never fires. Expects each connection closed by
// the server within frameTimeoutMs (+ 1 s + 20%) of its first byte, and the shared checks.
import {
  connectMany,
  destroyAll,
  longestUntilClose,
  send,
  waitClosed,
  withSlack,
} from '../support/attackers.js';
import { prefix } from '../support/frames.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, info, seconds } from '../support/verdict.js';

const FRAME_TIMEOUT_MS = 2_000;
const TRICKLE_EVERY_MS = 500;

export const slowloris: Scenario = {
  name: 'slowloris',
  run: ({ quick }) =>
    underAttack(
      { name: 'slowloris', server: { options: { frameTimeoutMs: FRAME_TIMEOUT_MS } }, reportWarnings: true },
      async ({ address, stop }) => {
        const count = quick ? 300 : 2_000;
        // A frame that declares a 1 MiB body: trickled a byte at a time, it never completes.
        const header = prefix(1024 * 1024);
        const { attackers, failedDials } = await connectMany(address, count, {
          signal: stop,
          each: (attacker) => void send(attacker, header.subarray(0, 8)),
        });
        const stalled = attackers.filter((_, i) => i % 2 === 0);
        const trickling = attackers.filter((_, i) => i % 2 === 1);
        const sent = new Map(trickling.map((attacker) => [attacker, 8]));
        const trickle = setInterval(() => {
          for (const [attacker, offset] of sent) {
            if (attacker.closedAt !== undefined || offset >= header.length) continue;
            attacker.socket.write(header.subarray(offset, offset + 1));
            sent.set(attacker, offset + 1);
          }
        }, TRICKLE_EVERY_MS);
        const limitMs = withSlack(FRAME_TIMEOUT_MS);
        const open = await waitClosed(attackers, (a) => (a.firstByteAt ?? a.connectedAt) + limitMs, stop);
        clearInterval(trickle);
        const longest = longestUntilClose(attackers, (a) => a.firstByteAt);
        await destroyAll(attackers);
        return [
          info(
            `${attackers.length} conns started a frame (${stalled.length} sent half a header and stalled, ` +
              `${trickling.length} trickled a byte every ${TRICKLE_EVERY_MS} ms)${failedDials ? `, ${failedDials} dials failed` : ''}`,
          ),
          check(
            open.length === 0 && attackers.length > 0,
            open.length === 0
              ? `all closed <= ${seconds(longest)} after their first byte (frameTimeoutMs ${FRAME_TIMEOUT_MS}, limit ${seconds(limitMs)})`
              : `${open.length} of ${attackers.length} still open ${seconds(limitMs)} after their first byte ` +
                  `(frameTimeoutMs ${FRAME_TIMEOUT_MS}; ${open.filter((a) => stalled.includes(a)).length} stalled, ` +
                  `${open.filter((a) => sent.has(a)).length} trickling)`,
          ),
        ];
      },
    ),
};

await runIfMain(slowloris, import.meta.url);
