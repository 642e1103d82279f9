import { Subject } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { describe, it } from 'vitest';
import {
  ConnectionWatchdog,
  type WatchdogExpiry,
  type WatchdogTimeouts,
} from '../../lib/server/connection-watchdog.js';
import { testScheduler } from '../operators/marbles.js';

type Event = (watchdog: ConnectionWatchdog) => void;

/** Events by marble letter. */
const events: Record<string, Event> = {
  f: (w) => w.chunk(1, false), // a whole frame
  p: (w) => w.chunk(0, true), // part of a frame
  n: (w) => w.chunk(1, true), // a frame, and part of the next
  b: (w) => w.busy(true),
  i: (w) => w.busy(false),
  s: (w) => w.writeStalled(true),
  d: (w) => w.writeStalled(false),
  a: (w) => w.authenticated(),
  o: (w) => w.sent(), // a push went out
  x: (w) => w.stop(),
};

/**
 * Runs a watchdog with the given timeouts, feeding it the events of `marbles`, and checks the
 * expiry it reports (one value and nothing after: the watchdog stops).
 */
function expectExpiry(
  timeouts: Partial<WatchdogTimeouts>,
  marbles: string,
  expected: string,
  expiry?: WatchdogExpiry,
) {
  const scheduler: TestScheduler = testScheduler();
  scheduler.run(({ cold, expectObservable }) => {
    const expired = new Subject<WatchdogExpiry>();
    const watchdog = new ConnectionWatchdog(
      { idleTimeoutMs: 0, frameTimeoutMs: 0, authTimeoutMs: 0, ...timeouts },
      scheduler,
      (why) => expired.next(why),
    );
    cold(marbles).subscribe((letter) => events[letter]?.(watchdog));
    expectObservable(expired).toBe(expected, expiry === undefined ? {} : { e: expiry });
  });
}

describe('ConnectionWatchdog', () => {
  it('idle - a connection that receives nothing is closed after idleTimeoutMs', () => {
    expectExpiry({ idleTimeoutMs: 10 }, '', '10ms e', 'idle');
  });

  it('idle - each frame restarts the clock', () => {
    expectExpiry({ idleTimeoutMs: 10 }, '5ms f 7ms f', '5ms - 7ms - 9ms e', 'idle');
  });

  it('idle - the clock stops while calls are in flight and starts again when the last ends', () => {
    expectExpiry({ idleTimeoutMs: 10 }, '2ms b 30ms i', '2ms - 30ms - 9ms e', 'idle');
  });

  it('idle - a push going out restarts the clock as a frame coming in does', () => {
    expectExpiry({ idleTimeoutMs: 10 }, '8ms o', '8ms - 9ms e', 'idle');
  });

  it('idle - 0 means never', () => {
    expectExpiry({ idleTimeoutMs: 0 }, '', '');
  });

  it('frame - a frame that starts and does not finish is timed out frameTimeoutMs after it started', () => {
    expectExpiry({ idleTimeoutMs: 1_000, frameTimeoutMs: 20 }, '3ms p 5ms p', '3ms - 19ms e', 'frame');
  });

  it('frame - a frame that finishes stops the clock; the next unfinished one starts it again', () => {
    expectExpiry({ frameTimeoutMs: 20 }, '3ms p 10ms f 5ms n', '3ms - 10ms - 5ms - 19ms e', 'frame');
  });

  it('frame - a frame finishing with the next one begun restarts the clock at the new frame', () => {
    expectExpiry({ frameTimeoutMs: 20 }, 'p 15ms n 15ms n', '- 15ms - 15ms - 19ms e', 'frame');
  });

  it('write - output that does not start leaving within frameTimeoutMs closes the connection', () => {
    expectExpiry({ frameTimeoutMs: 20 }, '4ms s', '4ms - 19ms e', 'write');
  });

  it('write - a drain stops the clock, however long the connection then stays quiet', () => {
    expectExpiry({ frameTimeoutMs: 20 }, '4ms s 10ms d', '');
  });

  it('write - the clock runs while calls are in flight', () => {
    expectExpiry({ idleTimeoutMs: 5, frameTimeoutMs: 20 }, 'b s', '- 20ms e', 'write');
  });

  it('auth - a connection that presents no valid token is closed after authTimeoutMs, frames or not', () => {
    expectExpiry({ idleTimeoutMs: 1_000, authTimeoutMs: 30 }, 'f 10ms f 10ms f', '30ms e', 'auth');
  });

  it('auth - a valid token stops the clock for good', () => {
    expectExpiry({ authTimeoutMs: 30 }, '10ms a', '');
  });

  it('the earliest clock wins: a stalled frame before the idle deadline', () => {
    expectExpiry(
      { idleTimeoutMs: 100, frameTimeoutMs: 20, authTimeoutMs: 50 },
      '2ms p',
      '2ms - 19ms e',
      'frame',
    );
  });

  it('stop - no clock fires once stopped', () => {
    expectExpiry({ idleTimeoutMs: 10, frameTimeoutMs: 5 }, 'p 2ms x', '');
  });
});
