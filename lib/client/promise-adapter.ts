import { Observable, type Subscription } from 'rxjs';
import { CancelledError, DeadlineExceededError, RpcError } from '../errors/index.js';
import { DEFAULT_STREAM_WINDOW, MAX_STREAM_CREDIT } from '../protocol/constants.js';
import { integerOption, optionsObject } from '../util/validate.js';
import type { CallOptions, Reply, StreamOptions } from './connection.js';

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

/**
 * The values of a stream as an async iterator that pulls at the reader's pace: `open(demand)`
 * is subscribed at the first `next()`, `demand` emitting `window` at once and then, each time
 * half a window has been read out, that half again; so the stream is at most a window ahead of
 * the reader and the buffer holds at most a window. `return()` (a `break` out of `for await`)
 * and `signal` aborting unsubscribe, which cancels the stream on the server; a stream error
 * rejects the pending `next()` (values read before it are kept).
 *
 * @internal
 */
export function toAsyncIterator<T>(
  open: (demand: Observable<number>) => Observable<T>,
  window: number,
  signal: AbortSignal | undefined,
): AsyncIterableIterator<T> {
  const buffer: T[] = [];
  let subscription: Subscription | undefined;
  let grant: ((credit: number) => void) | undefined;
  let ended = false;
  let failure: { readonly error: unknown } | undefined;
  let waiting: { resolve(result: IteratorResult<T>): void; reject(error: unknown): void } | undefined;
  let read = 0;
  const half = Math.max(1, Math.ceil(window / 2));
  const settle = (): void => {
    const waiter = waiting;
    if (waiter === undefined) return;
    if (buffer.length > 0) {
      waiting = undefined;
      waiter.resolve({ value: take(), done: false });
    } else if (failure !== undefined) {
      waiting = undefined;
      waiter.reject(failure.error);
    } else if (ended) {
      waiting = undefined;
      waiter.resolve({ value: undefined, done: true });
    }
  };
  const take = (): T => {
    const value = buffer.shift() as T;
    if (++read >= half && !ended) {
      const credit = read;
      read = 0;
      grant?.(credit);
    }
    return value;
  };
  const stop = (): void => {
    ended = true;
    buffer.length = 0;
    subscription?.unsubscribe();
    signal?.removeEventListener('abort', onAbort);
  };
  const onAbort = (): void => {
    if (ended) return;
    stop();
    failure = { error: cancelled(signal as AbortSignal) };
    settle();
  };
  const start = (): void => {
    if (signal?.aborted) {
      ended = true;
      failure = { error: cancelled(signal) };
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    const demand = new Observable<number>((subscriber) => {
      subscriber.next(window);
      grant = (credit) => subscriber.next(credit);
    });
    subscription = open(demand).subscribe({
      next: (value) => {
        buffer.push(value);
        settle();
      },
      error: (error: unknown) => {
        ended = true;
        failure = { error };
        signal?.removeEventListener('abort', onAbort);
        settle();
      },
      complete: () => {
        ended = true;
        signal?.removeEventListener('abort', onAbort);
        settle();
      },
    });
  };
  let started = false;
  const iterator: AsyncIterableIterator<T> = {
    next(): Promise<IteratorResult<T>> {
      if (!started) {
        started = true;
        start();
      }
      if (buffer.length > 0) return Promise.resolve({ value: take(), done: false });
      if (failure !== undefined) {
        const { error } = failure;
        failure = undefined;
        return Promise.reject(error);
      }
      if (ended || waiting !== undefined) {
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return Promise.reject(new TypeError('next() called again before the last one settled'));
      }
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
    return(): Promise<IteratorResult<T>> {
      started = true;
      stop();
      failure = undefined;
      settle();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}

/**
 * The async iterator of a stream for the promise facades (`Client.stream`, `XClient.stream`):
 * the options checked (`window`, `signal`; no `demand`, the loop is the demand), then
 * {@link toAsyncIterator} over `open(options, demand)`. Bad options reject the first `next()`,
 * never throw.
 *
 * @internal
 */
export function streamIterator<T>(
  options: (StreamOptions & { readonly signal?: AbortSignal }) | undefined,
  open: (options: StreamOptions, demand: Observable<number>) => Observable<T>,
): AsyncIterableIterator<T> {
  try {
    const o = optionsObject('stream options', options) as StreamOptions & { readonly signal?: AbortSignal };
    if (o.demand !== undefined)
      throw new TypeError('a stream iterator takes no demand: reading the loop is the demand');
    const window = integerOption('window', o.window, DEFAULT_STREAM_WINDOW, 1, MAX_STREAM_CREDIT);
    const { signal, window: _window, ...rest } = o;
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw new TypeError('signal must be an AbortSignal');
    return toAsyncIterator((demand) => open(rest, demand), window, signal);
  } catch (error) {
    return failedIterator(error);
  }
}

/** An iterator whose first `next()` rejects with `error`. */
function failedIterator<T>(error: unknown): AsyncIterableIterator<T> {
  let failed = false;
  const iterator: AsyncIterableIterator<T> = {
    next: () => {
      if (failed) return Promise.resolve({ value: undefined, done: true });
      failed = true;
      return Promise.reject(error);
    },
    return: () => Promise.resolve({ value: undefined, done: true }),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
