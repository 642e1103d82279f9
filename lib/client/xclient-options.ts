import { type BreakerFactory, type BreakerOption, breakerFor } from '../breaker/breaker-for.js';
import type { Discovery } from '../discovery/discovery.js';
import { type RetryBudget, retryBudget } from '../operators/retry-budget.js';
import { type Backoff, exponentialBackoff } from '../retry/backoff.js';
import type { GeoPoint } from '../selector/geo.js';
import type { CallInfo, Selector } from '../selector/selector.js';
import { type SelectMode, selectorFor } from '../selector/selector-for.js';
import {
  describeValue,
  durationOption,
  functionOption,
  integerOption,
  optionsObject,
} from '../util/validate.js';
import {
  type ConnectOptions,
  type ResolvedConnectOptions,
  resolveConnectOptions,
} from './connect-options.js';
import { DEFAULT_HEARTBEAT_MAX_MISSES, type HeartbeatOptions } from './heartbeat.js';

/**
 * How an XClient survives a failed call (Go Phobos's fail modes).
 *
 * @group Client
 */
export type FailMode = 'failfast' | 'failover' | 'failtry' | 'failbackup';

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
  /**
   * Heartbeats on every connection, or `false`. Default `false`, as Go Phobos. They run on the
   * client's scheduler (a `scheduler` given here is not used).
   */
  readonly heartbeat?: HeartbeatOptions | false;
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
  /**
   * A source of uniform numbers in [0, 1) for what the client randomizes: the jitter of its
   * redial delays and the `random` select mode. Default `Math.random`; inject one to make a test
   * repeatable.
   */
  readonly random?: () => number;
}

/**
 * {@link XClientOptions} checked, with every default filled in.
 *
 * @internal
 */
export interface ResolvedXClientOptions {
  readonly discovery: Discovery;
  readonly connect: ResolvedConnectOptions;
  readonly failMode: FailMode;
  readonly selector: Selector;
  readonly retries: number;
  readonly backoff: Backoff | undefined;
  /** The budget as given or made (events are told of its refusals by the client). */
  readonly retryBudget: RetryBudget | undefined;
  readonly backupDelayMs: number;
  readonly heartbeat: HeartbeatOptions | undefined;
  readonly breakerFactory: BreakerFactory | undefined;
  readonly group: string | undefined;
  readonly idleTimeoutMs: number;
  /** Delay before the n-th redial of a server whose connection failed. */
  readonly redialDelayMs: Backoff;
}

const FAIL_MODES: readonly FailMode[] = ['failfast', 'failover', 'failtry', 'failbackup'];

/**
 * Checks the options of an XClient and fills in the defaults, once: breakers given as options and
 * the default retry budget read time from the client's scheduler.
 *
 * @throws TypeError when `options` is not an object or `discovery` lacks `instances$`;
 *   RangeError naming any option that is out of range (an unknown `failMode` or `selectMode`,
 *   `retries: -1`, `heartbeat: { intervalMs: 0 }`...).
 * @internal
 */
export function resolveXClientOptions(options: XClientOptions): ResolvedXClientOptions {
  const o = optionsObject('XClient options', options) as XClientOptions;
  if (typeof o.discovery?.instances$?.subscribe !== 'function') {
    throw new TypeError('discovery must be a Discovery (an object with instances$)');
  }
  const connect = resolveConnectOptions(o);
  const scheduler = connect.scheduler;
  const clock = (): number => scheduler.now();
  const failMode = o.failMode ?? DEFAULT_FAIL_MODE;
  if (!FAIL_MODES.includes(failMode)) {
    throw new RangeError(`failMode must be one of ${FAIL_MODES.join(', ')}, got ${describeValue(failMode)}`);
  }
  const random = functionOption('random', o.random);
  const heartbeat = o.heartbeat === undefined || o.heartbeat === false ? undefined : o.heartbeat;
  const breaker = o.breaker;
  return {
    discovery: o.discovery,
    connect,
    failMode,
    selector: selectorOf(o, random),
    retries: integerOption('retries', o.retries, 3, 0),
    backoff: functionOption('backoff', o.backoff),
    retryBudget: o.retryBudget === false ? undefined : (o.retryBudget ?? retryBudget({ clock })),
    backupDelayMs: durationOption('backupDelayMs', o.backupDelayMs, DEFAULT_BACKUP_DELAY_MS, 0),
    heartbeat: heartbeat && {
      intervalMs: durationOption('heartbeat.intervalMs', heartbeat.intervalMs, 0, 1),
      maxMisses: integerOption('heartbeat.maxMisses', heartbeat.maxMisses, DEFAULT_HEARTBEAT_MAX_MISSES, 1),
    },
    // Breakers read time from the client's scheduler unless their options name a clock of their own.
    breakerFactory: breakerFor(
      breaker === undefined
        ? { kind: 'consecutive', clock }
        : typeof breaker === 'object' && breaker !== null && breaker.clock === undefined
          ? { ...breaker, clock }
          : breaker,
    ),
    group: o.group,
    idleTimeoutMs: durationOption('idleTimeoutMs', o.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 1),
    redialDelayMs: exponentialBackoff({ initialMs: 50, maxMs: 5_000, ...(random ? { random } : {}) }),
  };
}

function selectorOf(o: XClientOptions, random: (() => number) | undefined): Selector {
  const mode = o.selectMode ?? DEFAULT_SELECT_MODE;
  if (typeof mode === 'object' && mode !== null) {
    if (typeof mode.select !== 'function')
      throw new RangeError('selectMode must be a mode name or a Selector with select()');
    return mode;
  }
  if (mode === 'geo') {
    if (o.geo === undefined)
      throw new RangeError("selectMode 'geo' needs the geo option: { latitude, longitude }");
    return selectorFor('geo', o.geo);
  }
  if (mode === 'consistentHash')
    return selectorFor('consistentHash', o.hashKey ? { keyOf: o.hashKey } : undefined);
  if (mode === 'random') return selectorFor('random', random ? { random } : undefined);
  return selectorFor(mode);
}
