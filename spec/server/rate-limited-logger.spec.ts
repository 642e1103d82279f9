import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../lib/index.js';
import { rateLimitedLogger } from '../../lib/server/rate-limited-logger.js';
import { testScheduler } from '../operators/marbles.js';

const limit = { perPeer: 2, total: 3, windowMs: 10 };

/** A logger whose warnings become values of `lines` (the message, with the suppressed count). */
function recorder(): { logger: Logger; lines: Subject<string> } {
  const lines = new Subject<string>();
  return {
    lines,
    logger: {
      warn(message, details) {
        lines.next(
          details?.suppressed === undefined ? message : `${message} [${String(details.suppressed)}]`,
        );
      },
    },
  };
}

describe('rateLimitedLogger', () => {
  it('lets perPeer warnings of one host through per window, then tells how many it dropped', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { logger, lines } = recorder();
      const limited = rateLimitedLogger(logger, scheduler, limit);
      // Four warnings from two ports of one host at 1-4 ms, one more at 13 ms (a new window).
      const from = (port: number) => ({ remoteAddress: `tcp@10.0.0.7:${port}` });
      cold('-abcd 8ms e').subscribe((name) => limited.warn(name, from(name === 'b' ? 2 : 1)));
      expectObservable(lines).toBe('-ab 10ms e', {
        a: 'a',
        b: 'b',
        e: 'e (2 more warnings from this peer were suppressed) [2]',
      });
    });
  });

  it('caps all peers together at total per window; each host keeps its own count', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { logger, lines } = recorder();
      const limited = rateLimitedLogger(logger, scheduler, limit);
      const hosts: Record<string, string> = {
        a: '1.1.1.1',
        b: '2.2.2.2',
        c: '3.3.3.3',
        d: '4.4.4.4',
        e: '4.4.4.4',
      };
      cold('-abcd 6ms e').subscribe((name) => limited.warn(name, { remoteAddress: `tcp@${hosts[name]}:9` }));
      expectObservable(lines).toBe('-abc 7ms e', {
        a: 'a',
        b: 'b',
        c: 'c',
        e: 'e (1 more warnings from this peer were suppressed) [1]',
      });
    });
  });

  it('never limits warnings that name no peer, and survives a logger that throws', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { logger, lines } = recorder();
      const limited = rateLimitedLogger(logger, scheduler, limit);
      cold('-aaaaa').subscribe(() => limited.warn('registry down'));
      expectObservable(lines).toBe('-aaaaa', { a: 'registry down' });
    });
    const throwing = rateLimitedLogger(
      {
        warn() {
          throw new Error('disk full');
        },
      },
      testScheduler(),
      limit,
    );
    expect(() => throwing.warn('x', { remoteAddress: 'tcp@1.1.1.1:1' })).not.toThrow();
  });
});
