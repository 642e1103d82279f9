// push-no-read: a client calls Push.Flood (many 16 KiB server pushes, each ctx.push checked)
// and never reads. Expects ctx.push to return false once the connection's push queue is full
// (maxPushQueueBytes, default 1 MiB; the service counts the falses), RSS bounded, and the
// connection closed within frameTimeoutMs (+ 1 s + 20%) of the call, the pushes stalling from
// the first ones on. The client writes a tiny heartbeat every 200 ms: a connection the server
// closed answers it with a reset, which is how a socket that never reads sees the close.
import {
  connectAttacker,
  deadlineSignal,
  destroyAll,
  longestUntilClose,
  send,
  withSlack,
} from '../support/attackers.js';
import { call, heartbeat } from '../support/frames.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, info, seconds } from '../support/verdict.js';

const FRAME_TIMEOUT_MS = 2_000;
const PUSH_BYTES = 16 * 1024;
const PROBE_EVERY_MS = 200;

export const pushNoRead: Scenario = {
  name: 'push-no-read',
  run: ({ quick }) =>
    underAttack(
      { name: 'push-no-read', server: { options: { frameTimeoutMs: FRAME_TIMEOUT_MS } } },
      async ({ address, stop, server, idle }) => {
        const clients = quick ? 1 : 3;
        const count = quick ? 30_000 : 100_000;
        const limitMs = withSlack(FRAME_TIMEOUT_MS);
        const attackers = await Promise.all(
          Array.from({ length: clients }, () => connectAttacker(address, { read: false })),
        );
        await Promise.all(
          attackers.map(async (attacker, i) => {
            await send(attacker, call('Push', 'Flood', { count, bytes: PUSH_BYTES }, BigInt(i + 1)));
            const deadline = deadlineSignal(limitMs, stop);
            const probe = heartbeat(0, 2n);
            const probing = setInterval(() => attacker.socket.write(probe), PROBE_EVERY_MS);
            await Promise.race([
              attacker.closed,
              new Promise((resolve) => deadline.signal.addEventListener('abort', resolve, { once: true })),
            ]);
            clearInterval(probing);
            deadline.clear();
          }),
        );
        const open = attackers.filter((a) => a.closedAt === undefined);
        const longest = longestUntilClose(attackers, (a) => a.firstByteAt);
        await destroyAll(attackers);
        const stats = await server.stats().catch(() => undefined);
        const accepted = (stats?.pushesAccepted ?? 0) - idle.pushesAccepted;
        const refused = (stats?.pushesRefused ?? 0) - idle.pushesRefused;
        return [
          info(`${clients} conn(s) called Push.Flood (${count} pushes of 16 KiB each) and never read`),
          check(
            refused > 0,
            `ctx.push returned false ${refused} times, true ${accepted} times, while the connection was open`,
          ),
          check(
            open.length === 0,
            open.length === 0
              ? `all closed by the server <= ${seconds(longest)} after the call (frameTimeoutMs ${FRAME_TIMEOUT_MS}, limit ${seconds(limitMs)})`
              : `${open.length} of ${clients} still open ${stop.aborted ? 'when the attack was cut short' : `${seconds(limitMs)} after the call`} (frameTimeoutMs ${FRAME_TIMEOUT_MS})`,
          ),
        ];
      },
    ),
};

await runIfMain(pushNoRead, import.meta.url);
