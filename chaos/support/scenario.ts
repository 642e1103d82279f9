// The frame every server scenario runs in: start a fresh server child, take its idle figures,
// sample it, start the good client, run the attack, stop the good client, let the server settle,
// take its figures again, and judge. The attack returns its own checks; the frame adds the
// ones every scenario shares (server alive, good client, RSS, fds, heap).
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { connectAttacker, destroyAll, send } from './attackers.js';
import { call, frameReader, heartbeat } from './frames.js';
import { forkGoodClient } from './good-client.js';
import type { GoodClientResult, ServerConfig, ServerStats } from './messages.js';
import { type Sampler, sampleServer } from './sampler.js';
import { type ServerChild, startServer } from './server-child.js';
import { broken, type Check, check, info, mib, quote, type Verdict, verdict } from './verdict.js';

const MiB = 1024 * 1024;
/** How far above its idle RSS the server may go. */
export const RSS_LIMIT_BYTES = 512 * MiB;
/** How far above its idle live heap the server may end, after a GC. */
export const HEAP_TOLERANCE_BYTES = 4 * MiB;
/** The good client's slowest call must stay below this. */
export const GOOD_CLIENT_MAX_MS = 1_000;

/** How a scenario is run. */
export interface ScenarioOptions {
  /** The bounded short form (CI). */
  readonly quick: boolean;
}

/** A scenario: one file in chaos/scenarios/. */
export interface Scenario {
  readonly name: string;
  run(options: ScenarioOptions): Promise<Verdict>;
}

/** What an attack gets. */
export interface AttackEnv {
  readonly address: string;
  readonly server: ServerChild;
  readonly sampler: Sampler;
  /** The server's figures before the attack (after a GC). */
  readonly idle: ServerStats;
  /** Aborts when the server's RSS passes the limit or it exits: stop attacking then. */
  readonly stop: AbortSignal;
}

/** The setup of {@link underAttack}. */
export interface AttackSetup {
  readonly name: string;
  readonly server: ServerConfig;
  /** The good client's auth token (for a server with `auth`). */
  readonly goodClientAuth?: string;
  /** Add "warnings logged N" to the verdict. */
  readonly reportWarnings?: boolean;
}

/**
 * Runs one attack against a fresh server child and returns its verdict. Everything it started
 * is stopped before it returns, whether the attack passed, failed or threw.
 */
export async function underAttack(
  setup: AttackSetup,
  attack: (env: AttackEnv) => Promise<Check[]>,
): Promise<Verdict> {
  const trace = tracer(setup.name);
  const good = forkGoodClient();
  let goodResult: GoodClientResult | undefined;
  let server: ServerChild;
  try {
    server = await startServer(setup.server);
  } catch (error) {
    await good.stop();
    return broken(setup.name, error);
  }
  try {
    trace('server listening');
    await warmUp(server.address, setup.server.auth);
    const idle = await settle(server);
    if (!idle) return broken(setup.name, new Error(`server ${server.ended} before the attack`));
    trace('idle figures taken');
    const sampler = sampleServer(server, { idleRssBytes: idle.rssBytes, rssLimitBytes: RSS_LIMIT_BYTES });
    await good.start({
      address: server.address,
      ...(setup.goodClientAuth === undefined ? {} : { auth: setup.goodClientAuth }),
    });
    trace('good client connected; attacking');
    let attackChecks: Check[] = [];
    let attackError: unknown;
    try {
      attackChecks = await attack({
        address: server.address,
        server,
        sampler,
        idle,
        stop: sampler.overLimit,
      });
    } catch (error) {
      attackError = error;
    }
    trace('attack over');
    goodResult = await good.stop();
    await sampler.stop();
    trace('good client stopped');
    const end = await settle(server);
    trace('settled');
    const checks = [
      ...attackChecks,
      ...(attackError === undefined ? [] : [check(false, `attack broke: ${errorText(attackError)}`)]),
      ...sharedChecks(server, idle, end, sampler, goodResult),
      ...(setup.reportWarnings
        ? [info(`warnings logged ${(end ?? sampler.last ?? idle).warnings - idle.warnings}`)]
        : []),
    ];
    return verdict(setup.name, checks);
  } catch (error) {
    return broken(setup.name, error);
  } finally {
    if (!goodResult) await good.stop();
    await server.stop();
  }
}

