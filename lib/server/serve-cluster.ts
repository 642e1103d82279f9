import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import type { SchedulerLike, Subscription } from 'rxjs';
import type { ServiceRegistry } from '../discovery/service-registry.js';
import { describeThrown } from '../errors/describe-thrown.js';
import { formatAddress, parseAddress, parseSocketAddress } from '../transport/address.js';
import type { Logger } from '../util/logger.js';
import {
  booleanOption,
  describeValue,
  durationOption,
  functionOption,
  integerOption,
  optionsObject,
  schedulerOption,
} from '../util/validate.js';
import { Server } from './server.js';
import { DEFAULT_SHUTDOWN_GRACE_MS, resolveServerOptions, type ServerOptions } from './server-options.js';

/**
 * How long {@link serveCluster} waits before it restarts a worker that exited on its own, in ms.
 *
 * @group Server
 */
export const DEFAULT_CLUSTER_RESTART_DELAY_MS = 1_000;

/**
 * How many workers {@link serveCluster} restarts in any minute, at most; past it a restart waits.
 *
 * @group Server
 */
export const DEFAULT_CLUSTER_MAX_RESTARTS_PER_MINUTE = 10;

/**
 * How long past the shutdown grace a worker may take to exit before the primary kills it, in ms:
 * time to close its connections and withdraw from registries.
 *
 * @group Server
 */
export const CLUSTER_EXIT_MARGIN_MS = 2_000;

/** The environment variables that tell a worker its slot and the address to listen on. */
const SLOT_ENV = 'PHOBOS_CLUSTER_SLOT';
const ADDRESS_ENV = 'PHOBOS_CLUSTER_ADDRESS';
const MINUTE_MS = 60_000;

/**
 * Options of {@link serveCluster}. The same options are read in the primary and in every worker
 * (the script runs in each), so they must not depend on which process reads them.
 *
 * @group Server
 */
export interface ServeClusterOptions {
  /**
   * Where every worker listens: `tcp@host:port` or `unix@/path`. With port 0 the primary picks a
   * free port once, and every worker (restarted ones too) listens on that one.
   */
  readonly address: string;
  /**
   * Registers the services (and interceptors) on a worker's server; called once in each worker,
   * before it listens. A throw or rejection makes the worker exit with code 1.
   */
  readonly setup: (server: Server) => void | Promise<void>;
  /** How many worker processes serve. Default `os.availableParallelism()`. */
  readonly workers?: number;
  /**
   * The options of each worker's {@link Server}. `registries` is refused here (every worker would
   * publish the same address): use {@link ServeClusterOptions.registries}.
   */
  readonly serverOptions?: ServerOptions;
  /**
   * Makes the registries that publish the services, called only in the first worker (and in the
   * worker that replaces it): one entry per address, whatever the number of workers. While that
   * worker restarts, the entry may lapse (a lease expiring) until its replacement publishes again.
   */
  readonly registries?: () => readonly ServiceRegistry[] | Promise<readonly ServiceRegistry[]>;
  /** The address to publish in registries instead of the bound one (listening on `0.0.0.0`). */
  readonly advertiseAddress?: string;
  /** How long to wait before restarting a worker that exited on its own, in ms. Default 1000. */
  readonly restartDelayMs?: number;
  /**
   * How many restarts any minute may see; past it the next restart waits until the oldest is a
   * minute old, so a crash loop does not spin. 0 never restarts. Default 10.
   */
  readonly maxRestartsPerMinute?: number;
  /**
   * How long calls in flight may finish when the cluster closes, in ms (each worker's
   * `server.shutdown({ graceMs })`). A worker still running {@link CLUSTER_EXIT_MARGIN_MS} later
   * is killed. Default 10 000.
   */
  readonly shutdownGraceMs?: number;
  /**
   * Close the cluster on SIGINT and SIGTERM: the primary tells the workers to shut down, and a
   * worker that gets the signal itself (Ctrl+C reaches the whole process group) shuts down too.
   * A second signal to the primary kills it at once. Default false.
   */
  readonly handleSignals?: boolean;
  /**
   * The primary's clock and timers: the restart delays, the restart budget's minute, and the kill
   * of a worker that outlives the shutdown grace. Default `asyncScheduler`.
   */
  readonly scheduler?: SchedulerLike;
}

/**
 * The primary's view of a cluster started by {@link serveCluster}.
 *
 * @group Server
 */
