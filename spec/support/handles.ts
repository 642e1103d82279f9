import { afterEach, beforeEach, expect } from 'vitest';

const WATCHED = new Set([
  'TCPSocketWrap',
  'TCPServerWrap',
  'PipeWrap',
  'PipeServerWrap',
  'TLSWrap',
  'Timeout',
  'Immediate',
]);

function census(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const resource of process.getActiveResourcesInfo()) {
    if (WATCHED.has(resource)) counts.set(resource, (counts.get(resource) ?? 0) + 1);
  }
  return counts;
}

function leaks(baseline: Map<string, number>): Array<[string, number]> {
  return [...census()].filter(([kind, count]) => count > (baseline.get(kind) ?? 0));
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
