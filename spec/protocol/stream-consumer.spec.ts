import { describe, expect, it } from 'vitest';
import type { Reply } from '../../lib/client/connection.js';
import { CodecError, ProtocolError, type RpcError, ServiceError } from '../../lib/errors/index.js';
import { MAX_STREAM_CREDIT, MetadataKey, StreamSignal } from '../../lib/protocol/constants.js';
import { EMPTY_PAYLOAD, type Message } from '../../lib/protocol/message.js';
import { StreamConsumer, type StreamConsumerHooks } from '../../lib/protocol/stream-consumer.js';
import { deferred } from '../support/deferred.js';
import { settle } from '../support/virtual-time.js';

/** What the stream did through its hooks, in order. */
type Event =
  | { readonly kind: 'next'; readonly data: unknown }
  | { readonly kind: 'complete' }
  | { readonly kind: 'error'; readonly error: Error }
  | { readonly kind: 'grant'; readonly credit: number }
  | { readonly kind: 'leave'; readonly cancel: boolean };

function frame(fields: {
  signal?: string;
  data?: unknown;
  status?: number;
  invalid?: ProtocolError;
}): Message {
  const metadata = new Map<string, string>();
  if (fields.signal !== undefined) metadata.set(MetadataKey.Stream, fields.signal);
  if (fields.status === 1) metadata.set('__mrpc_error__', 'the handler failed');
  return {
    magic: 0x42,
    messageType: 1,
    heartbeat: false,
    oneway: false,
    compressType: 0,
    status: fields.status ?? 0,
    serializeType: 1,
    seq: 5n,
    servicePath: 'S',
    serviceMethod: 'm',
    metadata,
    payload: fields.data === undefined ? EMPTY_PAYLOAD : Buffer.from(JSON.stringify(fields.data)),
    ...(fields.invalid === undefined ? {} : { invalid: fields.invalid }),
  };
}

const next = (data: unknown): Message => frame({ signal: StreamSignal.Next, data });
const complete = (): Message => frame({ signal: StreamSignal.Complete });
const failure = (): Message => frame({ signal: StreamSignal.Error, status: 1 });

type Decoded = Reply<unknown> | RpcError;

/**
 * A stream over fake hooks that record every call. `decode` reads the JSON payload (an error
 * frame as a ServiceError); `decodeAs` may hand some frames a result of its own (a promise).
 */
function harness(
  window: number,
  firstCredit = window,
  decodeAs: (frame: Message) => Decoded | Promise<Decoded> | undefined = () => undefined,
) {
  const events: Event[] = [];
  const hooks: StreamConsumerHooks = {
    decode: (message) => {
      const own = decodeAs(message);
      if (own !== undefined) return own;
      if (message.invalid) return message.invalid;
      if (message.status !== 0) return new ServiceError(message.metadata.get('__mrpc_error__') ?? 'failed');
      return {
        data: message.payload.length === 0 ? undefined : JSON.parse(Buffer.from(message.payload).toString()),
        metadata: message.metadata,
      };
    },
    grant: (credit) => events.push({ kind: 'grant', credit }),
    leave: (cancel) => events.push({ kind: 'leave', cancel }),
    next: (reply) => events.push({ kind: 'next', data: reply.data }),
    complete: () => events.push({ kind: 'complete' }),
    error: (error) => events.push({ kind: 'error', error }),
  };
  const stream = new StreamConsumer(hooks, window, firstCredit);
  return {
    stream,
    events,
    of: <K extends Event['kind']>(kind: K): Extract<Event, { kind: K }>[] =>
      events.filter((event): event is Extract<Event, { kind: K }> => event.kind === kind),
  };
}

