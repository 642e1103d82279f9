import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WriteCredit } from '../../lib/gateway/write-credit.js';

/** A sink with a socket's backpressure, full when the test says so. */
class Sink extends EventEmitter {
  full = false;
  readonly written: (Uint8Array | string)[] = [];

  write(chunk: Uint8Array | string): boolean {
    this.written.push(chunk);
    return !this.full;
  }

  /** Empties, and says so as a socket does to one who waits. */
  drain(): void {
    this.full = false;
    this.emit('drain');
  }
}

function granted(credit: WriteCredit): number[] {
  const grants: number[] = [];
  credit.demand.subscribe((n) => grants.push(n));
  return grants;
}

describe('WriteCredit', () => {
  it('grants a window at subscription, then half a window each time half a window was written', () => {
    const sink = new Sink();
    const credit = new WriteCredit(sink, 8);
    const grants = granted(credit);
    expect(grants).toEqual([8]);
    for (let i = 0; i < 3; i++) credit.value(`v${i}`);
    expect(grants).toEqual([8]);
    credit.value('v3');
    expect(grants).toEqual([8, 4]);
    for (let i = 4; i < 12; i++) credit.value(`v${i}`);
    expect(grants).toEqual([8, 4, 4, 4]);
    expect(sink.written).toHaveLength(12);
  });

  it('grants nothing while the sink is full, and what was written once it drains', () => {
    const sink = new Sink();
    const credit = new WriteCredit(sink, 4);
    const grants = granted(credit);
    sink.full = true;
    for (let i = 0; i < 4; i++) credit.value(`v${i}`);
    expect(credit.backpressured).toBe(true);
    expect(grants).toEqual([4]);
    sink.drain();
    expect(credit.backpressured).toBe(false);
    expect(grants).toEqual([4, 4]);
  });

  it('a drain with less than half a window written grants nothing yet: the credit still out brings the rest', () => {
    const sink = new Sink();
    const credit = new WriteCredit(sink, 4);
    const grants = granted(credit);
    sink.full = true;
    credit.value('v0');
    sink.drain();
    expect(grants).toEqual([4]);
    credit.value('v1');
    expect(grants).toEqual([4, 2]);
  });

  it('writes that are not values (keepalives) can fill the sink, and hold grants back too', () => {
    const sink = new Sink();
    const credit = new WriteCredit(sink, 2);
    const grants = granted(credit);
    sink.full = true;
    expect(credit.write(': keepalive\n\n')).toBe(false);
    credit.value('v0');
    expect(grants).toEqual([2]);
    sink.drain();
    expect(grants).toEqual([2, 1]);
  });

  it('each subscription (a retry before the first value) starts with a window of its own', () => {
    const sink = new Sink();
    const credit = new WriteCredit(sink, 4);
    const first = credit.demand.subscribe();
    first.unsubscribe();
    const grants = granted(credit);
    expect(grants).toEqual([4]);
    credit.value('v0');
    credit.value('v1');
    expect(grants).toEqual([4, 2]);
  });

  it('a window that is not an integer >= 1 is refused', () => {
    for (const window of [0, -1, 1.5, Number.NaN]) {
      expect(() => new WriteCredit(new Sink(), window)).toThrow(RangeError);
    }
  });

  it('model: the credit out stays within the window, what waits in a full sink within it, and a sink that keeps up never stalls the stream', () => {
    type Command = 'value' | 'fill' | 'drain';
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.constantFrom<Command>('value', 'value', 'value', 'fill', 'drain'), { maxLength: 300 }),
        (window, commands) => {
          const sink = new Sink();
          const credit = new WriteCredit(sink, window);
          let out = 0;
          credit.demand.subscribe((n) => {
            out += n;
          });
          let heldWhileFull = 0;
          for (const command of commands) {
            if (command === 'value') {
              // The server sends only what it was granted.
              if (out === 0) continue;
              out--;
              if (credit.backpressured) heldWhileFull++;
              credit.value('v');
            } else if (command === 'fill') sink.full = true;
            else if (sink.full) {
              sink.drain();
              heldWhileFull = 0;
            }
            expect(out).toBeGreaterThanOrEqual(0);
            expect(out).toBeLessThanOrEqual(window);
            expect(heldWhileFull).toBeLessThanOrEqual(window);
            if (!credit.backpressured) expect(out).toBeGreaterThan(0);
          }
        },
      ),
    );
  });
});
