// idle-flood: first, connections that send nothing at all; expects each closed within
// idleTimeoutMs (+ 1 s + 20%) of connecting. Then, with the good client connected first, twice
// maxConnections connections that stay busy (a heartbeat every 500 ms, so idleness does not close
// them); expects the excess closed at once (within 1 s of connecting), the rest kept, and the
// server's connection count never above maxConnections.
import { setTimeout as delay } from 'node:timers/promises';
import {
  type Attacker,
  connectMany,
  destroyAll,
  longestUntilClose,
  waitClosed,
  withSlack,
} from '../support/attackers.js';
import { heartbeat } from '../support/frames.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, duration, seconds } from '../support/verdict.js';

const IDLE_TIMEOUT_MS = 2_000;
const AT_ONCE_MS = 1_000;
const HEARTBEAT_EVERY_MS = 500;

export const idleFlood: Scenario = {
  name: 'idle-flood',
  run: ({ quick }) => {
    const maxConnections = quick ? 200 : 500;
    return underAttack(
      { name: 'idle-flood', server: { options: { idleTimeoutMs: IDLE_TIMEOUT_MS, maxConnections } } },
      async ({ address, stop, sampler }) => {
        // Phase 1: idle connections, below the connection limit.
        const idleCount = quick ? 150 : 400;
        const { attackers: idle } = await connectMany(address, idleCount, { signal: stop });
        const limitMs = withSlack(IDLE_TIMEOUT_MS);
        const idleOpen = await waitClosed(idle, (a) => a.connectedAt + limitMs, stop);
        const idleLongest = longestUntilClose(idle, (a) => a.connectedAt);
        await destroyAll(idle);
        // Only the good client is left, whatever the server did with the idle ones.
        await sampler.waitFor((stats) => stats.connections <= 1, 5_000);

        // Phase 2: busy connections, twice the limit, after the good client.
        const busyCount = maxConnections * 2;
        const ping = heartbeat(8);
        const busy: Attacker[] = [];
        const beat = setInterval(() => {
          for (const attacker of busy) if (attacker.closedAt === undefined) attacker.socket.write(ping);
        }, HEARTBEAT_EVERY_MS);
        const { failedDials } = await connectMany(address, busyCount, {
          signal: stop,
          concurrency: 16,
          each: (attacker) => {
            busy.push(attacker);
            attacker.socket.write(ping);
          },
        });
        // Watch them for as long as "at once" is allowed, past the last one opened.
        await delay(AT_ONCE_MS + 500, undefined, { signal: stop }).catch(() => undefined);
        clearInterval(beat);
        const closedAtOnce = busy.filter(
          (a) => a.closedAt !== undefined && a.closedAt - a.connectedAt <= AT_ONCE_MS,
        ).length;
        const kept = busy.filter((a) => a.closedAt === undefined).length;
        const closedLate = busy.length - closedAtOnce - kept;
        await destroyAll(busy);
        const allowed = maxConnections - 1;
        return [
          check(
            idleOpen.length === 0 && idle.length === idleCount,
            idleOpen.length === 0
              ? `${idle.length} idle conns all closed <= ${seconds(idleLongest)} after connecting (idleTimeoutMs ${IDLE_TIMEOUT_MS}, limit ${seconds(limitMs)})`
              : `${idleOpen.length} of ${idle.length} idle conns still open ${seconds(limitMs)} after connecting (idleTimeoutMs ${IDLE_TIMEOUT_MS})`,
          ),
          check(
            kept <= allowed && closedLate === 0 && kept + closedAtOnce + failedDials === busyCount,
            `maxConnections ${maxConnections}: ${busyCount} busy conns after the good client, ${kept} kept (limit ${allowed}), ` +
              `${closedAtOnce} closed within ${duration(AT_ONCE_MS)}${closedLate ? `, ${closedLate} closed later` : ''}` +
              `${failedDials ? `, ${failedDials} refused at dial` : ''}`,
          ),
          check(
            sampler.maxConnections <= maxConnections,
            `server connection count max ${sampler.maxConnections} (limit ${maxConnections})`,
          ),
        ];
      },
    );
  },
};

await runIfMain(idleFlood, import.meta.url);