describe('StreamConsumer', () => {
  it('StreamConsumer - window: each half window delivered (ceil(window/2)) is granted again', () => {
    for (const [window, half] of [
      [4, 2],
      [5, 3],
      [1, 1],
      [64, 32],
    ] as const) {
      const s = harness(window);
      for (let i = 0; i < half * 3; i++) s.stream.receive(next(i));
      expect(s.of('next').map((event) => event.data)).toEqual(Array.from({ length: half * 3 }, (_, i) => i));
      expect(s.of('grant')).toEqual([
        { kind: 'grant', credit: half },
        { kind: 'grant', credit: half },
        { kind: 'grant', credit: half },
      ]);
      // Each grant follows the value that completed its half.
      expect(s.events[half]).toEqual({ kind: 'grant', credit: half });
    }
  });

  it('StreamConsumer - window: the server may run a whole window ahead, never more', async () => {
    // Values whose decode has not finished are not delivered, so no credit comes back for them.
    const held = deferred<Decoded>();
    const s = harness(4, 4, () => held.promise);
    for (let i = 0; i < 4; i++) s.stream.receive(next(i));
    expect(s.events).toEqual([]);
    s.stream.receive(next(4));
    expect(s.events).toEqual([{ kind: 'leave', cancel: true }]);
    // The values before it are still delivered, then the error; no credit is given back.
    held.resolve({ data: 'v', metadata: new Map() });
    await settle();
    expect(s.events).toEqual([
      { kind: 'leave', cancel: true },
      ...Array.from({ length: 4 }, () => ({ kind: 'next', data: 'v' })),
      { kind: 'error', error: expect.any(ProtocolError) },
    ]);
  });

  it('StreamConsumer - a value past the credit fails the stream with a ProtocolError and cancels it; later frames are ignored', () => {
    const s = harness(0, 2);
    s.stream.receive(next('a'));
    s.stream.receive(next('b'));
    s.stream.receive(next('c'));
    s.stream.receive(next('d'));
    s.stream.receive(complete());
    expect(s.events).toEqual([
      { kind: 'next', data: 'a' },
      { kind: 'next', data: 'b' },
      { kind: 'leave', cancel: true },
      { kind: 'error', error: expect.any(ProtocolError) },
    ]);
    const error = s.of('error')[0]?.error as ProtocolError;
    expect(error.field).toBe('stream');
    expect(error.message).toMatch(/past the credit/);
  });

  it('StreamConsumer - an unmarked reply is one value, then completion; it leaves without a cancel', () => {
    const s = harness(8);
    s.stream.receive(frame({ data: { answer: 42 } }));
    s.stream.receive(next('late'));
    expect(s.events).toEqual([
      { kind: 'leave', cancel: false },
      { kind: 'next', data: { answer: 42 } },
      { kind: 'complete' },
    ]);
  });

  it('StreamConsumer - the complete frame ends the stream after the values; it leaves without a cancel', () => {
    const s = harness(8);
    s.stream.receive(next(1));
    s.stream.receive(next(2));
    s.stream.receive(complete());
    s.stream.receive(next(3));
    expect(s.events).toEqual([
      { kind: 'next', data: 1 },
      { kind: 'next', data: 2 },
      { kind: 'leave', cancel: false },
      { kind: 'complete' },
    ]);
  });

  it('StreamConsumer - an error frame fails the stream after the values before it, with no cancel', () => {
    const s = harness(8);
    s.stream.receive(next(1));
    s.stream.receive(failure());
    s.stream.receive(next(2));
    expect(s.events).toEqual([
      { kind: 'next', data: 1 },
      { kind: 'leave', cancel: false },
      { kind: 'error', error: expect.any(ServiceError) },
    ]);
    expect(s.of('error')[0]?.error.message).toMatch(/the handler failed/);
  });

  it('StreamConsumer - a frame the decoder marked invalid fails the stream', () => {
    const s = harness(8);
    const invalid = new ProtocolError('too much metadata', { field: 'metadata' });
    s.stream.receive(frame({ signal: StreamSignal.Next, data: 1, invalid }));
    expect(s.events).toEqual([
      { kind: 'leave', cancel: false },
      { kind: 'error', error: invalid },
    ]);
  });

  it('StreamConsumer - a value that does not decode fails the stream and cancels it', () => {
    const bad = new CodecError('cannot decode');
    const s = harness(8, 8, (message) => (Buffer.from(message.payload).toString() === '2' ? bad : undefined));
    s.stream.receive(next(1));
    s.stream.receive(next(2));
    s.stream.receive(next(3));
    expect(s.events).toEqual([
      { kind: 'next', data: 1 },
      { kind: 'leave', cancel: true },
      { kind: 'error', error: bad },
    ]);
  });

  it('StreamConsumer - values decoded as promises are delivered in the order of their frames, and the end after them', async () => {
    const pending = new Map([
      ['0', deferred<Decoded>()],
      ['2', deferred<Decoded>()],
    ]);
    const s = harness(8, 8, (message) => pending.get(Buffer.from(message.payload).toString())?.promise);
    s.stream.receive(next(0));
    s.stream.receive(next(1));
    s.stream.receive(next(2));
    s.stream.receive(next(3));
    s.stream.receive(complete());
    expect(s.events).toEqual([{ kind: 'leave', cancel: false }]);
    pending.get('2')?.resolve({ data: 2, metadata: new Map() });
    await settle();
    expect(s.events).toEqual([{ kind: 'leave', cancel: false }]);
    pending.get('0')?.resolve({ data: 0, metadata: new Map() });
    await settle();
    expect(s.events).toEqual([
      { kind: 'leave', cancel: false },
      { kind: 'next', data: 0 },
      { kind: 'next', data: 1 },
      { kind: 'next', data: 2 },
      { kind: 'next', data: 3 },
      { kind: 'complete' },
    ]);
  });

  it('StreamConsumer - a value decoded as a promise that fails ends the stream there, though its complete frame came meanwhile', async () => {
    const held = deferred<Decoded>();
    const bad = new CodecError('cannot decode');
    const s = harness(8, 8, (message) =>
      Buffer.from(message.payload).toString() === '1' ? held.promise : undefined,
    );
    s.stream.receive(next(0));
    s.stream.receive(next(1));
    s.stream.receive(next(2));
    s.stream.receive(complete());
    held.resolve(bad);
    await settle();
    expect(s.events).toEqual([
      { kind: 'next', data: 0 },
      { kind: 'leave', cancel: false },
      { kind: 'error', error: bad },
    ]);
  });

  it('StreamConsumer - a value decoded as a promise that fails ends the stream there: the values after it are not delivered', async () => {
    const held = deferred<Decoded>();
    const bad = new CodecError('cannot decode');
    const s = harness(8, 8, (message) =>
      Buffer.from(message.payload).toString() === '0' ? held.promise : undefined,
    );
    s.stream.receive(next(0));
    s.stream.receive(next(1));
    held.resolve(bad);
    await settle();
    s.stream.receive(next(2));
    expect(s.events).toEqual([
      { kind: 'leave', cancel: true },
      { kind: 'error', error: bad },
    ]);
  });

  it('StreamConsumer - demand mode: no credit is granted by itself; each grant is passed on', () => {
    const s = harness(0, 2);
    s.stream.receive(next(1));
    s.stream.receive(next(2));
    expect(s.of('grant')).toEqual([]);
    expect(s.stream.grant(3)).toBeUndefined();
    expect(s.of('grant')).toEqual([{ kind: 'grant', credit: 3 }]);
    for (let i = 3; i <= 5; i++) s.stream.receive(next(i));
    expect(s.of('next')).toHaveLength(5);
    expect(s.of('error')).toEqual([]);
    s.stream.receive(next(6));
    expect(s.of('error')).toEqual([{ kind: 'error', error: expect.any(ProtocolError) }]);
  });

  it('StreamConsumer - demand mode: a grant of 0, a fraction, NaN or one past 2^31-1 outstanding fails the stream with a RangeError', () => {
    for (const [first, credit] of [
      [0, 0],
      [0, 1.5],
      [0, -1],
      [0, Number.NaN],
      [MAX_STREAM_CREDIT - 1, 2],
      [0, MAX_STREAM_CREDIT + 1],
    ] as const) {
      const s = harness(0, first);
      const error = s.stream.grant(credit);
      expect(error, `grant ${credit} on ${first}`).toBeInstanceOf(RangeError);
      expect(s.events).toEqual([
        { kind: 'leave', cancel: true },
        { kind: 'error', error },
      ]);
      // Over: later grants and frames do nothing.
      expect(s.stream.grant(1)).toBeUndefined();
      s.stream.receive(next(1));
      expect(s.events).toHaveLength(2);
    }
    const full = harness(0, MAX_STREAM_CREDIT - 1);
    expect(full.stream.grant(1)).toBeUndefined();
    expect(full.of('grant')).toEqual([{ kind: 'grant', credit: 1 }]);
  });

  it('StreamConsumer - cancel() mid-stream: it leaves once with a cancel; later frames and grants do nothing', () => {
    const s = harness(4);
    s.stream.receive(next(1));
    s.stream.cancel();
    s.stream.cancel();
    s.stream.receive(next(2));
    s.stream.receive(complete());
    expect(s.stream.grant(3)).toBeUndefined();
    expect(s.events).toEqual([
      { kind: 'next', data: 1 },
      { kind: 'leave', cancel: true },
    ]);
  });

  it('StreamConsumer - cancel() while values are being decoded: none of them, nor the end, is delivered', async () => {
    const held = deferred<Decoded>();
    const s = harness(8, 8, (message) =>
      Buffer.from(message.payload).toString() === '0' ? held.promise : undefined,
    );
    s.stream.receive(next(0));
    s.stream.receive(next(1));
    s.stream.receive(complete());
    // The last frame came: the stream has left already, so the cancel tells no one.
    expect(s.events).toEqual([{ kind: 'leave', cancel: false }]);
    s.stream.cancel();
    held.resolve({ data: 0, metadata: new Map() });
    await settle();
    expect(s.events).toEqual([{ kind: 'leave', cancel: false }]);
  });

  it('StreamConsumer - cancel() before the decode of a failing value: the error is not delivered either', async () => {
    const held = deferred<Decoded>();
    const s = harness(8, 8, () => held.promise);
    s.stream.receive(next(0));
    s.stream.cancel();
    held.resolve(new CodecError('cannot decode'));
    await settle();
    expect(s.events).toEqual([{ kind: 'leave', cancel: true }]);
  });

  it('StreamConsumer - cancel() after a value past the credit failed the stream: no second leave', () => {
    const s = harness(0, 0);
    s.stream.receive(next(0));
    s.stream.cancel();
    expect(s.events).toEqual([
      { kind: 'leave', cancel: true },
      { kind: 'error', error: expect.any(ProtocolError) },
    ]);
  });

  it('StreamConsumer - a grant after the stream ended is ignored', () => {
    const s = harness(0, 1);
    s.stream.receive(complete());
    expect(s.stream.grant(5)).toBeUndefined();
    expect(s.of('grant')).toEqual([]);
  });
});
