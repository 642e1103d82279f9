// partial-frames: many connections each send all but the last byte of a 5 MiB frame (a valid
// Echo.Say call) and stall, far more in total than maxBufferedBytes (default 128 MiB) lets the
// server hold. Expects the server's RSS to stay near that budget (growth <= 128 + 64 MiB, and
// the shared 512 MiB limit), and every connection closed within frameTimeoutMs (+ 1 s + 20%) of
// its first byte (so of its last byte too).
import {
  connectMany,
  destroyAll,
  longestUntilClose,
  send,
  waitClosed,
  withSlack,
} from '../support/attackers.js';
import { frame } from '../support/frames.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, info, mib, seconds } from '../support/verdict.js';

const MiB = 1024 * 1024;
const FRAME_TIMEOUT_MS = 2_000;
const FRAME_BYTES = 5 * MiB;
const BUFFERED_BUDGET_BYTES = 128 * MiB;
const BUDGET_MARGIN_BYTES = 64 * MiB;

export const partialFrames: Scenario = {
  name: 'partial-frames',
  run: ({ quick }) =>
    underAttack(
      { name: 'partial-frames', server: { options: { frameTimeoutMs: FRAME_TIMEOUT_MS } } },
      async ({ address, stop, sampler, idle }) => {
        const count = quick ? 60 : 200;
        // One frame shared by every socket: the attacker holds 5 MiB, not count x 5 MiB.
        const whole = frame({ payload: Buffer.from(JSON.stringify('x'.repeat(FRAME_BYTES - 64))) });
        const partial = whole.subarray(0, whole.length - 1);
        const { attackers } = await connectMany(address, count, {
          signal: stop,
          each: (attacker) => void send(attacker, partial),
        });
        const limitMs = withSlack(FRAME_TIMEOUT_MS);
        const open = await waitClosed(attackers, (a) => (a.firstByteAt ?? a.connectedAt) + limitMs, stop);
        const longest = longestUntilClose(attackers, (a) => a.firstByteAt);
        const delivered = attackers.filter((a) => a.lastByteAt !== undefined).length;
        await destroyAll(attackers);
        const growth = sampler.peakRssBytes - idle.rssBytes;
        return [
          info(
            `${attackers.length} conns sent all but 1 byte of a ${mib(whole.length)} frame (${mib(partial.length * attackers.length)} in all), ` +
              `${delivered} got it all through`,
          ),
          check(
            open.length === 0 && attackers.length === count,
            open.length === 0
              ? `all closed <= ${seconds(longest)} after their first byte (frameTimeoutMs ${FRAME_TIMEOUT_MS}, limit ${seconds(limitMs)})`
              : `${open.length} of ${attackers.length} still open ${seconds(limitMs)} after their first byte (frameTimeoutMs ${FRAME_TIMEOUT_MS})`,
          ),
          check(
            growth <= BUFFERED_BUDGET_BYTES + BUDGET_MARGIN_BYTES,
            `RSS +${mib(growth)} vs maxBufferedBytes ${mib(BUFFERED_BUDGET_BYTES)} (+${mib(BUDGET_MARGIN_BYTES)} margin)`,
          ),
        ];
      },
    ),
};

await runIfMain(partialFrames, import.meta.url);
