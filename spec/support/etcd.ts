import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { access, constants, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

/** How long {@link startEtcd} and {@link startEtcdCluster} wait for `/health` to say true. */
export const DEFAULT_READY_TIMEOUT_MS = 20_000;

/** How long `stop()` waits after SIGTERM before it sends SIGKILL. */
export const DEFAULT_STOP_GRACE_MS = 5_000;

/** Raft heartbeat of every member: ten times faster than etcd's default, for quick elections. */
export const ETCD_HEARTBEAT_INTERVAL_MS = 50;

/** Raft election timeout of every member (etcd wants at least five heartbeats). */
export const ETCD_ELECTION_TIMEOUT_MS = 500;

/** The message of the error thrown when no `etcd` binary is on PATH. */
export const ETCD_NOT_INSTALLED =
  'etcd is not installed: run `apt-get install -y etcd-server` (as root), or put etcd 3.4+ on PATH';

const LOG_TAIL_LINES = 50;
const POLL_INTERVAL_MS = 50;
const HEALTH_REQUEST_TIMEOUT_MS = 2_000;

/** One etcd member in a child process, listening on 127.0.0.1 only. */
export interface EtcdNode {
  /** The member name (`--name`). */
  readonly name: string;
  /** Where clients connect, e.g. `http://127.0.0.1:41234`. */
  readonly clientUrl: string;
  /** Where the other members of its cluster connect. */
  readonly peerUrl: string;
  /** Its data directory; it outlives `stop()` and `kill()`, and goes with `remove()`. */
  readonly dataDir: string;
  /** The pid of the latest etcd process (still that of the ended one after `stop()`). */
  readonly pid: number;
  /** Whether its process is alive. */
  readonly running: boolean;
  /** The last lines etcd wrote to stderr (zap JSON), oldest first. */
  logs(): readonly string[];
  /**
   * SIGTERM, then waits for the process to end; SIGKILL if it is still there after 5 s. A leader hands
   * leadership over before it ends, which takes those 5 s when the other members are ending too: stop
   * members of one cluster one at a time, or use `remove()` or the cluster's `stop()`.
   */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the process to end. */
  kill(): Promise<void>;
  /**
   * Stops the member if it runs, then starts it again on the same ports and data dir and waits until
   * it is healthy; a cluster member rejoins its cluster. With `wipe`, the data dir is emptied first so
   * the member comes back with no keys and revisions starting over; only a single-node member may be
   * wiped (a wiped cluster member would need to be removed and added back through the cluster).
   * Rejects when a port has been taken meanwhile or when etcd does not become healthy.
   */
  restart(options?: { wipe?: boolean }): Promise<void>;
  /**
   * Kills the member if it runs (SIGKILL: its data is going anyway) and deletes its data dir; the
   * member cannot start again.
   */
  remove(): Promise<void>;
}

/** Several etcd members forming one cluster on loopback. */
export interface EtcdCluster {
  readonly nodes: readonly EtcdNode[];
  /** The client URL of every member, in the order of `nodes`. */
  readonly clientUrls: readonly string[];
  /** Kills every member and deletes every data dir. */
  stop(): Promise<void>;
}

/** Options of {@link startEtcd}. */
export interface StartEtcdOptions {
  /** Member name; defaults to `etcd-<n>`. */
  readonly name?: string;
  /** Default {@link DEFAULT_READY_TIMEOUT_MS}. */
  readonly readyTimeoutMs?: number;
}

/** Options of {@link startEtcdCluster}. */
export interface StartEtcdClusterOptions {
  /** Members are named `<namePrefix>-0`, `<namePrefix>-1`…; defaults to `cluster-<n>`. */
  readonly namePrefix?: string;
  /** Default {@link DEFAULT_READY_TIMEOUT_MS}. */
  readonly readyTimeoutMs?: number;
}

/** An etcd member that did not become healthy; `stderr` holds the last lines it logged. */
export class EtcdStartError extends Error {
  override readonly name = 'EtcdStartError';
  readonly stderr: readonly string[];

  constructor(message: string, stderr: readonly string[], options?: ErrorOptions) {
    super(stderr.length === 0 ? message : `${message}\n--- etcd stderr ---\n${stderr.join('\n')}`, options);
    this.stderr = stderr;
  }
}

interface MemberConfig {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly dataDir: string;
  readonly initialCluster: string;
  readonly token: string;
  readonly clusterSize: number;
  readonly readyTimeoutMs: number;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<string>;
}

const live = new Set<Member>();
let counter = 0;
let exitHookInstalled = false;

/**
 * Starts a single-member etcd cluster on free loopback ports with a fresh temporary data dir, and
 * resolves once its `/health` says true. Rejects with {@link ETCD_NOT_INSTALLED} when `etcd` is not
 * on PATH, or with an {@link EtcdStartError} carrying etcd's stderr when it exits or is not healthy
 * within `readyTimeoutMs` (the process and the data dir are then cleaned up).
 *
 * @example
 * const node = await startEtcd();
 * const client = new Etcd3({ hosts: node.clientUrl });
 * // …
 * client.close();
 * await node.remove();
 */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdNode> {
  const etcd = await findEtcd();
  const name = options.name ?? `etcd-${++counter}`;
  const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
  const member = new Member(etcd, {
    name,
    clientPort,
    peerPort,
    dataDir: await makeDataDir(name),
    initialCluster: `${name}=${loopbackUrl(peerPort)}`,
    token: `phobos-test-${randomUUID()}`,
    clusterSize: 1,
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
  });
  try {
    await member.start();
  } catch (error) {
    await member.remove();
    throw error;
  }
  return member;
}

/**
 * Starts a cluster of `size` etcd members on loopback, each with its own data dir, and resolves once
 * every member's `/health` says true (which in etcd 3.4 means a leader and a quorum read). Rejects like
 * {@link startEtcd}, after stopping every member and deleting every data dir; throws a `RangeError`
 * when `size` is not a positive integer.
 *
 * @example
 * const cluster = await startEtcdCluster(3);
 * const client = new Etcd3({ hosts: [...cluster.clientUrls] });
 * // …
 * client.close();
 * await cluster.stop();
 */
export async function startEtcdCluster(
  size = 3,
  options: StartEtcdClusterOptions = {},
): Promise<EtcdCluster> {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`size must be a positive integer, got ${size}`);
  const etcd = await findEtcd();
  const prefix = options.namePrefix ?? `cluster-${++counter}`;
  const ports = await freePorts(2 * size);
  const names = Array.from({ length: size }, (_, i) => `${prefix}-${i}`);
  const peerPort = (i: number): number => ports[2 * i + 1] as number;
  const initialCluster = names.map((name, i) => `${name}=${loopbackUrl(peerPort(i))}`).join(',');
  const token = `phobos-test-${randomUUID()}`;
  const members: Member[] = [];
  for (const [i, name] of names.entries()) {
    members.push(
      new Member(etcd, {
        name,
        clientPort: ports[2 * i] as number,
        peerPort: peerPort(i),
        dataDir: await makeDataDir(name),
        initialCluster,
        token,
        clusterSize: size,
        readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
      }),
    );
  }
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((member) => member.remove()));
  };
  // Members must start together: none of them is healthy before a quorum elects a leader.
  const started = await Promise.allSettled(members.map((member) => member.start()));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    await stop();
    throw failed.reason;
  }
  return { nodes: members, clientUrls: members.map((member) => member.clientUrl), stop };
}

