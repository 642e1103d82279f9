// auth: a server whose `authorize` accepts only the token 'secret', with a short authTimeoutMs,
// against four kinds of unauthenticated connections: heartbeats only (no token ever), cancel
// notices for seqs they do not own, a call with a wrong token and a call with no token (each
// followed by pipelined token-less calls). Expects no call ever to run without the token
// (counted by the server's Echo.Say), the heartbeat-only and cancel-only connections closed
// within authTimeoutMs (+ 1 s + 20%) of connecting, the refused callers answered with an error
// and closed within 1 s, and the good client (token 'secret') unaffected.
import {
  type Attacker,
  connectMany,
  destroyAll,
  longestUntilClose,
  send,
  waitClosed,
  withSlack,
} from '../support/attackers.js';
import { call, cancel, errorOf, frameReader, heartbeat } from '../support/frames.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { type Check, check, duration, seconds } from '../support/verdict.js';

const AUTH_TIMEOUT_MS = 2_000;
const REFUSED_WITHIN_MS = 1_000;
const EVERY_MS = 300;
const TOKEN = 'secret';

export const auth: Scenario = {
  name: 'auth',
  run: ({ quick }) =>
    underAttack(
      {
        name: 'auth',
        server: { options: { authTimeoutMs: AUTH_TIMEOUT_MS }, auth: TOKEN },
        goodClientAuth: TOKEN,
      },
      async ({ address, stop, server, idle }) => {
        const perGroup = quick ? 50 : 200;
        const errorReplies = new Set<Attacker>();
        const readers = new Map<Attacker, (chunk: Buffer) => void>();
        const onData = (chunk: Buffer, attacker: Attacker): void => {
          let read = readers.get(attacker);
          if (!read) {
            read = frameReader((message) => {
              if (errorOf(message) !== undefined) errorReplies.add(attacker);
            });
            readers.set(attacker, read);
          }
          read(chunk);
        };
        const open = (): Promise<Attacker[]> =>
          connectMany(address, perGroup, { signal: stop, onData }).then((r) => r.attackers);
        const [heartbeaters, cancellers, wrongToken, noToken] = await Promise.all([
          open(),
          open(),
          open(),
          open(),
        ]);

        // Token-less calls pipelined behind the first: none of them may run either.
        const pipelined = Array.from({ length: 10 }, (_, i) =>
          call('Echo', 'Say', { pipelined: i }, BigInt(i + 2)),
        );
        const wrongCall = Buffer.concat([
          call('Echo', 'Say', { wrong: true }, 1n, new Map([['__AUTH', 'wrong']])),
          ...pipelined,
        ]);
        const bareCall = Buffer.concat([call('Echo', 'Say', { bare: true }, 1n), ...pipelined]);
        for (const attacker of wrongToken) void send(attacker, wrongCall);
        for (const attacker of noToken) void send(attacker, bareCall);
        let tick = 0;
        const keepTalking = (): void => {
          tick += 1;
          for (const attacker of heartbeaters)
            if (!attacker.closedAt) void send(attacker, heartbeat(8, BigInt(tick)));
          for (const attacker of cancellers) {
            // Seqs a client of this server is likely to use (1, 2, 3...) and arbitrary ones.
            if (!attacker.closedAt)
              void send(attacker, Buffer.concat([cancel(BigInt(tick)), cancel(2n ** 63n + BigInt(tick))]));
          }
        };
        keepTalking();
        const talking = setInterval(keepTalking, EVERY_MS);

        const limitMs = withSlack(AUTH_TIMEOUT_MS);
        const silent = new Set([...heartbeaters, ...cancellers]);
        const all = [...heartbeaters, ...cancellers, ...wrongToken, ...noToken];
        await waitClosed(
          all,
          (a) =>
            silent.has(a) ? a.connectedAt + limitMs : (a.lastByteAt ?? a.connectedAt) + REFUSED_WITHIN_MS,
          stop,
        );
        clearInterval(talking);
        const stats = await server.stats().catch(() => undefined);

        const unauthenticated = (label: string, group: readonly Attacker[]): Check => {
          const stillOpen = group.filter((a) => a.closedAt === undefined).length;
          return check(
            stillOpen === 0 && group.length === perGroup,
            stillOpen === 0
              ? `${group.length} ${label} all closed <= ${seconds(longestUntilClose(group, (a) => a.connectedAt))} after connecting (authTimeoutMs ${AUTH_TIMEOUT_MS}, limit ${seconds(limitMs)})`
              : `${stillOpen} of ${group.length} ${label} still open ${seconds(limitMs)} after connecting (authTimeoutMs ${AUTH_TIMEOUT_MS})`,
          );
        };
        const refused = (label: string, group: readonly Attacker[]): Check => {
          const answered = group.filter((a) => errorReplies.has(a)).length;
          const stillOpen = group.filter((a) => a.closedAt === undefined).length;
          return check(
            answered === group.length && stillOpen === 0 && group.length === perGroup,
            `${group.length} ${label}: ${answered} got an error reply, ` +
              (stillOpen === 0
                ? `all closed <= ${duration(longestUntilClose(group, (a) => a.lastByteAt))} after the call`
                : `${stillOpen} still open ${duration(REFUSED_WITHIN_MS)} after the call`),
          );
        };
        const ranUnauthorized =
          stats === undefined ? undefined : stats.unauthorizedRuns - idle.unauthorizedRuns;
        // Judged before the attackers are destroyed: their own close must not count as the server's.
        const checks = [
          check(
            ranUnauthorized === 0,
            `calls run without the token: ${ranUnauthorized ?? 'unknown (server gone)'}`,
          ),
          unauthenticated('heartbeat-only conns', heartbeaters),
          unauthenticated('cancel-only conns (seqs not theirs)', cancellers),
          refused('calls with a wrong token (+10 pipelined)', wrongToken),
          refused('calls with no token (+10 pipelined)', noToken),
        ];
        await destroyAll(all);
        return checks;
      },
    ),
};

await runIfMain(auth, import.meta.url);
