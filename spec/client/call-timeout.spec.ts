import { type Observable, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type CallContext, DeadlineExceededError } from '../../lib/index.js';
import { deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { openConnection, startServer } from '../support/servers.js';

const { defer } = trackHandles();

type Notification =
  | { kind: 'next'; value: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'complete' };

/**
 * Subscribes and records every notification in `log`; `settled` resolves at the
 * error or completion. The test's cleanup unsubscribes.
 */
function record(source: Observable<unknown>): { log: Notification[]; settled: Promise<void> } {
  const settled = deferred();
  const notifications: Notification[] = [];
  const subscription = source.subscribe({
    next: (value) => notifications.push({ kind: 'next', value }),
    error: (error: unknown) => {
      notifications.push({ kind: 'error', error });
      settled.resolve();
    },
    complete: () => {
      notifications.push({ kind: 'complete' });
      settled.resolve();
    },
  });
  defer(() => subscription.unsubscribe());
  return { log: notifications, settled: settled.promise };
}

/** Runs the virtual clock up to `frame` (inclusive), and no further. */
function advanceTo(scheduler: VirtualTimeScheduler, frame: number): void {
  scheduler.maxFrames = frame;
  scheduler.flush();
}

/**
 * A server whose `Slow.Wait` never answers and whose `Fast.Now` answers at once. Its own deadline
 * timers run on a virtual clock that is never advanced, so only the client's deadline can fire.
 */
async function slowServer(expectedCalls: number) {
  const seen: Array<{ args: unknown; serverTimeout: string | undefined }> = [];
  const allCalled = deferred();
  const { address } = await startServer(
    defer,
    (server) =>
      server.register('Slow', {
        Wait(args: unknown, ctx: CallContext): Promise<never> {
          seen.push({ args, serverTimeout: ctx.metadata.get('__ServerTimeout') });
          if (seen.length === expectedCalls) allCalled.resolve();
          return new Promise<never>(() => {});
        },
        Now: () => 'now',
      }),
    { scheduler: new VirtualTimeScheduler() },
  );
  return { address, seen, allCalled: allCalled.promise };
}

describe('call deadline on the injected scheduler', () => {
  it('call deadline - each call errors with DeadlineExceededError at its own timeoutMs of virtual time', async () => {
    const { address, seen, allCalled } = await slowServer(2);
    const scheduler = new VirtualTimeScheduler();
    const connection = await openConnection(defer, address, { scheduler });

    const short = record(connection.call$('Slow', 'Wait', 1, { timeoutMs: 1000 }));
    const long = record(connection.call$('Slow', 'Wait', 2, { timeoutMs: 2000 }));
    await allCalled;
    // The server was told each deadline.
    expect(seen).toEqual([
      { args: 1, serverTimeout: '1000' },
      { args: 2, serverTimeout: '2000' },
    ]);
    expect(connection.pendingCount).toBe(2);
    expect(scheduler.actions.map((action) => action.delay)).toEqual([1000, 2000]);

    advanceTo(scheduler, 999);
    expect(short.log).toEqual([]);
    expect(long.log).toEqual([]);

    advanceTo(scheduler, 1000);
    // Synchronously, within flush: no real time passed.
    expect(scheduler.now()).toBe(1000);
    expect(short.log).toHaveLength(1);
    const [first] = short.log;
    expect(first?.kind).toBe('error');
    const error = first?.kind === 'error' ? first.error : undefined;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({
      code: 'DEADLINE_EXCEEDED',
      message: 'Slow.Wait did not answer within 1000 ms',
      details: { service: 'Slow', method: 'Wait', timeoutMs: 1000, address },
    });
    expect(long.log).toEqual([]);
    expect(connection.pendingCount).toBe(1);

    advanceTo(scheduler, 1999);
    expect(long.log).toEqual([]);

    advanceTo(scheduler, 2000);
    expect(long.log).toHaveLength(1);
    const second = long.log[0]?.kind === 'error' ? long.log[0].error : undefined;
    expect(second).toBeInstanceOf(DeadlineExceededError);
    expect(second).toMatchObject({ details: { timeoutMs: 2000 } });
    expect(connection.pendingCount).toBe(0);
    expect(scheduler.actions).toEqual([]);
    // The connection itself is fine.
    expect(connection.isOpen).toBe(true);
  });

  it('call deadline - the connection default timeoutMs runs on the scheduler too', async () => {
    const { address, allCalled } = await slowServer(1);
    const scheduler = new VirtualTimeScheduler();
    const connection = await openConnection(defer, address, { scheduler, timeoutMs: 300 });
    const call = record(connection.call$('Slow', 'Wait', 1));
    await allCalled;
    advanceTo(scheduler, 299);
    expect(call.log).toEqual([]);
    advanceTo(scheduler, 300);
    const error = call.log[0]?.kind === 'error' ? call.log[0].error : undefined;
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ details: { timeoutMs: 300 } });
  });

  it('call deadline - timeoutMs 0 in a call overrides the default: no deadline at all', async () => {
    const { address, allCalled } = await slowServer(1);
    const scheduler = new VirtualTimeScheduler();
    const connection = await openConnection(defer, address, { scheduler, timeoutMs: 300 });
    const call = record(connection.call$('Slow', 'Wait', 1, { timeoutMs: 0 }));
    await allCalled;
    expect(scheduler.actions).toEqual([]);
    advanceTo(scheduler, Number.POSITIVE_INFINITY);
    expect(call.log).toEqual([]);
    expect(connection.pendingCount).toBe(1);
  });

  it('call deadline - a reply before the deadline cancels its timer: no error afterwards', async () => {
    const { address } = await slowServer(1);
    const scheduler = new VirtualTimeScheduler();
    const connection = await openConnection(defer, address, { scheduler });
    const call = record(connection.call$('Slow', 'Now', undefined, { timeoutMs: 1000 }));
    expect(scheduler.actions).toHaveLength(1);
    await call.settled;
    expect(call.log).toEqual([{ kind: 'next', value: 'now' }, { kind: 'complete' }]);
    expect(scheduler.actions).toEqual([]);
    advanceTo(scheduler, Number.POSITIVE_INFINITY);
    expect(call.log).toEqual([{ kind: 'next', value: 'now' }, { kind: 'complete' }]);
  });

  it('call deadline - unsubscribing before the deadline cancels its timer', async () => {
    const { address, allCalled } = await slowServer(1);
    const scheduler = new VirtualTimeScheduler();
    const connection = await openConnection(defer, address, { scheduler });
    const errors: unknown[] = [];
    const subscription = connection
      .call$('Slow', 'Wait', 1, { timeoutMs: 1000 })
      .subscribe({ error: (error: unknown) => errors.push(error) });
    await allCalled;
    expect(scheduler.actions).toHaveLength(1);
    subscription.unsubscribe();
    expect(scheduler.actions).toEqual([]);
    expect(connection.pendingCount).toBe(0);
    advanceTo(scheduler, Number.POSITIVE_INFINITY);
    expect(errors).toEqual([]);
  });
});