/** Alive, good client, RSS, fds and heap. */
function sharedChecks(
  server: ServerChild,
  idle: ServerStats,
  end: ServerStats | undefined,
  sampler: Sampler,
  good: GoodClientResult,
): Check[] {
  const rssGrowth = sampler.peakRssBytes - idle.rssBytes;
  const goodText =
    `good client ${good.calls} calls, ${good.failed} failed, max ${Math.round(good.maxMs)} ms, ` +
    `p99 ${Math.round(good.p99Ms)} ms${good.errors[0] ? ` (${quote(good.errors[0], 100)})` : ''}`;
  return [
    check(
      server.ended === undefined && end !== undefined,
      server.ended !== undefined
        ? `server DIED (${server.ended})`
        : end === undefined
          ? 'server alive but STUCK (it answers no stats: its event loop is blocked)'
          : 'server alive',
    ),
    check(good.calls > 0 && good.failed === 0 && good.maxMs < GOOD_CLIENT_MAX_MS, goodText),
    check(
      rssGrowth <= RSS_LIMIT_BYTES,
      `RSS +${mib(rssGrowth)} peak (limit ${RSS_LIMIT_BYTES / MiB})${sampler.overLimit.aborted && !server.ended ? `, attack cut short: ${errorText(sampler.overLimit.reason)}` : ''}`,
    ),
    check(end !== undefined && end.fds === idle.fds, `fds ${idle.fds} -> ${end?.fds ?? 'n/a'}`),
    check(
      end !== undefined && end.heapBytes - idle.heapBytes <= HEAP_TOLERANCE_BYTES,
      `heap ${mib(idle.heapBytes)} -> ${end ? mib(end.heapBytes) : 'n/a'} (tolerance +${HEAP_TOLERANCE_BYTES / MiB})`,
    ),
  ];
}

/**
 * Waits (up to 5 s) until the server holds no connection, then returns its figures after a GC;
 * undefined when the server is gone.
 */
export async function settle(server: ServerChild): Promise<ServerStats | undefined> {
  try {
    for (let waited = 0; waited < 5_000; waited += 100) {
      if ((await server.stats()).connections === 0) break;
      await delay(100);
    }
    return await server.stats({ gc: true });
  } catch {
    return undefined;
  }
}

/**
 * One call and one heartbeat over a raw socket, so the code paths every attack takes are
 * compiled before the idle heap is measured.
 */
async function warmUp(address: string, auth: string | undefined): Promise<void> {
  let replies = 0;
  let gotBoth = (): void => {};
  const both = new Promise<void>((done) => {
    gotBoth = done;
  });
  const read = frameReader(() => {
    replies += 1;
    if (replies === 2) gotBoth();
  });
  const attacker = await connectAttacker(address, { onData: (chunk) => read(chunk) });
  const metadata = new Map(auth === undefined ? [] : [['__AUTH', auth]]);
  await send(attacker, Buffer.concat([call('Echo', 'Say', { warm: true }, 1n, metadata), heartbeat(16, 2n)]));
  await Promise.race([both, attacker.closed, delay(5_000)]);
  await destroyAll([attacker]);
}

/** Runs a scenario, turning a throw into a FAIL verdict. */
export async function runScenario(scenario: Scenario, options: ScenarioOptions): Promise<Verdict> {
  try {
    return await scenario.run(options);
  } catch (error) {
    return broken(scenario.name, error);
  }
}

/**
 * When the file at `url` is the script node was started with, runs the scenario (`--quick` for
 * the short form), prints its verdict and sets the exit code.
 *
 * @example
 * ```ts
 * await runIfMain(scenario, import.meta.url);
 * ```
 */
export async function runIfMain(scenario: Scenario, url: string): Promise<void> {
  if (resolve(process.argv[1] ?? '') !== fileURLToPath(url)) return;
  const result = await runScenario(scenario, { quick: process.argv.includes('--quick') });
  console.log(result.line);
  process.exitCode = result.ok ? 0 : 1;
}

/** With CHAOS_TRACE=1, each step of a scenario goes to stderr with its time: where a run stalls. */
function tracer(name: string): (step: string) => void {
  if (!process.env.CHAOS_TRACE) return () => {};
  const start = performance.now();
  return (step) => process.stderr.write(`[${name} +${Math.round(performance.now() - start)} ms] ${step}\n`);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
