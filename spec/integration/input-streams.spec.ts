import { gzipSync } from 'node:zlib';
import { concatMap, filter, firstValueFrom, from, type Observable, of, tap, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type CallContext,
  ConnectionClosedError,
  ProtocolError,
  type ProtocolErrorReason,
  SerializeType,
  type ServerEvent,
} from '../../lib/index.js';
import {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  CREDIT_METHOD,
  DEFAULT_STREAM_WINDOW,
  encodeMessage,
  type Message,
  MetadataKey,
  PHOBOS,
  StreamSignal,
} from '../../lib/protocol/index.js';
import { inputMessage, readCredit, requestMessage } from '../../lib/protocol/messages.js';
import { type Deferred, deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { type RawPeer, rawClient } from '../support/raw-peer.js';
import { recordEvents } from '../support/server-events.js';
import { startClient, startServer } from '../support/servers.js';

const { defer } = trackHandles();

/** How a handler's input ended, as the server saw it. */
interface InputOutcome {
  readonly values: unknown[];
  readonly error?: unknown;
}

/** A service whose handlers take input streams, and what they saw. */
function uploadService() {
  const probe = {
    /** Settles with how the `inspect` handler's input ended. */
    outcome: deferred<InputOutcome>() as Deferred<InputOutcome>,
    /** Resolves when a handler's input has delivered its first value. */
    first: deferred(),
    /** Resolves when a handler's ctx.signal aborted, with the reason. */
    aborted: deferred<unknown>(),
  };
  const service = {
    /** Reports how its input ended, to its caller and on the probe. */
    inspect: (values: Observable<unknown>, ctx: CallContext) => {
      ctx.signal.addEventListener('abort', () => probe.aborted.resolve(ctx.signal.reason));
      const seen: unknown[] = [];
      return new Promise<{ count: number; error?: string }>((resolve) =>
        values.subscribe({
          next: (value) => {
            seen.push(value);
            probe.first.resolve();
          },
          error: (error: unknown) => {
            probe.outcome.resolve({ values: seen, error });
            resolve({ count: seen.length, error: (error as Error).name });
          },
          complete: () => {
            probe.outcome.resolve({ values: seen });
            resolve({ count: seen.length });
          },
        }),
      );
    },
    echo: (value: unknown) => value,
  };
  return { probe, service };
}

function reasons(events: readonly ServerEvent[]): ProtocolErrorReason[] {
  return events.flatMap((event) => (event.type === 'protocol-error' ? [event.reason] : []));
}

function codes(events: readonly ServerEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'call-finished' ? [event.code] : []));
}

async function rawPeer(address: string): Promise<RawPeer> {
  const peer = await rawClient(address);
  defer(() => peer.close());
  return peer;
}

/** The call request of a raw peer whose arguments come as a stream. */
function inputRequest(seq: bigint, method: string): Message {
  return requestMessage(
    PHOBOS.magic,
    seq,
    'Upload',
    method,
    new Map([
      [MetadataKey.StreamInput, 'stream'],
      [MetadataKey.Stream, '1'],
    ]),
    new Uint8Array(0),
    SerializeType.JSON,
  );
}

/** One value of a raw peer's input stream, as JSON, gzipped when `gzip`. */
function inputValue(seq: bigint, method: string, value: unknown, gzip = false): Message {
  const json = Buffer.from(JSON.stringify(value));
  return inputMessage(
    PHOBOS,
    seq,
    'Upload',
    method,
    StreamSignal.Next,
    gzip ? gzipSync(json) : json,
    SerializeType.JSON,
    gzip ? 1 : 0,
  );
}

/** Resolves with the first frame from `index` on that `match` accepts. */
async function frameWhere(peer: RawPeer, match: (frame: Message) => boolean, index = 0): Promise<Message> {
  for (let i = index; ; i++) {
    const frame = await peer.frame(i);
    if (match(frame)) return frame;
  }
}

const isCredit = (frame: Message): boolean =>
  frame.oneway && frame.servicePath === CANCEL_SERVICE_PATH && frame.serviceMethod === CREDIT_METHOD;
const isCancel = (frame: Message): boolean =>
  frame.oneway && frame.servicePath === CANCEL_SERVICE_PATH && frame.serviceMethod === CANCEL_METHOD;
const isReply = (seq: bigint) => (frame: Message) => frame.messageType === 1 && frame.seq === seq;

/** A call on the raw connection, and its reply: the server still answers on it. */
async function echoOn(peer: RawPeer, seq: bigint, value: string): Promise<void> {
  const index = peer.received.length;
  peer.send(
    requestMessage(PHOBOS.magic, seq, 'Upload', 'echo', new Map(), Buffer.from(JSON.stringify(value)), 1),
  );
  const reply = await frameWhere(peer, isReply(seq), index);
  expect({ status: reply.status, payload: Buffer.from(reply.payload).toString() }).toEqual({
    status: 0,
    payload: JSON.stringify(value),
  });
}

