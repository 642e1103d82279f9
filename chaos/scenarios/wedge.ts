// wedge: with maxConcurrentRequests 50, one connection starts 50 Slow.Wait calls that never end
// on their own (no deadline) and pipelines 200 more behind them, each padded to 64 KiB (more
// than a socket buffers), then closes its side (FIN). A server that stops reading at its limit
// never sees that FIN, queued behind the bytes it does not read: it must keep reading. Expects all 50 handlers aborted
// (their ctx.signal) within 2 s of the FIN, no queued call started after it, the connection
// closed (the server's count back to the good client's one), and the shared checks.
import { closedWithin, connectAttacker, destroyAll, send } from '../support/attackers.js';
import { call, errorOf, frameReader } from '../support/frames.js';
import { runIfMain, type Scenario, underAttack } from '../support/scenario.js';
import { check, duration, info } from '../support/verdict.js';

const MAX_CONCURRENT = 50;
const PIPELINED = 200;
const WITHIN_MS = 2_000;

export const wedge: Scenario = {
  name: 'wedge',
  run: () =>
    underAttack(
      { name: 'wedge', server: { options: { maxConcurrentRequests: MAX_CONCURRENT } } },
      async ({ address, sampler, idle, server }) => {
        let errorReplies = 0;
        const read = frameReader((message) => {
          if (errorOf(message) !== undefined) errorReplies += 1;
        });
        const attacker = await connectAttacker(address, { onData: (chunk) => read(chunk) });
        const pad = 'x'.repeat(64 * 1024);
        const calls = Array.from({ length: MAX_CONCURRENT + PIPELINED }, (_, i) =>
          call('Slow', 'Wait', { ms: 3_600_000, ...(i < MAX_CONCURRENT ? {} : { pad }) }, BigInt(i + 1)),
        );
        void send(attacker, Buffer.concat(calls));
        const running = await sampler.waitFor(
          (s) => s.slowStarted - idle.slowStarted >= MAX_CONCURRENT,
          5_000,
        );
        attacker.socket.end();
        const finAt = performance.now();
        const abortedAt = await sampler.waitFor(
          (s) => s.slowAborted - idle.slowAborted >= MAX_CONCURRENT && s.connections <= 1,
          WITHIN_MS,
        );
        // The server's close reaches an attacker that reads: wait for it as long as the aborts.
        const closedByServer = await closedWithin(attacker, abortedAt === undefined ? 0 : WITHIN_MS);
        const stats = await server.stats().catch(() => undefined);
        await destroyAll([attacker]);
        const started = (stats?.slowStarted ?? 0) - idle.slowStarted;
        const aborted = (stats?.slowAborted ?? 0) - idle.slowAborted;
        return [
          info(
            `${MAX_CONCURRENT} Slow.Wait calls without a deadline + ${PIPELINED} pipelined (64 KiB each) on one conn, ` +
              `${running === undefined ? 'the first 50 never all started' : `${MAX_CONCURRENT} running`}; then a FIN behind them; ` +
              `${errorReplies} error replies (server busy)`,
          ),
          check(
            abortedAt !== undefined,
            abortedAt !== undefined
              ? `all ${MAX_CONCURRENT} handlers aborted and the conn gone ${duration(abortedAt - finAt)} after the FIN (limit ${duration(WITHIN_MS)})`
              : `${duration(WITHIN_MS)} after the FIN: ${aborted} of ${MAX_CONCURRENT} handlers aborted, server connections ${stats?.connections ?? 'n/a'} (good client's 1)`,
          ),
          check(started === MAX_CONCURRENT, `handlers started in all: ${started} (limit ${MAX_CONCURRENT})`),
          check(
            closedByServer,
            `the attacker saw the server close its side: ${closedByServer ? 'yes' : 'no'}`,
          ),
        ];
      },
    ),
};

await runIfMain(wedge, import.meta.url);
