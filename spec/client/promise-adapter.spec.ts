import { EMPTY, finalize, NEVER, of, Subject, throwError } from 'rxjs';
import { describe, expect, it, vi } from 'vitest';
import { cancelled, splitSignal, toPromise, withSignal } from '../../lib/client/promise-adapter.js';
import { CancelledError, ConnectionError, DeadlineExceededError, RpcError } from '../../lib/errors/index.js';

const same = <T>(value: T): T => value;

describe('promise adapter', () => {
  it('splitSignal - options without a signal go on as the same object; with one, without it', () => {
    const plain = { timeoutMs: 5 };
    expect(splitSignal(plain).options).toBe(plain);
    expect(splitSignal(plain).signal).toBeUndefined();
    const controller = new AbortController();
    const split = splitSignal({ timeoutMs: 5, signal: controller.signal });
    expect(split.options).toEqual({ timeoutMs: 5 });
    expect(split.signal).toBe(controller.signal);
  });

  it('splitSignal - refuses what is not an AbortSignal, and a signal already aborted with its reason', () => {
    expect(() => splitSignal({ signal: {} as AbortSignal })).toThrow(TypeError);
    expect(() => splitSignal({ signal: null as unknown as AbortSignal })).toThrow(/must be an AbortSignal/);
    const reason = new Error('stop');
    const error = (() => {
      try {
        splitSignal({ signal: AbortSignal.abort(reason) });
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).cause).toBe(reason);
  });

  it('toPromise - resolves with the first value through pick, rejects with the error, and a completion without a value is an UNKNOWN RpcError', async () => {
    expect(await toPromise(of({ data: 7 }), undefined, (reply) => reply.data)).toBe(7);
    const failure = new ConnectionError('gone');
    await expect(
      toPromise(
        throwError(() => failure),
        undefined,
        same,
      ),
    ).rejects.toBe(failure);
    const empty = await toPromise(EMPTY, undefined, same).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(RpcError);
    expect(empty).toMatchObject({ code: 'UNKNOWN', message: 'the call completed without a reply' });
  });

  it('toPromise - an abort unsubscribes the call and rejects with CancelledError; a settled call leaves no listener on the signal', async () => {
    const controller = new AbortController();
    let unsubscribed = false;
    const pending = toPromise(
      NEVER.pipe(
        finalize(() => {
          unsubscribed = true;
        }),
      ),
      controller.signal,
      same,
    );
    controller.abort('enough');
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CancelledError);
    expect((error as CancelledError).cause).toBe('enough');
    expect(unsubscribed).toBe(true);

    const other = new AbortController();
    const removed = vi.spyOn(other.signal, 'removeEventListener');
    const reply = new Subject<number>();
    const answered = toPromise(reply, other.signal, same);
    reply.next(1);
    reply.complete();
    expect(await answered).toBe(1);
    expect(removed).toHaveBeenCalledTimes(1);
    // Aborting afterwards changes nothing.
    other.abort();
    expect(await answered).toBe(1);
  });

  it('a signal that timed out (AbortSignal.timeout) rejects with DeadlineExceededError, before and during the call', async () => {
    const timedOut = () => AbortSignal.abort(new DOMException('timed out', 'TimeoutError'));
    expect(() => splitSignal({ signal: timedOut() })).toThrow(DeadlineExceededError);
    const controller = new AbortController();
    const pending = toPromise(NEVER, controller.signal, same);
    controller.abort(new DOMException('timed out', 'TimeoutError'));
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: 'the call’s AbortSignal timed out' });
  });

  it('withSignal - passes the promise through, or rejects with CancelledError when the signal aborts first', async () => {
    expect(await withSignal(Promise.resolve('x'), undefined)).toBe('x');
    const controller = new AbortController();
    expect(await withSignal(Promise.resolve('y'), controller.signal)).toBe('y');
    const never = new Promise<string>(() => {});
    const waiting = withSignal(never, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(CancelledError);
    expect(cancelled(controller.signal).message).toBe('the call was cancelled by its AbortSignal');
  });
});
