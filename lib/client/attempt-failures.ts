import {
  CircuitOpenError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  NoInstanceError,
  ResourceExhaustedError,
} from '../errors/errors.js';
import { RpcError, type RpcErrorCode } from '../errors/rpc-error.js';

/**
 * One failed attempt of a call, as the error of a call that failed on every server it tried lists
 * it in `details.attempts` (in the order the attempts were made).
 *
 * @example
 * ```ts
 * const error = await client.call('Greet', {}).catch((e: unknown) => e);
 * if (error instanceof RpcError && Array.isArray(error.details.attempts)) {
 *   for (const { address, code, message } of error.details.attempts as AttemptFailure[]) log(address, code, message);
 * }
 * ```
 * @group Errors
 */
export interface AttemptFailure {
  /** The server the attempt went to (`tcp@10.0.0.1:8972`). */
  readonly address: string;
  /** The code of the attempt's error (`UNAVAILABLE`, `CONNECTION_CLOSED`, `DEADLINE_EXCEEDED`...). */
  readonly code: RpcErrorCode;
  /** The message of the attempt's error. */
  readonly message: string;
}

/** Errors that say a server could not be reached or used: those a failed call lists attempts for. */
const SERVER_FAILURES: ReadonlySet<RpcErrorCode> = new Set<RpcErrorCode>([
  'UNAVAILABLE',
  'RESOURCE_EXHAUSTED',
  'CONNECTION_CLOSED',
  'DEADLINE_EXCEEDED',
  'CIRCUIT_OPEN',
  'NO_INSTANCE',
]);

/** A reason longer than this is cut: the message lists every attempt. */
const MAX_REASON_CHARS = 300;

/**
 * Whether an error says that a server could not be reached or used (connection refused or
 * closed, server busy, no answer in time, breaker open, no server known), as opposed to an
 * answer of the service, a cancellation or a bug: only those make the call's error list every
 * attempt.
 *
 * @internal
 */
export function isServerFailure(error: unknown): error is RpcError {
  return error instanceof RpcError && SERVER_FAILURES.has(error.code);
}

/**
 * The error of a call whose attempts all failed: of the class and code of `last` (what decides a
 * retry stays the same), with a message naming every server tried and why each failed, and
 * `details.attempts` listing each attempt ({@link AttemptFailure}); `last` is its cause, and its
 * details are kept.
 *
 * `last` is the call's final error: that of its last attempt, or the reason no attempt could be
 * made (every breaker open, no server left). `knownServers` is how many servers discovery lists,
 * to say whether every one was tried.
 *
 * @example
 * ```ts
 * attemptsFailedError('HelloWorld', 'Greet', attempts, lastError, 3).message;
 * // 'HelloWorld.Greet: all 3 servers failed: tcp@a:1 (cannot connect: ...), tcp@b:2 (...), tcp@c:3 (...);
 * //  check that they are up and reachable from here'
 * ```
 * @internal
 */
export function attemptsFailedError(
  service: string,
  method: string,
  attempts: readonly AttemptFailure[],
  last: RpcError,
  knownServers: number | undefined,
): RpcError {
  const byServer = new Map<string, AttemptFailure[]>();
  for (const attempt of attempts) {
    const same = byServer.get(attempt.address);
    if (same === undefined) byServer.set(attempt.address, [attempt]);
    else same.push(attempt);
  }
  const servers = byServer.size;
  const scope =
    knownServers !== undefined && servers === knownServers
      ? servers === 1
        ? 'the only server'
        : `all ${servers} servers`
      : knownServers !== undefined && knownServers > servers
        ? `${servers} of ${knownServers} servers`
        : `${servers} server${servers === 1 ? '' : 's'}`;
  const list = [...byServer]
    .map(([address, failures]) => `${address} (${reasonsOf(address, failures)})`)
    .join(', ');
  const they = servers === 1 ? 'it is' : 'they are';
  const call = `${service}.${method}`;
  let message: string;
  if (last.code === 'CIRCUIT_OPEN' && !('state' in last.details)) {
    message = `${call}: every server's circuit breaker is open, after ${scope} failed: ${list}; calls go through again once a breaker lets a probe pass`;
  } else if (last.code === 'NO_INSTANCE') {
    message = `${call}: no server left to try after ${scope} failed: ${list}; ${last.message}`;
  } else {
    const advice =
      last.code === 'DEADLINE_EXCEEDED'
        ? `${they} slow to answer: raise timeoutMs or look at the servers' latency`
        : last.code === 'RESOURCE_EXHAUSTED'
          ? `${they} busy: send fewer calls at once, or add servers`
          : `check that ${they} up and reachable from here`;
    message = `${call}: ${scope} failed: ${list}; ${advice}`;
  }
  const options = { cause: last, details: { ...last.details, service, method, attempts } };
  switch (last.code) {
    case 'UNAVAILABLE':
      return new ConnectionError(message, options);
    case 'RESOURCE_EXHAUSTED':
      return new ResourceExhaustedError(message, options);
    case 'CONNECTION_CLOSED':
      return new ConnectionClosedError(message, options);
    case 'DEADLINE_EXCEEDED':
      return new DeadlineExceededError(message, options);
    case 'CIRCUIT_OPEN':
      return new CircuitOpenError(message, options);
    case 'NO_INSTANCE':
      return new NoInstanceError(message, options);
    default:
      return new RpcError(message, { ...options, code: last.code });
  }
}

/** What went wrong on one server: its distinct reasons, and how many attempts when more than one. */
function reasonsOf(address: string, failures: readonly AttemptFailure[]): string {
  const reasons = [...new Set(failures.map((failure) => reasonOf(address, failure.message)))].join('; ');
  return failures.length === 1 ? reasons : `${failures.length} attempts: ${reasons}`;
}

/** A message without the address it repeats (`cannot connect to tcp@a:1: ...` → `cannot connect: ...`). */
function reasonOf(address: string, message: string): string {
  const reason = message.replace(` to ${address}`, '');
  return reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}...` : reason;
}