export interface ServerCluster {
  /**
   * The bound address, from the first worker that listens (with port 0, the port picked). Rejects
   * when a worker fails before any has listened (the failure's message says which and why; the
   * cluster is then closed), or when the cluster is closed before.
   */
  readonly address: Promise<string>;
  /**
   * Resolves once every worker slot has had a worker listening (a restarted worker counts for
   * its slot), so that connections are spread over all of them from then on; rejects as
   * {@link ServerCluster.address} does.
   */
  readonly ready: Promise<void>;
  /** How many worker processes are alive now, starting ones included. */
  workers(): number;
  /**
   * Shuts the cluster down: cancels pending restarts, tells each worker to shut its server down
   * with `shutdownGraceMs`, kills those still running {@link CLUSTER_EXIT_MARGIN_MS} later, and
   * resolves once every worker has exited. Calling it again returns the same promise.
   */
  close(): Promise<void>;
}

/** What a worker tells the primary, and what the primary tells a worker. */
type ClusterMessage =
  | { readonly phobosCluster: 'listening'; readonly address: string }
  | { readonly phobosCluster: 'failed'; readonly message: string }
  | { readonly phobosCluster: 'shutdown'; readonly graceMs: number };

interface ResolvedClusterOptions {
  readonly address: string;
  readonly setup: (server: Server) => void | Promise<void>;
  readonly workers: number;
  readonly serverOptions: ServerOptions;
  readonly registries: ServeClusterOptions['registries'];
  readonly advertiseAddress: string | undefined;
  readonly restartDelayMs: number;
  readonly maxRestartsPerMinute: number;
  readonly shutdownGraceMs: number;
  readonly handleSignals: boolean;
  readonly scheduler: SchedulerLike;
  readonly logger: Logger;
}

/**
 * Serves on every core: the primary process forks `workers` processes with `node:cluster`; each
 * builds its own {@link Server} with `serverOptions`, lets `setup` register the services and
 * listens on the same address (cluster shares the listening socket; on Linux the primary hands
 * connections to the workers in turn). A worker that exits on its own is restarted after
 * `restartDelayMs`, at most `maxRestartsPerMinute` times a minute.
 *
 * Cluster runs the same script again in each worker, so call it at the top level of the script
 * that starts the server: in the primary it forks the workers and returns a {@link ServerCluster};
 * in a worker it serves and returns `undefined`. Code outside the call runs in every process, so
 * print or watch from the primary only (when the result is defined). A worker exits once its
 * server has shut down.
 *
 * @returns in the primary, the cluster; in a worker, `undefined`.
 * @throws TypeError when `options` is not an object, `setup` is not a function or `address` not
 *   a string; RangeError naming the option for a malformed address, `workers` not an integer in
 *   1..1024, a bad duration or count, bad `serverOptions` (as {@link Server} would refuse them),
 *   or `serverOptions.registries` given; Error in a cluster worker not forked by serveCluster.
 *   A failure to bind or a `setup` that throws rejects {@link ServerCluster.address}.
 * @example
 * ```ts
 * // server.ts, run with `node server.ts`: one worker per core, all on port 8972.
 * const cluster = serveCluster({
 *   address: 'tcp@0.0.0.0:8972',
 *   setup: (server) => { server.register('HelloWorld', new HelloWorld()); },
 *   registries: () => [new EtcdRegistry({ endpoints: ['http://127.0.0.1:2379'] })],
 *   advertiseAddress: 'tcp@10.0.0.5:8972',
 *   handleSignals: true,
 * });
 * if (cluster) {
 *   const address = await cluster.address;
 *   await cluster.ready;
 *   console.log(`serving on ${address} with ${cluster.workers()} workers`);
 * }
 * ```
 * @group Server
 */
export function serveCluster(options: ServeClusterOptions): ServerCluster | undefined {
  const resolved = resolveClusterOptions(options);
  if (cluster.isPrimary) return startPrimary(resolved);
  const slot = process.env[SLOT_ENV];
  const address = process.env[ADDRESS_ENV];
  if (slot === undefined || address === undefined) {
    throw new Error('serveCluster was called in a cluster worker that serveCluster did not fork');
  }
  void runWorker(resolved, Number(slot), address);
  return undefined;
}

