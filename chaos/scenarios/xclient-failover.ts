// xclient-failover: three server children from dist, an XClient from dist over them
// (failMode failover, roundRobin, 3 retries, heartbeat every 500 ms with 2 misses allowed, a
// 3 s deadline per call), 50 callers in a loop each sending a unique id and checking that the
// reply echoes its own. Meanwhile server A is SIGKILLed and restarted on the same port, and
// server B is SIGSTOPped for 5 s (quick: 3 s) then SIGCONTed. Expects every call to settle
// (started = succeeded + failed; a call still pending 2 s past its deadline counts as hung),
// no reply given to the wrong call, and no failed call: failover should retry every failure.
import { setTimeout as delay } from 'node:timers/promises';
import { phobos } from '../support/phobos.js';
import { runIfMain, type Scenario } from '../support/scenario.js';
import { type ServerChild, startServer } from '../support/server-child.js';
import { broken, check, duration, info, quote, seconds, type Verdict, verdict } from '../support/verdict.js';

const CALLERS = 50;
const CALL_DEADLINE_MS = 3_000;
const HUNG_AFTER_MS = CALL_DEADLINE_MS + 2_000;

export const xclientFailover: Scenario = {
  name: 'xclient-failover',
  async run({ quick }): Promise<Verdict> {
    const name = 'xclient-failover';
    const runMs = quick ? 8_000 : 20_000;
    const stopMs = quick ? 3_000 : 5_000;
    const servers: ServerChild[] = await Promise.all([0, 1, 2].map(() => startServer({ options: {} })));
    const [a, b] = servers as [ServerChild, ServerChild, ServerChild];
    let restarted: ServerChild | undefined;
    let bStopped = false;
    const client = new phobos.XClient('Echo', {
      discovery: phobos.multipleServersDiscovery(servers.map((server) => ({ address: server.address }))),
      failMode: 'failover',
      selectMode: 'roundRobin',
      retries: 3,
      timeoutMs: CALL_DEADLINE_MS,
      heartbeat: { intervalMs: 500, maxMisses: 2 },
      serializeType: phobos.SerializeType.JSON,
    });
    const counts = { started: 0, ok: 0, failed: 0, wrong: 0, hung: 0 };
    const errors = new Map<string, number>();
    let maxMs = 0;
    const events: string[] = [];
    try {
      const start = performance.now();
      const end = start + runMs;
      const at = (): string => seconds(performance.now() - start);

      const caller = async (id: number): Promise<void> => {
        for (let n = 0; performance.now() < end; n += 1) {
          const tag = `${id}-${n}`;
          counts.started += 1;
          const began = performance.now();
          let timer: NodeJS.Timeout | undefined;
          const hung = new Promise<'hung'>((resolve) => {
            timer = setTimeout(() => resolve('hung'), HUNG_AFTER_MS);
          });
          const outcome = await Promise.race([
            client.call<{ tag: string }>('Say', { tag }).then(
              (reply) => (reply?.tag === tag ? 'ok' : 'wrong'),
              (error: unknown) => {
                const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
                errors.set(message, (errors.get(message) ?? 0) + 1);
                return 'failed' as const;
              },
            ),
            hung,
          ]);
          clearTimeout(timer);
          counts[outcome] += 1;
          maxMs = Math.max(maxMs, performance.now() - began);
        }
      };

      const killAndRestart = async (): Promise<void> => {
        await delay(runMs * 0.2);
        events.push(`A SIGKILLed at ${at()}`);
        a.process.kill('SIGKILL');
        await a.exited;
        restarted = await startServer({ options: {}, address: a.address });
        events.push(`A back on the same port at ${at()}`);
      };
      const stopAndContinue = async (): Promise<void> => {
        await delay(runMs * 0.4);
        b.process.kill('SIGSTOP');
        bStopped = true;
        events.push(`B SIGSTOPped at ${at()} for ${seconds(stopMs)}`);
        await delay(stopMs);
        b.process.kill('SIGCONT');
        bStopped = false;
      };

      await Promise.all([
        killAndRestart(),
        stopAndContinue(),
        ...Array.from({ length: CALLERS }, (_, id) => caller(id)),
      ]);
      const settled = counts.ok + counts.failed + counts.wrong;
      const alive = [restarted, ...servers.slice(1)].every((server) => server !== undefined && !server.ended);
      const servedAfterRestart = (await restarted?.stats().catch(() => undefined))?.handlerRuns ?? 0;
      const topErrors = [...errors.entries()].sort((x, y) => y[1] - x[1]).slice(0, 2);
      return verdict(name, [
        info(`${CALLERS} callers for ${seconds(runMs)}; ${events.join(', ')}`),
        check(
          settled === counts.started && counts.hung === 0,
          `${counts.started} calls started, ${settled} settled (${counts.ok} ok, ${counts.failed} failed), ${counts.hung} hung`,
        ),
        check(counts.wrong === 0, `${counts.wrong} replies to the wrong call`),
        check(
          counts.failed === 0,
          `${counts.failed} calls lost${topErrors.length ? ` (${topErrors.map(([m, n]) => `${n}x ${quote(m, 90)}`).join(', ')})` : ''}`,
        ),
        check(alive, alive ? 'restarted A, B and C alive at the end' : 'a server died'),
        info(
          `A served ${servedAfterRestart} calls after its restart; slowest call ${duration(maxMs)} (deadline ${duration(CALL_DEADLINE_MS)})`,
        ),
      ]);
    } catch (error) {
      return broken(name, error);
    } finally {
      await client.close();
      if (bStopped) b.process.kill('SIGCONT');
      await Promise.all([...servers, ...(restarted ? [restarted] : [])].map((server) => server.stop()));
    }
  },
};

await runIfMain(xclientFailover, import.meta.url);
