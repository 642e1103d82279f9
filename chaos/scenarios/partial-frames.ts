// partial-frames: many connections each send all but the last byte of a 5 MiB frame (a valid
// Echo.Say call) and stall, far more in total than maxBufferedBytes (default 128 MiB) lets the
// server hold. Expects the server's RSS to stay near that budget (growth <= 2 x 128 MiB, and
// the shared 512 MiB limit), and every connection closed within frameTimeoutMs (+ 1 s + 20%) of
// its last byte leaving (the kernel takes it once the server has read most of the frame).
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
/**
 * RSS may pass the budget by the buffers of connections already closed that wait for a GC; it
 * must stay within twice the budget, well under what the attack sends (500 MiB quick, 1,000 MiB).
 */
const BUDGET_MARGIN_BYTES = BUFFERED_BUDGET_BYTES;

export const partialFrames: Scenario = {
  name: 'partial-frames',
  run: ({ quick }) =>
    underAttack(
      { name: 'partial-frames', server: { options: { frameTimeoutMs: FRAME_TIMEOUT_MS } } },
      async ({ address, stop, sampler, idle }) => {
        const count = quick ? 100 : 200;
        // One frame shared by every socket: the attacker holds 5 MiB, not count x 5 MiB.
        const whole = frame({ payload: Buffer.from(JSON.stringify('x'.repeat(FRAME_BYTES - 64))) });
        const partial = whole.subarray(0, whole.length - 1);
        const { attackers } = await connectMany(address, count, {
          signal: stop,
          each: (attacker) => void send(attacker, partial),
        });
        // Timed from the last byte the kernel took, once every socket closed (or a generous cap
        // passed): the attacker process queues 1,000 MiB, so a frame's bytes may leave long after
        // the write was asked for, and the server's clock starts when the frame starts arriving.
        const limitMs = withSlack(FRAME_TIMEOUT_MS);
        await waitClosed(attackers, () => performance.now() + 10 * limitMs, stop);
        const since = (a: (typeof attackers)[number]): number | undefined => a.lastByteAt ?? a.firstByteAt;
        const late = attackers.filter(
          (a) => a.closedAt === undefined || a.closedAt - (since(a) ?? 0) > limitMs,
        );
        const longest = longestUntilClose(attackers, since);
        const delivered = attackers.filter((a) => a.lastByteAt !== undefined).length;
        await destroyAll(attackers);
        const growth = sampler.peakRssBytes - idle.rssBytes;
        return [
          info(
            `${attackers.length} conns sent all but 1 byte of a ${mib(whole.length)} frame (${mib(partial.length * attackers.length)} in all), ` +
              `${delivered} got it all through`,
          ),
          check(
            late.length === 0 && attackers.length === count,
            late.length === 0
              ? `all closed <= ${seconds(longest)} after their last byte went (frameTimeoutMs ${FRAME_TIMEOUT_MS}, limit ${seconds(limitMs)})`
              : `${late.length} of ${attackers.length} not closed within ${seconds(limitMs)} of their last byte (frameTimeoutMs ${FRAME_TIMEOUT_MS}; longest ${seconds(longest)})`,
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