function resolveClusterOptions(options: ServeClusterOptions): ResolvedClusterOptions {
  const o = optionsObject('serveCluster options', options);
  if (typeof o.address !== 'string')
    throw new TypeError(`address must be a string, got ${describeValue(o.address)}`);
  parseSocketAddress(o.address);
  if (typeof o.setup !== 'function')
    throw new TypeError(`setup must be a function, got ${describeValue(o.setup)}`);
  if (o.advertiseAddress !== undefined) parseAddress(o.advertiseAddress);
  const serverOptions = optionsObject('serverOptions', o.serverOptions);
  if (serverOptions.registries !== undefined) {
    throw new RangeError(
      'serverOptions.registries is refused: every worker would publish the same address; ' +
        'pass registries: () => [...] to serveCluster, which the first worker alone uses',
    );
  }
  // Validated here, in the primary too, so that a bad option fails before any fork.
  const { logger } = resolveServerOptions(serverOptions);
  return {
    address: o.address,
    setup: o.setup,
    workers: integerOption('workers', o.workers, availableParallelism(), 1, 1024),
    serverOptions,
    registries: functionOption('registries', o.registries),
    advertiseAddress: o.advertiseAddress,
    restartDelayMs: durationOption('restartDelayMs', o.restartDelayMs, DEFAULT_CLUSTER_RESTART_DELAY_MS, 0),
    maxRestartsPerMinute: integerOption(
      'maxRestartsPerMinute',
      o.maxRestartsPerMinute,
      DEFAULT_CLUSTER_MAX_RESTARTS_PER_MINUTE,
      0,
    ),
    shutdownGraceMs: durationOption('shutdownGraceMs', o.shutdownGraceMs, DEFAULT_SHUTDOWN_GRACE_MS, 0),
    handleSignals: booleanOption('handleSignals', o.handleSignals, false),
    scheduler: schedulerOption('scheduler', o.scheduler),
    logger,
  };
}

/**
 * The delay of the next restart, planned at `now` into `restarts` (the moments restarts happened
 * or are planned, in order; those a minute old or more are dropped): `restartDelayMs`, or longer
 * when `maxPerMinute` restarts already fall within the minute that would end at the new one, so
 * that no minute sees more.
 *
 * @internal
 */
export function planRestart(
  restarts: number[],
  now: number,
  restartDelayMs: number,
  maxPerMinute: number,
): number {
  while (restarts.length > 0 && (restarts[0] as number) <= now - MINUTE_MS) restarts.shift();
  let delay = restartDelayMs;
  if (restarts.length >= maxPerMinute) {
    const oldest = restarts[restarts.length - maxPerMinute] as number;
    delay = Math.max(delay, oldest + MINUTE_MS - now);
  }
  restarts.push(now + delay);
  restarts.sort((a, b) => a - b);
  return delay;
}

function isClusterMessage(message: unknown): message is ClusterMessage {
  return typeof message === 'object' && message !== null && 'phobosCluster' in message;
}

function describeExit(code: number | null, signal: string | null): string {
  return signal === null ? `with code ${code}` : `on ${signal}`;
}

/** The address workers listen on: with TCP port 0, a free port picked here, once. */
async function concreteAddress(address: string): Promise<string> {
  const parsed = parseSocketAddress(address);
  if (parsed.network === 'unix' || parsed.port !== 0) return address;
  const probe = createServer();
  const port = await new Promise<number>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, parsed.host, () => {
      const bound = probe.address();
      resolve(typeof bound === 'object' && bound !== null ? bound.port : 0);
    });
  }).finally(() => probe.close());
  // The port is free again until the first worker binds it: a window another process could use.
  return formatAddress({ ...parsed, port });
}