describe('input streams over loopback TCP', () => {
  it('a raw peer flooding input past the credit: the handler’s input fails with a ProtocolError, a bad-stream event, a cancel notice; the connection still answers', async () => {
    const { probe, service } = uploadService();
    // Every gzipped value inflates on the thread pool: values pile up undelivered, so no credit
    // comes back for them and the flood runs past the window.
    const { server, address } = await startServer(defer, (s) => s.register('Upload', service), {
      offloadThresholdBytes: 0,
    });
    const events = recordEvents(server, defer);
    const peer = await rawPeer(address);
    peer.send(inputRequest(7n, 'inspect'));
    const credit = await frameWhere(peer, isCredit);
    expect(readCredit(credit.payload)).toEqual({ stream: 7n, credit: DEFAULT_STREAM_WINDOW });
    // One write: the server reads the frames in a few chunks, each at once.
    const flood = Array.from({ length: 2_000 }, (_, i) => encodeMessage(inputValue(7n, 'inspect', i, true)));
    peer.socket.write(Buffer.concat(flood));
    const outcome = await probe.outcome.promise;
    expect(outcome.error).toBeInstanceOf(ProtocolError);
    expect((outcome.error as ProtocolError).message).toMatch(/past the credit/);
    // The values within the credit reached the handler, in order, before the error.
    expect(outcome.values).toEqual(Array.from({ length: outcome.values.length }, (_, i) => i));
    expect(outcome.values.length).toBeLessThanOrEqual(DEFAULT_STREAM_WINDOW);
    const cancel = await frameWhere(peer, isCancel);
    expect(Buffer.from(cancel.payload).readBigUInt64BE(0)).toBe(7n);
    const reply = await frameWhere(peer, isReply(7n));
    expect(JSON.parse(Buffer.from(reply.payload).toString())).toEqual({
      count: outcome.values.length,
      error: 'ProtocolError',
    });
    expect(reasons(events)).toEqual(['bad-stream']);
    await echoOn(peer, 8n, 'still here');
    expect(server.connectionCount).toBe(1);
  });

  it('input frames for seqs that are not calls reading their input are dropped; the server goes on', async () => {
    const { probe, service } = uploadService();
    const { server, address } = await startServer(defer, (s) => s.register('Upload', service));
    const events = recordEvents(server, defer);
    const peer = await rawPeer(address);
    // No call of that seq; then a plain call in flight whose handler takes no input.
    peer.send(inputValue(99n, 'inspect', 'stray'));
    peer.send(
      inputMessage(
        PHOBOS,
        99n,
        'Upload',
        'inspect',
        StreamSignal.Complete,
        new Uint8Array(0),
        SerializeType.JSON,
      ),
    );
    await echoOn(peer, 1n, 'first');
    // A real input stream of its own is not disturbed by frames of other seqs.
    peer.send(inputRequest(2n, 'inspect'));
    await frameWhere(peer, isCredit);
    peer.send(inputValue(3n, 'inspect', 'not mine'));
    peer.send(inputValue(2n, 'inspect', 'mine'));
    peer.send(
      inputMessage(
        PHOBOS,
        2n,
        'Upload',
        'inspect',
        StreamSignal.Complete,
        new Uint8Array(0),
        SerializeType.JSON,
      ),
    );
    expect(await probe.outcome.promise).toEqual({ values: ['mine'] });
    const reply = await frameWhere(peer, isReply(2n));
    expect(JSON.parse(Buffer.from(reply.payload).toString())).toEqual({ count: 1 });
    await echoOn(peer, 4n, 'second');
    expect(reasons(events)).toEqual([]);
    expect(codes(events)).toEqual(['OK', 'OK', 'OK']);
  });

  it('a raw peer that dies mid-input: the call is aborted (ctx.signal), the handler’s input fails with ConnectionClosedError; no call left in flight', async () => {
    const { probe, service } = uploadService();
    const { server, address } = await startServer(defer, (s) => s.register('Upload', service));
    const events = recordEvents(server, defer);
    const peer = await rawPeer(address);
    peer.send(inputRequest(5n, 'inspect'));
    await frameWhere(peer, isCredit);
    peer.send(inputValue(5n, 'inspect', 'a'));
    peer.send(inputValue(5n, 'inspect', 'b'));
    await probe.first.promise;
    const closed = firstValueFrom(
      (server.events$ as Observable<ServerEvent>).pipe(filter((event) => event.type === 'connection-closed')),
    );
    await peer.close();
    await closed;
    expect(await probe.aborted.promise).toBeInstanceOf(ConnectionClosedError);
    const outcome = await probe.outcome.promise;
    expect(outcome.values).toEqual(['a', 'b']);
    expect(outcome.error).toBeInstanceOf(ConnectionClosedError);
    expect(codes(events)).toEqual(['CANCELLED']);
    expect(events.filter((event) => event.type === 'call-started')).toHaveLength(1);
    expect(server.connectionCount).toBe(0);
    // The server serves a new client.
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    expect(await client.call('Upload', 'echo', 'next one')).toBe('next one');
  });

  it('Client.call - 10,000 values of an async generator reach a slow handler whole and in order; the client never runs more than a window and one value ahead', async () => {
    const total = 10_000;
    let taken = 0;
    let produced = 0;
    let ahead = 0;
    const { address } = await startServer(defer, (s) =>
      s.register('Upload', {
        /** Takes each value from its input at once, and works through them slowly (a promise every 100). */
        collect: (values: Observable<number>) =>
          values.pipe(
            tap(() => taken++),
            concatMap((value, index) => (index % 100 === 0 ? from(Promise.resolve(value)) : of(value))),
            toArray(),
          ),
      }),
    );
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    async function* upload() {
      for (let i = 0; i < total; i++) {
        produced++;
        ahead = Math.max(ahead, produced - taken);
        yield i;
      }
    }
    const values = await client.call<number[]>('Upload', 'collect', upload(), { timeoutMs: 60_000 });
    expect(values).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(taken).toBe(total);
    expect(ahead).toBeLessThanOrEqual(DEFAULT_STREAM_WINDOW + 1);
    expect(ahead).toBeGreaterThan(1);
  });
});
