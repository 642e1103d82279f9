import type { SchedulerLike } from 'rxjs';
import { type Backoff, exponentialBackoff } from '../retry/backoff.js';
import { type Logger, loggerOption } from '../util/logger.js';
import { describeValue, durationOption, optionsObject, schedulerOption } from '../util/validate.js';
import { defaultEtcdPool, EtcdPool } from './etcd-pool.js';

/**
 * Default base path of the keys: `/phobos`.
 *
 * @group Registry
 */
export const DEFAULT_ETCD_BASE_PATH = '/phobos';
/**
 * Default time to wait for a connection to an etcd member: 2,000 ms.
 *
 * @group Registry
 */
export const DEFAULT_ETCD_DIAL_TIMEOUT_MS = 2_000;
/**
 * Default deadline of one etcd request (a put, a list, a lease grant): 3,000 ms.
 *
 * @group Registry
 */
export const DEFAULT_ETCD_REQUEST_TIMEOUT_MS = 3_000;
/**
 * Default longest wait between two attempts to reach etcd again: 2,000 ms.
 *
 * @group Registry
 */
export const DEFAULT_ETCD_RETRY_MAX_MS = 2_000;

/**
 * How to reach etcd; shared by {@link etcdRegistry} and {@link etcdDiscovery}.
 *
 * @example
 * ```ts
 * const options: EtcdConnectionOptions = { hosts: ['http://10.0.0.1:2379', 'http://10.0.0.2:2379'] };
 * ```
 * @group Registry
 */
export interface EtcdConnectionOptions {
  /** Client URLs of the etcd members (`http://127.0.0.1:2379`), a list or one comma-separated string. */
  readonly hosts: string | readonly string[];
  /** Where the keys live: `{basePath}/{service}/{address}`. Default `/phobos`. */
  readonly basePath?: string;
  /** How long to wait for a connection to an etcd member. Default 2,000 ms. */
  readonly dialTimeoutMs?: number;
  /**
   * Deadline of a request to etcd, divided among the hosts: a request tries the members in turn,
   * each attempt with this deadline divided by the number of hosts, so with three hosts a member
   * that stopped answering costs a third of it before the next one is asked. Default 3,000 ms.
   */
  readonly requestTimeoutMs?: number;
  /** Longest wait between two attempts to reach etcd again (the backoff's cap). Default 2,000 ms. */
  readonly retryMaxMs?: number;
  /** Where outages, recoveries and skipped keys are reported. Default: the console. */
  readonly logger?: Logger;
  /** Where retry delays and grace periods are timed. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
  /**
   * The etcd clients and watches to share with the other registries and discoveries given the
   * same pool. Default: the process's pool, shared by every registry and discovery given none.
   */
  readonly pool?: EtcdPool;
}

/** @internal {@link EtcdConnectionOptions} checked, with defaults. */
export interface ResolvedEtcdOptions {
  readonly hosts: readonly string[];
  readonly basePath: string;
  readonly dialTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly retryMaxMs: number;
  readonly logger: Logger;
  readonly scheduler: SchedulerLike;
  readonly pool: EtcdPool;
}

/**
 * Checks the connection options.
 *
 * @throws TypeError or RangeError naming the option: no hosts, a host that is not an http(s)
 *   URL, a base path that does not start with `/` or ends with one, a bad timeout, a pool that
 *   is not an {@link EtcdPool}.
 * @internal
 */
export function resolveEtcdOptions(
  what: string,
  options: EtcdConnectionOptions | undefined,
): ResolvedEtcdOptions {
  if (options === undefined) throw new TypeError(`${what} needs options with hosts (etcd client URLs)`);
  const o = optionsObject(`${what} options`, options);
  const hosts = checkHosts(o.hosts);
  const basePath = checkBasePath(o.basePath ?? DEFAULT_ETCD_BASE_PATH);
  const dialTimeoutMs = durationOption('dialTimeoutMs', o.dialTimeoutMs, DEFAULT_ETCD_DIAL_TIMEOUT_MS, 1);
  const requestTimeoutMs = durationOption(
    'requestTimeoutMs',
    o.requestTimeoutMs,
    DEFAULT_ETCD_REQUEST_TIMEOUT_MS,
    1,
  );
  const retryMaxMs = durationOption('retryMaxMs', o.retryMaxMs, DEFAULT_ETCD_RETRY_MAX_MS, 1);
  const logger = loggerOption(o.logger);
  const scheduler = schedulerOption('scheduler', o.scheduler);
  const pool = checkPool(o.pool);
  return { hosts, basePath, dialTimeoutMs, requestTimeoutMs, retryMaxMs, logger, scheduler, pool };
}

function checkPool(value: unknown): EtcdPool {
  if (value === undefined) return defaultEtcdPool;
  if (!(value instanceof EtcdPool))
    throw new TypeError(`pool must be an EtcdPool (new EtcdPool()), got ${describeValue(value)}`);
  return value;
}

function checkHosts(value: unknown): readonly string[] {
  const list =
    typeof value === 'string'
      ? value.split(',').map((host) => host.trim())
      : Array.isArray(value)
        ? (value as unknown[])
        : undefined;
  if (list === undefined)
    throw new TypeError(
      `hosts must be a list of etcd client URLs or a comma-separated string, got ${describeValue(value)}`,
    );
  const hosts = list.filter((host) => host !== '');
  if (hosts.length === 0)
    throw new RangeError('hosts must name at least one etcd client URL (http://host:2379)');
  for (const host of hosts) {
    if (typeof host !== 'string') throw new TypeError(`hosts must hold strings, got ${describeValue(host)}`);
    let url: URL;
    try {
      url = new URL(host);
    } catch {
      throw new RangeError(`host ${JSON.stringify(host)} is not a URL; write it as http://host:2379`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || url.port === '') {
      throw new RangeError(`host ${JSON.stringify(host)} must be http://host:port or https://host:port`);
    }
  }
  return Object.freeze([...(hosts as string[])]);
}

function checkBasePath(value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`basePath must be a string, got ${describeValue(value)}`);
  if (!value.startsWith('/') || value.length < 2 || value.endsWith('/')) {
    throw new RangeError(
      `basePath must start with "/" and not end with one (like /phobos), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * The wait before each new attempt to reach etcd: 100 ms doubling up to `retryMaxMs`, with equal
 * jitter (half fixed, half random), so that many clients do not retry in step.
 *
 * @internal
 */
export function retryBackoff(options: ResolvedEtcdOptions): Backoff {
  return exponentialBackoff({
    initialMs: Math.min(100, options.retryMaxMs),
    maxMs: options.retryMaxMs,
    jitter: 'equal',
  });
}