/**
 * Kills every member started by this module that has not been removed yet, and deletes their data
 * dirs. Meant for `afterAll`, so that a failing test leaves no etcd process or temp dir behind.
 *
 * @example
 * afterAll(stopAllEtcd);
 */
export async function stopAllEtcd(): Promise<void> {
  await Promise.all([...live].map((member) => member.remove()));
}

/**
 * Whether `GET <clientUrl>/health` answers `{"health":"true"}` within 2 s; false on any error or timeout.
 *
 * @example
 * expect(await isEtcdHealthy(node.clientUrl)).toBe(true);
 */
export function isEtcdHealthy(clientUrl: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${clientUrl}/health`,
      { agent: false, timeout: HEALTH_REQUEST_TIMEOUT_MS },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('error', () => resolve(false));
        res.on('end', () => resolve(res.statusCode === 200 && saysHealthy(body)));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * Polls `/health` of each URL until all say true; rejects when that has not happened within
 * `timeoutMs` (default {@link DEFAULT_READY_TIMEOUT_MS}), naming the URLs still unhealthy.
 *
 * @example
 * await cluster.nodes[0]?.kill();
 * await waitForEtcdHealthy(cluster.clientUrls.slice(1));
 */
export async function waitForEtcdHealthy(
  clientUrls: string | readonly string[],
  timeoutMs = DEFAULT_READY_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waiting = typeof clientUrls === 'string' ? [clientUrls] : [...clientUrls];
  for (;;) {
    const healthy = await Promise.all(waiting.map(isEtcdHealthy));
    waiting = waiting.filter((_, i) => !healthy[i]);
    if (waiting.length === 0) return;
    if (Date.now() >= deadline) {
      throw new Error(`etcd at ${waiting.join(', ')} not healthy within ${timeoutMs} ms`);
    }
    await delay(POLL_INTERVAL_MS);
  }
}

class Member implements EtcdNode {
  readonly #etcd: string;
  readonly #config: MemberConfig;
  #running: Running | undefined;
  #pid = 0;
  #tail: string[] = [];
  #removed = false;

  constructor(etcd: string, config: MemberConfig) {
    this.#etcd = etcd;
    this.#config = config;
    live.add(this);
    installExitHook();
  }

  get name(): string {
    return this.#config.name;
  }

  get clientUrl(): string {
    return loopbackUrl(this.#config.clientPort);
  }

  get peerUrl(): string {
    return loopbackUrl(this.#config.peerPort);
  }

  get dataDir(): string {
    return this.#config.dataDir;
  }

  get pid(): number {
    return this.#pid;
  }

  get running(): boolean {
    const child = this.#running?.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  logs(): readonly string[] {
    return [...this.#tail];
  }

  /** Launches etcd and waits for it to be healthy; kills it when it is not. */
  async start(): Promise<void> {
    const running = this.#launch();
    const deadline = Date.now() + this.#config.readyTimeoutMs;
    let exit: string | undefined;
    void running.exited.then((how) => {
      exit = how;
    });
    for (;;) {
      if (exit !== undefined) {
        throw new EtcdStartError(`etcd member ${this.name} ${exit} before it was healthy`, this.logs());
      }
      if (await isEtcdHealthy(this.clientUrl)) return;
      if (Date.now() >= deadline) {
        await this.kill();
        throw new EtcdStartError(
          `etcd member ${this.name} not healthy within ${this.#config.readyTimeoutMs} ms`,
          this.logs(),
        );
      }
      await Promise.race([delay(POLL_INTERVAL_MS), running.exited]);
    }
  }

  async stop(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    if (this.running) running.child.kill('SIGTERM');
    const escalate = setTimeout(() => running.child.kill('SIGKILL'), DEFAULT_STOP_GRACE_MS);
    try {
      await running.exited;
    } finally {
      clearTimeout(escalate);
    }
  }

  async kill(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    if (this.running) running.child.kill('SIGKILL');
    await running.exited;
  }

  async restart(options: { wipe?: boolean } = {}): Promise<void> {
    if (this.#removed) throw new Error(`etcd member ${this.name} was removed and cannot restart`);
    if (options.wipe === true && this.#config.clusterSize > 1) {
      throw new Error(
        `etcd member ${this.name} belongs to a cluster of ${this.#config.clusterSize}: only a single-node member can be wiped`,
      );
    }
    await this.stop();
    if (options.wipe === true) {
      await rm(this.dataDir, { recursive: true, force: true });
      await mkdir(this.dataDir, { mode: 0o700 });
    }
    await assertPortFree(this.#config.clientPort, `client port of etcd member ${this.name}`);
    await assertPortFree(this.#config.peerPort, `peer port of etcd member ${this.name}`);
    await this.start();
  }

  async remove(): Promise<void> {
    this.#removed = true;
    live.delete(this);
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Kills the process without waiting and deletes the data dir; for the process `exit` hook. */
  removeNow(): void {
    if (this.running) this.#running?.child.kill('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  #launch(): Running {
    const child = spawn(this.#etcd, etcdArgs(this.#config), {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: withoutEtcdVariables(process.env),
    });
    const exited = new Promise<string>((resolve) => {
      // 'close' rather than 'exit': it comes after stderr ended, so the tail holds etcd's last words.
      child.once('close', (code, signal) =>
        resolve(signal === null ? `exited with code ${code}` : `ended by ${signal}`),
      );
      child.once('error', (error) => resolve(`failed to spawn (${error.message})`));
    });
    const tail: string[] = [];
    this.#tail = tail;
    if (child.stderr !== null) {
      createInterface({ input: child.stderr }).on('line', (line) => {
        tail.push(line);
        if (tail.length > LOG_TAIL_LINES) tail.shift();
      });
    }
    this.#running = { child, exited };
    this.#pid = child.pid ?? 0;
    return this.#running;
  }
}

function etcdArgs(config: MemberConfig): string[] {
  const clientUrl = loopbackUrl(config.clientPort);
  const peerUrl = loopbackUrl(config.peerPort);
  // `--initial-cluster*` only matter when the data dir is empty; with a WAL present etcd rejoins
  // the cluster recorded there, so the same arguments serve the first start and every restart.
  return [
    `--name=${config.name}`,
    `--data-dir=${config.dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${config.initialCluster}`,
    '--initial-cluster-state=new',
    `--initial-cluster-token=${config.token}`,
    `--heartbeat-interval=${ETCD_HEARTBEAT_INTERVAL_MS}`,
    `--election-timeout=${ETCD_ELECTION_TIMEOUT_MS}`,
    '--logger=zap',
    '--log-outputs=stderr',
  ];
}

async function findEtcd(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'etcd');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(ETCD_NOT_INSTALLED);
}

/** Binds `count` listeners on 127.0.0.1:0 at once (so no port comes twice), then frees them. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await listen(0));
    return servers.map((server) => {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address for a free port');
      return address.port;
    });
  } finally {
    await Promise.all(servers.map(close));
  }
}

async function assertPortFree(port: number, what: string): Promise<void> {
  let server: Server;
  try {
    server = await listen(port);
  } catch (error) {
    throw new Error(`cannot restart: ${what} (127.0.0.1:${port}) is taken by another process`, {
      cause: error,
    });
  }
  await close(server);
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function makeDataDir(name: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `phobos-etcd-${name}-`));
}

function loopbackUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

function saysHealthy(body: string): boolean {
  try {
    return (JSON.parse(body) as { health?: unknown }).health === 'true';
  } catch {
    return false;
  }
}

/** etcd reads `ETCD_*` variables as flags and refuses to start when they clash with ours. */
function withoutEtcdVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('ETCD_')));
}

/** A worker that ends without `stopAllEtcd` must not leave etcd processes or data dirs behind. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const member of live) member.removeNow();
  });
}
