import { RpcError } from '../errors/rpc-error.js';

/**
 * Decides whether a failed attempt may be tried again. The retry operators take one as
 * `shouldRetry`; {@link isRetryable} is the default.
 * @group Governance
 */
export type RetryPredicate = (error: unknown) => boolean;

/**
 * The default retry rule: whether another attempt (normally to another server) may succeed
 * where this one failed.
 *
 * Retried (true):
 * - `UNAVAILABLE` (`ConnectionError`): the call was never sent (dial refused, TLS
 *   failed) or never run (the server is shutting down), so another attempt is safe and may
 *   reach a healthy server.
 * - `RESOURCE_EXHAUSTED` (`ResourceExhaustedError`): the server was busy and did not run the
 *   call; another server, or the same one later, may have room.
 * - `CONNECTION_CLOSED` (`ConnectionClosedError`): the server went away mid-call. The
 *   request may have run, so this is at-least-once, as in Go Phobos and rpcx; use
 *   `shouldRetry` to exclude it for methods that are not idempotent.
 * - `DEADLINE_EXCEEDED`: a per-attempt deadline (a `callTimeout` inside the retry operator)
 *   expired on a slow server. A deadline outside the retry operator ends all attempts, so its
 *   error is never seen here.
 *
 * Not retried (false):
 * - `SERVICE_ERROR`: the service itself failed; another attempt would fail the same way.
 * - `CANCELLED`: the caller cancelled; retrying would undo their decision.
 * - `UNAUTHENTICATED`: the server refused the client's token; every server would refuse it.
 * - `CODEC_ERROR`: the arguments or the reply do not (de)serialize; no server fixes that.
 * - `CIRCUIT_OPEN`: selection already skips servers whose breaker is open, so this means no
 *   server is available now; retrying would spin without sending anything.
 * - `NO_INSTANCE`: discovery knows no server; another attempt would find none either.
 * - `PROTOCOL_ERROR`: a peer broke the wire protocol; a bug or a misconfiguration (wrong
 *   dialect, limits), not a transient failure.
 * - `UNKNOWN`, and anything that is not an {@link RpcError}: a bug in our code or the
 *   caller's; retrying would hide it.
 *
 * @param error - whatever the attempt failed with.
 * @returns true when the error is worth another attempt; never throws.
 * @example
 * ```ts
 * isRetryable(new ConnectionClosedError('gone'));  // true
 * isRetryable(new ServiceError('divide by zero'));  // false
 * failover({ shouldRetry: (e) => isRetryable(e) && !(e instanceof ConnectionClosedError) });
 * ```
 * @group Governance
 */
export function isRetryable(error: unknown): boolean {
  if (!(error instanceof RpcError)) return false;
  switch (error.code) {
    case 'UNAVAILABLE':
    case 'RESOURCE_EXHAUSTED':
    case 'CONNECTION_CLOSED':
    case 'DEADLINE_EXCEEDED':
      return true;
    default:
      return false;
  }
}
