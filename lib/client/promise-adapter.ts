import type { Observable } from 'rxjs';
import { CancelledError, DeadlineExceededError, RpcError } from '../errors/index.js';
import type { CallOptions, Reply } from './connection.js';

/**
 * Splits the promise facade's options into the call options and the signal; options without a
 * signal go on as they are (most calls), not copied.
 *
 * @throws TypeError when `signal` is not an AbortSignal; CancelledError (DeadlineExceededError
 *   for `AbortSignal.timeout()`) when it has already aborted.
 * @internal
 */
export function splitSignal(o: CallOptions & { readonly signal?: AbortSignal }): {
  readonly options: CallOptions;
  readonly signal: AbortSignal | undefined;
} {
  if (o.signal === undefined) return { options: o, signal: undefined };
  const { signal, ...options } = o;
  if (!(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
  if (signal.aborted) throw cancelled(signal);
  return { options, signal };
}

/**
 * The error of a call its signal ended: `DeadlineExceededError` when the signal timed out
 * (`AbortSignal.timeout()`), `CancelledError` otherwise; the signal's reason is the cause.
 *
 * @internal
 */
export function cancelled(signal: AbortSignal): RpcError {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new DeadlineExceededError('the call’s AbortSignal timed out', { cause: reason });
  }
  return new CancelledError('the call was cancelled by its AbortSignal', { cause: reason });
}

/**
 * The first value of a call's Observable, through `pick`, as a promise; `signal` aborting
 * unsubscribes it (which sends the cancel notice) and rejects with {@link cancelled}'s error. A source that
 * completes without a value rejects with an `RpcError` (UNKNOWN).
 *
 * @internal
 */
export function toPromise<T, R>(
  source: Observable<T>,
  signal: AbortSignal | undefined,
  pick: (value: T) => R,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const subscription = source.subscribe({
      next: (value) => {
        settled = true;
        resolve(pick(value));
      },
      error: reject,
      complete: () => {
        if (!settled) reject(new RpcError('the call completed without a reply'));
      },
    });
    if (signal && !subscription.closed) {
      const onAbort = (): void => {
        subscription.unsubscribe();
        reject(cancelled(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      subscription.add(() => signal.removeEventListener('abort', onAbort));
    }
  });
}

/**
 * Rejects with {@link cancelled}'s error when `signal` aborts before `promise` settles.
 *
 * @internal
 */
export function withSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The data of a reply.
 *
 * @internal
 */
export function dataOf<T>(reply: Reply<T>): T {
  return reply.data;
}
