import fc from 'fast-check';
import { finalize, type Observable, of, range, Subject, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { MAX_STREAM_CREDIT } from '../../lib/protocol/constants.js';
import { EMPTY_METADATA, EMPTY_PAYLOAD, type Message } from '../../lib/protocol/message.js';
import {
  isStreamSource,
  type StreamOutput,
  StreamProducer,
  type StreamSource,
} from '../../lib/protocol/stream-producer.js';
import { deferred } from '../support/deferred.js';
import { settle } from '../support/virtual-time.js';

/** What the stream did to its output, in order. */
type Output =
  | { readonly kind: 'frame'; readonly value: unknown }
  | { readonly kind: 'complete' }
  | { readonly kind: 'fail'; readonly error: unknown; readonly code: string | undefined };

/** A new frame (the fake output maps it back to its value). */
function aFrame(): Message {
  return {
    magic: 0x42,
    messageType: 1,
    heartbeat: false,
    oneway: false,
    compressType: 0,
    status: 0,
    serializeType: 1,
    seq: 1n,
    servicePath: 'S',
    serviceMethod: 'm',
    metadata: EMPTY_METADATA,
    payload: EMPTY_PAYLOAD,
  };
}

/**
 * A stream over a fake output that records what it is given, and stops the stream (unsubscribes
 * what `start` returned) on its end as the server's connection does: at once, or right after
 * `start` when the end came inside it.
 */
function harness(
  credit: number,
  maxBacklog = 1_000,
  encode: (value: unknown) => Message | Promise<Message> = aFrame,
) {
  const out: Output[] = [];
  const values = new Map<Message, unknown>();
  /** Whether the fake transport takes more frames: `send` returns it. */
  const writable = { open: true };
  let subscription: Subscription | undefined;
  let ended = false;
  const end = (): void => {
    ended = true;
    subscription?.unsubscribe();
  };
  const output: StreamOutput = {
    next: (value) => {
      const frame = encode(value);
      if (frame instanceof Promise)
        return frame.then((ready) => {
          values.set(ready, value);
          return ready;
        });
      values.set(frame, value);
      return frame;
    },
    send: (frame) => {
      out.push({ kind: 'frame', value: values.get(frame) });
      return writable.open;
    },
    complete: () => {
      out.push({ kind: 'complete' });
      end();
    },
    fail: (error, code) => {
      out.push({ kind: 'fail', error, code });
      end();
    },
  };
  const stream = new StreamProducer(credit, maxBacklog, output);
  return {
    stream,
    out,
    writable,
    /** The values sent so far. */
    frames: (): unknown[] => out.flatMap((o) => (o.kind === 'frame' ? [o.value] : [])),
    /** What ended the stream, if anything did. */
    ends: (): Output[] => out.filter((o) => o.kind !== 'frame'),
    start(source: StreamSource): Subscription {
      subscription = stream.start(source);
      if (ended) subscription.unsubscribe();
      return subscription;
    },
  };
}

/** A hand-written async iterator of 0, 1, 2, ... `count - 1` that counts its calls. */
function countingIterable(count = Number.POSITIVE_INFINITY) {
  const calls = { next: 0, return: 0 };
  let index = 0;
  const iterable: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        calls.next++;
        return Promise.resolve(
          index < count ? { value: index++, done: false } : { value: undefined, done: true as const },
        );
      },
      return: () => {
        calls.return++;
        return Promise.resolve({ value: undefined, done: true as const });
      },
    }),
  };
  return { iterable, calls };
}

/** `source` with its unsubscription counted. */
function watched<T>(source: Observable<T>) {
  const state = { finalized: 0 };
  return { source: source.pipe(finalize(() => state.finalized++)), state };
}

