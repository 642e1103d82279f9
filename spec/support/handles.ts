import { createHook } from 'node:async_hooks';
import { afterEach, beforeEach, expect } from 'vitest';

/** Socket and server handles, counted by type (the test runner holds a few pipes of its own). */
const SOCKETS = new Set(['TCPSocketWrap', 'TCPServerWrap', 'PipeWrap', 'PipeServerWrap', 'TLSWrap']);

function census(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const resource of process.getActiveResourcesInfo()) {
    if (SOCKETS.has(resource)) counts.set(resource, (counts.get(resource) ?? 0) + 1);
  }
  return counts;
}

/**
 * Sockets the library dialled, by async id, while they are open. `process.getActiveResourcesInfo()`
 * leaves out handles that are `unref()`'d, as an idle client socket is, so these are followed from
 * creation to close with async hooks.
 */
const SOCKET_HOOK_TYPES = new Set(['TCPWRAP', 'PIPEWRAP']);
const liveDialled = new Map<number, string>();

/**
 * Timers created by the library or the tests and not yet cleared or fired, by async id. Timers
 * of the test runner itself are not ours to check, so a timer counts only when its creation
 * stack passes through lib/ or spec/.
 */
const liveTimers = new Map<number, string>();
createHook({
  init(asyncId, type) {
    if (SOCKET_HOOK_TYPES.has(type)) {
      const stack = new Error('dialled here').stack ?? '';
      if (stack.includes('/lib/transport/')) liveDialled.set(asyncId, stack);
      return;
    }
    if (type !== 'Timeout' && type !== 'Immediate') return;
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = new Error('created here').stack ?? '';
    Error.stackTraceLimit = limit;
    // node:http's cache of the Date header: an unref'd timer that clears it within a second.
    if (stack.includes('at utcDate (node:internal/http')) return;
    const ours = stack
      .split('\n')
      .some(
        (line) =>
          /\/(lib|spec)\//.test(line) &&
          !line.includes('/node_modules/') &&
          !line.includes('/spec/support/handles'),
      );
    if (ours) liveTimers.set(asyncId, stack);
  },
  destroy(asyncId) {
    liveDialled.delete(asyncId);
    liveTimers.delete(asyncId);
  },
}).enable();

function leaks(baseline: Map<string, number>): string[] {
  const sockets = [...census()]
    .filter(([kind, count]) => count > (baseline.get(kind) ?? 0))
    .map(([kind, count]) => `${kind} x${count - (baseline.get(kind) ?? 0)}`);
  const timers = [...liveTimers.values()].map(
    (stack) => `timer ${stack.split('\n').slice(1, 12).join('\n')}`,
  );
  const dialled = [...liveDialled.values()].map(
    (stack) => `dialled socket ${stack.split('\n').slice(1, 12).join('\n')}`,
  );
  return [...sockets, ...dialled, ...timers];
}

type Cleanup = () => unknown;

/**
 * Registers per-test cleanup and, after it ran, checks that the test left no socket, server or
 * timer open. Call once at the top of a spec file; push teardown functions with `defer`.
 */
export function trackHandles(): { defer(cleanup: Cleanup): void } {
  let baseline = new Map<string, number>();
  let cleanups: Cleanup[] = [];
  beforeEach(() => {
    cleanups = [];
    baseline = census();
    liveDialled.clear();
    liveTimers.clear();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    // Handles closed by the cleanups are freed in a later phase of the event loop: give the loop
    // a few turns (never a timer) before counting what is left.
    let leaked = leaks(baseline);
    for (let turn = 0; turn < 20 && leaked.length > 0; turn++) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      leaked = leaks(baseline);
    }
    expect(leaked, 'handles left open by the test').toEqual([]);
  });
  return { defer: (cleanup) => cleanups.push(cleanup) };
}