function startPrimary(options: ResolvedClusterOptions): ServerCluster {
  const slots: (Worker | undefined)[] = Array.from({ length: options.workers }, () => undefined);
  const listening = new WeakSet<Worker>();
  const pendingRestarts = new Set<Subscription>();
  /** When restarts happened (or are planned), within the last minute. */
  const restarts: number[] = [];
  let closing: Promise<void> | undefined;
  let listened = false;
  let settle!: { resolve(address: string): void; reject(error: Error): void };
  const address = new Promise<string>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const listenedSlots = new Set<number>();
  let ready!: { resolve(): void; reject(error: Error): void };
  const allListening = new Promise<void>((resolve, reject) => {
    ready = { resolve, reject };
  });
  // A caller that never reads them must not see an unhandled rejection.
  address.catch(() => {});
  allListening.catch(() => {});
  const fail = (error: Error): void => {
    settle.reject(error);
    ready.reject(error);
  };
  let bound = options.address;

  const fork = (slot: number): void => {
    const worker = cluster.fork({ [SLOT_ENV]: String(slot), [ADDRESS_ENV]: bound });
    slots[slot] = worker;
    let failure: string | undefined;
    worker.on('message', (message: unknown) => {
      if (!isClusterMessage(message)) return;
      if (message.phobosCluster === 'listening') {
        listening.add(worker);
        listenedSlots.add(slot);
        if (listenedSlots.size === options.workers) ready.resolve();
        if (!listened) {
          listened = true;
          settle.resolve(message.address);
        }
      } else if (message.phobosCluster === 'failed') failure = message.message;
    });
    // A worker that cannot be spawned emits 'error' and then 'exit'.
    worker.on('error', () => {});
    worker.once('exit', (code: number | null, signal: string | null) => {
      if (slots[slot] === worker) slots[slot] = undefined;
      if (closing) return;
      const how = `worker ${slot + 1} (pid ${worker.process.pid}) exited ${describeExit(code, signal)}`;
      if (!listened) {
        fail(new Error(`${how} before listening on ${bound}${failure ? `: ${failure}` : ''}`));
        void close();
        return;
      }
      restart(slot, failure === undefined ? how : `${how}: ${failure}`);
    });
  };

  const restart = (slot: number, how: string): void => {
    if (options.maxRestartsPerMinute === 0) {
      options.logger.warn(`${how}; not restarted (maxRestartsPerMinute is 0)`);
      return;
    }
    const delay = planRestart(
      restarts,
      options.scheduler.now(),
      options.restartDelayMs,
      options.maxRestartsPerMinute,
    );
    options.logger.warn(`${how}; restarting it in ${delay} ms`, { slot: slot + 1, delayMs: delay });
    const timer = options.scheduler.schedule(() => {
      pendingRestarts.delete(timer);
      if (!closing) fork(slot);
    }, delay);
    pendingRestarts.add(timer);
  };

  const onSignal = (): void => void close();
  const signals = ['SIGINT', 'SIGTERM'] as const;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const timer of pendingRestarts) timer.unsubscribe();
      pendingRestarts.clear();
      const live = slots.filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
      await Promise.all(live.map((worker) => stop(worker)));
      if (options.handleSignals) for (const signal of signals) process.off(signal, onSignal);
      const early = new Error('the cluster was closed before its workers listened');
      if (!listened) settle.reject(early);
      ready.reject(early);
    })();
    return closing;
  };

  const stop = (worker: Worker): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = options.scheduler.schedule(
        () => worker.process.kill('SIGKILL'),
        options.shutdownGraceMs + CLUSTER_EXIT_MARGIN_MS,
      );
      worker.once('exit', () => {
        timer.unsubscribe();
        resolve();
      });
      // One still starting may not read messages yet; it serves nothing, so a signal will do.
      if (!listening.has(worker) || !worker.isConnected()) worker.process.kill('SIGTERM');
      else {
        const message: ClusterMessage = { phobosCluster: 'shutdown', graceMs: options.shutdownGraceMs };
        worker.send(message, (error: Error | null) => {
          if (error) worker.process.kill('SIGTERM');
        });
      }
    });

  if (options.handleSignals) for (const signal of signals) process.once(signal, onSignal);

  void concreteAddress(options.address).then(
    (address) => {
      bound = address;
      if (closing) return;
      for (let slot = 0; slot < options.workers; slot++) fork(slot);
    },
    (error: unknown) => {
      fail(new Error(`cannot listen on ${options.address}: ${describeThrown(error)}`));
      void close();
    },
  );

  return {
    address,
    ready: allListening,
    workers: () => slots.filter((worker) => worker !== undefined && !worker.isDead()).length,
    close,
  };
}

function sendToPrimary(message: ClusterMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

async function runWorker(options: ResolvedClusterOptions, slot: number, address: string): Promise<void> {
  let server: Server | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (graceMs: number): void => {
    stopping ??= (server?.shutdown({ graceMs }) ?? Promise.resolve()).finally(() => process.exit(0));
  };
  process.on('message', (message: unknown) => {
    if (isClusterMessage(message) && message.phobosCluster === 'shutdown') stop(message.graceMs);
  });
  if (options.handleSignals) {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => stop(options.shutdownGraceMs));
    }
  }
  try {
    const registries = slot === 0 && options.registries ? await options.registries() : [];
    server = new Server({ ...options.serverOptions, registries });
    await options.setup(server);
    if (stopping) return;
    const bound = await server.listen(
      address,
      options.advertiseAddress === undefined ? {} : { advertiseAddress: options.advertiseAddress },
    );
    await sendToPrimary({ phobosCluster: 'listening', address: bound });
  } catch (error) {
    const message = describeThrown(error);
    options.logger.warn(`worker ${slot + 1} (pid ${process.pid}) could not start: ${message}`);
    await sendToPrimary({ phobosCluster: 'failed', message });
    await server?.shutdown({ graceMs: 0 });
    process.exit(1);
  }
}