describe('StreamProducer', () => {
  it('StreamProducer - sends no more frames than the credit it was given', () => {
    const s = harness(3);
    const values = new Subject<number>();
    s.start(values);
    for (let i = 0; i < 10; i++) values.next(i);
    expect(s.frames()).toEqual([0, 1, 2]);
  });

  it('StreamProducer - a grant releases the queued values in order, then later values go at once', () => {
    const s = harness(2);
    const values = new Subject<number>();
    s.start(values);
    for (let i = 0; i < 6; i++) values.next(i);
    expect(s.frames()).toEqual([0, 1]);
    expect(s.stream.grant(3)).toBeUndefined();
    expect(s.frames()).toEqual([0, 1, 2, 3, 4]);
    s.stream.grant(4);
    expect(s.frames()).toEqual([0, 1, 2, 3, 4, 5]);
    values.next(6);
    values.next(7);
    values.next(8);
    expect(s.frames()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    values.next(9);
    expect(s.frames()).toHaveLength(9);
  });

  it('StreamProducer - completion waits for the queued values to be sent', () => {
    const s = harness(1);
    s.start(of('a', 'b', 'c'));
    expect(s.out).toEqual([{ kind: 'frame', value: 'a' }]);
    s.stream.grant(1);
    expect(s.out).toEqual([
      { kind: 'frame', value: 'a' },
      { kind: 'frame', value: 'b' },
    ]);
    s.stream.grant(1);
    expect(s.out).toEqual([
      { kind: 'frame', value: 'a' },
      { kind: 'frame', value: 'b' },
      { kind: 'frame', value: 'c' },
      { kind: 'complete' },
    ]);
  });

  it("StreamProducer - the source's error waits for the queued values, then fails the stream with it", () => {
    const s = harness(0);
    const values = new Subject<string>();
    s.start(values);
    const boom = new Error('boom');
    values.next('a');
    values.next('b');
    values.error(boom);
    expect(s.out).toEqual([]);
    s.stream.grant(1);
    expect(s.out).toEqual([{ kind: 'frame', value: 'a' }]);
    s.stream.grant(5);
    expect(s.out).toEqual([
      { kind: 'frame', value: 'a' },
      { kind: 'frame', value: 'b' },
      { kind: 'fail', error: boom, code: undefined },
    ]);
  });

  it('StreamProducer - an Observable past maxBacklog fails the stream with RESOURCE_EXHAUSTED and is unsubscribed', () => {
    const s = harness(1, 2);
    const values = new Subject<number>();
    const { source, state } = watched(values);
    s.start(source);
    values.next(0);
    values.next(1);
    values.next(2);
    expect(s.ends()).toEqual([]);
    values.next(3);
    expect(s.frames()).toEqual([0]);
    expect(s.ends()).toEqual([
      {
        kind: 'fail',
        error: expect.objectContaining({ message: expect.stringMatching(/maxStreamBacklog/) }),
        code: 'RESOURCE_EXHAUSTED',
      },
    ]);
    expect(state.finalized).toBe(1);
    expect(values.observed).toBe(false);
    // The queued values are dropped: credit sends nothing after the end.
    expect(s.stream.grant(10)).toBeUndefined();
    expect(s.frames()).toEqual([0]);
  });

  it('StreamProducer - a synchronous Observable past maxBacklog ends the stream once, and nothing follows the end', () => {
    const s = harness(0, 2);
    const { source, state } = watched(range(0, 100));
    s.start(source);
    expect(s.out).toEqual([{ kind: 'fail', error: expect.any(Error), code: 'RESOURCE_EXHAUSTED' }]);
    expect(state.finalized).toBe(1);
    s.stream.grant(100);
    expect(s.out).toHaveLength(1);
  });

  it('StreamProducer - a maxBacklog of 0 allows no value ahead of the credit', () => {
    const s = harness(1, 0);
    const values = new Subject<number>();
    s.start(values);
    values.next(0);
    expect(s.ends()).toEqual([]);
    values.next(1);
    expect(s.frames()).toEqual([0]);
    expect(s.ends()).toEqual([expect.objectContaining({ kind: 'fail', code: 'RESOURCE_EXHAUSTED' })]);
  });

  it('StreamProducer - a grant taking the credit past 2^31-1 returns why and fails the stream with INVALID_ARGUMENT', () => {
    const s = harness(MAX_STREAM_CREDIT - 10);
    const values = new Subject<number>();
    const { source, state } = watched(values);
    s.start(source);
    expect(s.stream.grant(10)).toBeUndefined();
    expect(s.ends()).toEqual([]);
    const why = s.stream.grant(1);
    expect(why).toMatch(/credit overflow/);
    expect(s.ends()).toEqual([
      { kind: 'fail', error: expect.objectContaining({ message: why }), code: 'INVALID_ARGUMENT' },
    ]);
    expect(state.finalized).toBe(1);
    values.next(1);
    expect(s.frames()).toEqual([]);
  });

  it('StreamProducer - an overflowing grant on an async iterable stops it: return() is called, no more next()', async () => {
    const s = harness(MAX_STREAM_CREDIT);
    const { iterable, calls } = countingIterable();
    s.start(iterable);
    // The first value is pulled; the grant comes while it is awaited.
    expect(s.stream.grant(1)).toMatch(/credit overflow/);
    await settle();
    expect(calls.return).toBe(1);
    expect(calls.next).toBe(1);
    expect(s.frames()).toEqual([]);
    expect(s.ends()).toEqual([expect.objectContaining({ kind: 'fail', code: 'INVALID_ARGUMENT' })]);
  });

  it('StreamProducer - an async iterable is pulled only as credit allows: one next() per value granted, one value ahead', async () => {
    const s = harness(2);
    const { iterable, calls } = countingIterable();
    s.start(iterable);
    await settle();
    // Two values sent, the third pulled and held for the next grant.
    expect(calls.next).toBe(3);
    expect(s.frames()).toEqual([0, 1]);
    await settle();
    expect(calls.next).toBe(3);
    s.stream.grant(3);
    await settle();
    expect(calls.next).toBe(6);
    expect(s.frames()).toEqual([0, 1, 2, 3, 4]);
    // Grants while a value is being pulled add up: the pull goes on for all of them.
    s.stream.grant(1);
    s.stream.grant(2);
    await settle();
    expect(calls.next).toBe(9);
    expect(s.frames()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(s.ends()).toEqual([]);
  });

  it('StreamProducer - with no first credit an async iterable sends nothing until a grant, and is pulled one value ahead', async () => {
    const s = harness(0);
    const { iterable, calls } = countingIterable(3);
    s.start(iterable);
    await settle();
    expect(calls.next).toBe(1);
    expect(s.out).toEqual([]);
    s.stream.grant(10);
    await settle();
    // Three values, then the fourth next() finds the end.
    expect(calls.next).toBe(4);
    expect(s.out).toEqual([
      { kind: 'frame', value: 0 },
      { kind: 'frame', value: 1 },
      { kind: 'frame', value: 2 },
      { kind: 'complete' },
    ]);
  });

  it("StreamProducer - an async iterable's rejection fails the stream after the values it gave; one that throws in next() too", async () => {
    const boom = new Error('boom');
    async function* failing() {
      yield 1;
      yield 2;
      throw boom;
    }
    const s = harness(10);
    s.start(failing());
    await settle();
    expect(s.out).toEqual([
      { kind: 'frame', value: 1 },
      { kind: 'frame', value: 2 },
      { kind: 'fail', error: boom, code: undefined },
    ]);

    const t = harness(10);
    t.start({
      [Symbol.asyncIterator]: () => ({
        next: () => {
          throw boom;
        },
      }),
    });
    await settle();
    expect(t.out).toEqual([{ kind: 'fail', error: boom, code: undefined }]);

    const u = harness(10);
    u.start({
      [Symbol.asyncIterator]: () => {
        throw boom;
      },
    });
    expect(u.out).toEqual([{ kind: 'fail', error: boom, code: undefined }]);
  });

  it('StreamProducer - stopping it calls the iterator’s return() once and pulls no more', async () => {
    const s = harness(1);
    const { iterable, calls } = countingIterable();
    const subscription = s.start(iterable);
    await settle();
    // One value sent, one held.
    expect(calls.next).toBe(2);
    subscription.unsubscribe();
    expect(calls.return).toBe(1);
    s.stream.grant(5);
    await settle();
    expect(calls.next).toBe(2);
    subscription.unsubscribe();
    expect(calls.return).toBe(1);
    expect(s.out).toEqual([{ kind: 'frame', value: 0 }]);
  });

  it('StreamProducer - stopping it runs an async generator’s finally; stopping an Observable unsubscribes it', async () => {
    const seen: string[] = [];
    async function* generator() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        seen.push('finally');
      }
    }
    const s = harness(2);
    const subscription = s.start(generator());
    await settle();
    expect(s.frames()).toEqual([0, 1]);
    subscription.unsubscribe();
    await settle();
    expect(seen).toEqual(['finally']);

    const t = harness(2);
    const values = new Subject<number>();
    const { source, state } = watched(values);
    t.start(source).unsubscribe();
    expect(state.finalized).toBe(1);
    values.next(1);
    expect(t.out).toEqual([]);
  });

  it('StreamProducer - stop() unsubscribes an Observable source and drops its queue: nothing is sent after, not even an end', () => {
    const s = harness(1);
    const values = new Subject<number>();
    const { source, state } = watched(values);
    const subscription = s.start(source);
    values.next(0);
    values.next(1);
    values.next(2);
    s.stream.stop();
    expect(state.finalized).toBe(1);
    expect(values.observed).toBe(false);
    expect(s.stream.grant(5)).toBeUndefined();
    expect(s.out).toEqual([{ kind: 'frame', value: 0 }]);
    // Stopping again, or unsubscribing what start returned, changes nothing.
    s.stream.stop();
    subscription.unsubscribe();
    expect(state.finalized).toBe(1);
    expect(s.out).toEqual([{ kind: 'frame', value: 0 }]);
  });

  it('StreamProducer - stop() on an async iterable calls return() once and pulls no more; its end is not sent', async () => {
    const s = harness(1);
    const { iterable, calls } = countingIterable(5);
    const subscription = s.start(iterable);
    await settle();
    expect(calls.next).toBe(2);
    s.stream.stop();
    s.stream.stop();
    expect(calls.return).toBe(1);
    s.stream.grant(10);
    await settle();
    expect(calls.next).toBe(2);
    subscription.unsubscribe();
    expect(calls.return).toBe(1);
    expect(s.out).toEqual([{ kind: 'frame', value: 0 }]);
  });

  it('StreamProducer - stop() while a frame is being compressed: that frame and the end are not sent', async () => {
    const late = deferred<Message>();
    const s = harness(10, 10, (value) => (value === 1 ? late.promise : aFrame()));
    s.start(of(0, 1, 2));
    expect(s.out).toEqual([{ kind: 'frame', value: 0 }]);
    s.stream.stop();
    late.resolve(aFrame());
    await settle();
    expect(s.out).toEqual([{ kind: 'frame', value: 0 }]);
  });

  it('StreamProducer - stop() before start: the source is let go at once and nothing is sent', () => {
    const s = harness(5);
    s.stream.stop();
    const values = new Subject<number>();
    s.start(values);
    expect(values.observed).toBe(false);
    values.next(1);
    expect(s.out).toEqual([]);
  });

  it('StreamProducer - frames leave in the order of the values when some are encoded as promises', async () => {
    const pending = new Map([
      [1, deferred<Message>()],
      [3, deferred<Message>()],
    ]);
    const s = harness(10, 10, (value) => pending.get(value as number)?.promise ?? aFrame());
    s.start(of(0, 1, 2, 3, 4));
    expect(s.out).toEqual([{ kind: 'frame', value: 0 }]);
    pending.get(3)?.resolve(aFrame());
    await settle();
    expect(s.out).toEqual([{ kind: 'frame', value: 0 }]);
    pending.get(1)?.resolve(aFrame());
    await settle();
    expect(s.out).toEqual([
      { kind: 'frame', value: 0 },
      { kind: 'frame', value: 1 },
      { kind: 'frame', value: 2 },
      { kind: 'frame', value: 3 },
      { kind: 'frame', value: 4 },
      { kind: 'complete' },
    ]);
  });

  it('StreamProducer - a value that does not encode fails the stream, and no later value follows the error', async () => {
    const cannot = new Error('cannot encode');
    const s = harness(10, 10, (value) => {
      if (value === 'bad') throw cannot;
      return aFrame();
    });
    // Synchronous: the values after the bad one are emitted inside start().
    const { source, state } = watched(of('a', 'bad', 'c', 'd'));
    s.start(source);
    expect(s.out).toEqual([
      { kind: 'frame', value: 'a' },
      { kind: 'fail', error: cannot, code: undefined },
    ]);
    expect(state.finalized).toBe(1);

    // A promise of a frame that rejects: the frames after it are not sent either.
    const late = deferred<Message>();
    const t = harness(10, 10, (value) => (value === 'bad' ? late.promise : aFrame()));
    t.start(of('a', 'bad', 'c'));
    late.reject(cannot);
    await settle();
    expect(t.out).toEqual([
      { kind: 'frame', value: 'a' },
      { kind: 'fail', error: cannot, code: undefined },
    ]);
  });

  it('isStreamSource - Observables and async iterables stream; values, promises, arrays and sync iterables do not', () => {
    async function* generator() {}
    expect(isStreamSource(of(1))).toBe(true);
    expect(isStreamSource(generator())).toBe(true);
    expect(isStreamSource({ [Symbol.asyncIterator]: () => ({}) })).toBe(true);
    for (const value of [1, 'text', null, undefined, Promise.resolve(1), [1, 2], new Set([1]), {}])
      expect(isStreamSource(value)).toBe(false);
  });

  it('StreamProducer - property: frames never outrun the credit granted, come in emission order, and the backlog is kept', () => {
    const step = fc.oneof(
      fc.record({ grant: fc.integer({ min: 1, max: 5 }) }),
      fc.constant({ emit: true as const }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 6 }),
        fc.array(step, { maxLength: 60 }),
        (first, maxBacklog, steps) => {
          const s = harness(first, maxBacklog);
          const values = new Subject<number>();
          s.start(values);
          let credit = first;
          let emitted = 0;
          let failed = false;
          for (const command of steps) {
            if ('grant' in command) {
              expect(s.stream.grant(command.grant)).toBeUndefined();
              if (!failed) credit += command.grant;
            } else if (!failed) {
              const sentBefore = s.frames().length;
              const waiting = emitted - sentBefore;
              values.next(emitted++);
              // The model: sent at once with credit and no queue; queued within the backlog.
              if (!(credit > sentBefore && waiting === 0) && waiting >= maxBacklog) failed = true;
            }
            const frames = s.frames();
            expect(frames.length).toBeLessThanOrEqual(credit);
            expect(frames).toEqual(Array.from({ length: frames.length }, (_, i) => i));
            if (failed) {
              expect(s.ends()).toEqual([
                expect.objectContaining({ kind: 'fail', code: 'RESOURCE_EXHAUSTED' }),
              ]);
              expect(values.observed).toBe(false);
            } else {
              expect(frames.length).toBe(Math.min(emitted, credit));
              expect(s.ends()).toEqual([]);
            }
          }
        },
      ),
    );
  });
  it('StreamProducer - a transport that takes no more holds the values (queued, not pulled) until resume()', async () => {
    const s = harness(10);
    const values = new Subject<number>();
    s.start(values);
    values.next(0);
    s.writable.open = false;
    values.next(1); // sent: the transport said no after it
    values.next(2);
    values.next(3);
    expect(s.frames()).toEqual([0, 1]);
    s.writable.open = true;
    s.stream.resume();
    expect(s.frames()).toEqual([0, 1, 2, 3]);

    const t = harness(10);
    const { iterable, calls } = countingIterable();
    t.writable.open = false;
    t.start(iterable);
    await settle();
    // One value sent (the transport said no after it), none pulled since.
    expect(t.frames()).toEqual([0]);
    expect(calls.next).toBe(1);
    t.writable.open = true;
    t.stream.resume();
    await settle();
    expect(t.frames()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('StreamProducer - an async iterable that never waits lets the event loop turn while it has credit', async () => {
    const s = harness(10_000);
    const { iterable } = countingIterable();
    let sentWhenTheLoopTurned: number | undefined;
    setImmediate(() => {
      sentWhenTheLoopTurned = s.frames().length;
    });
    s.start(iterable);
    while (s.frames().length < 10_000) await new Promise((resolve) => setImmediate(resolve));
    expect(sentWhenTheLoopTurned).toBeDefined();
    expect(sentWhenTheLoopTurned).toBeLessThan(10_000);
  });
});
