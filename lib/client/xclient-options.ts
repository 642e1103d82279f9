import type { BreakerOption } from '../breaker/breaker-for.js';
import type { Discovery } from '../discovery/discovery.js';
import type { RetryBudget } from '../operators/retry-budget.js';
import type { Backoff } from '../retry/backoff.js';
import type { GeoPoint } from '../selector/geo.js';
import type { CallInfo, Selector } from '../selector/selector.js';
import type { SelectMode } from '../selector/selector-for.js';
import type { ConnectOptions } from './connect-options.js';

/**
 * How an XClient survives a failed call (Go Phobos's fail modes).
 *
 * @group Client
 */
export type FailMode = 'failfast' | 'failover' | 'failtry' | 'failbackup';

/**
 * Heartbeat settings of an XClient's connections.
 *
 * @group Client
 */
export interface HeartbeatSettings {
  /** Ping every this many ms. */
  readonly intervalMs: number;
  /** Consecutive pings without an echo after which the connection is closed. Default 3. */
  readonly maxMisses?: number;
}

/**
 * Default of {@link XClientOptions.failMode}.
 *
 * @group Client
 */
export const DEFAULT_FAIL_MODE: FailMode = 'failover';
/**
 * Default of {@link XClientOptions.selectMode}.
 *
 * @group Client
 */
export const DEFAULT_SELECT_MODE: SelectMode = 'random';
/**
 * Default of {@link XClientOptions.backupDelayMs}: 10 ms, as rpcx's BackupLatency.
 *
 * @group Client
 */
export const DEFAULT_BACKUP_DELAY_MS = 10;
/**
 * Default of {@link XClientOptions.idleTimeoutMs}: 5 minutes.
 *
 * @group Client
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

/**
 * Options of an {@link XClient}. Only `discovery` is required; everything else has the default
 * given, and every option of {@link ConnectOptions} applies to the connections it makes
 * (`serializeType`, `compress`, `timeoutMs` — the deadline of a whole call, all attempts
 * together —, `auth`, `tls`, `dialect`...).
 * @group Client
 */
export interface XClientOptions extends ConnectOptions {
  /** Where the servers of the service are found. */
  readonly discovery: Discovery;
  /** What to do when a call fails. Default `failover` (another server, up to `retries` times). */
  readonly failMode?: FailMode;
  /** How to pick a server, or your own {@link Selector}. Default `random`. */
  readonly selectMode?: SelectMode | Selector;
  /** For `geo`: the point whose nearest server is picked. */
  readonly geo?: GeoPoint;
  /** For `consistentHash`: the key of a call. Default service, method and encoded args. */
  readonly hashKey?: (call: CallInfo) => string;
  /** Retries of `failover` and `failtry`. Default 3, as Go Phobos. */
  readonly retries?: number;
  /** Delay before retry n. Default none (at once), as Go Phobos. */
  readonly backoff?: Backoff;
  /**
   * A retry budget shared by this client's calls (retries limited to a share of calls), or
   * `false` for none. Default a budget of 20% of calls plus 10 retries a second.
   */
  readonly retryBudget?: RetryBudget | false;
  /** For `failbackup`: send the backup request after this many ms. Default 10. */
  readonly backupDelayMs?: number;
  /** Heartbeats on every connection, or `false`. Default `false`, as Go Phobos. */
  readonly heartbeat?: HeartbeatSettings | false;
  /**
   * One circuit breaker per server: options, your own factory, or `false`. Default the
   * consecutive-failures breaker with Go Phobos's settings. Breakers given as options read time
   * from the client's `scheduler` unless they name their own `clock`.
   */
  readonly breaker?: BreakerOption;
  /** Only servers that list this group. Default all. */
  readonly group?: string;
  /** Close a connection unused for this long. Default 5 minutes. */
  readonly idleTimeoutMs?: number;
}
