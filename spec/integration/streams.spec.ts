import { concat, finalize, firstValueFrom, NEVER, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type CallContext,
  ProtocolError,
  type ProtocolErrorReason,
  SerializeType,
  type ServerEvent,
} from '../../lib/index.js';
import { MAX_STREAM_CREDIT, MetadataKey, StreamSignal } from '../../lib/protocol/constants.js';
import type { Message } from '../../lib/protocol/message.js';
import { creditMessage, replyMessage, streamCreditOf, streamMetadata } from '../../lib/protocol/messages.js';
import { deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { type RawPeer, rawClient, replyingServer, request } from '../support/raw-peer.js';
import { nextEvent, recordEvents } from '../support/server-events.js';
import { openConnection, startClient, startServer } from '../support/servers.js';

const { defer } = trackHandles();

/** What the streaming handlers of one server did. */
function streamingServer() {
  const probe = { produced: 0, aborted: 0, stopped: 0, stop: deferred() };
  const stopped = (): void => {
    probe.stopped++;
    probe.stop.resolve();
  };
  const service = {
    /** 0, 1, 2... (`n` of them, or forever), made only as they are pulled. */
    async *count(n: number | null, ctx: CallContext) {
      ctx.signal.addEventListener('abort', () => {
        probe.aborted++;
      });
      try {
        for (let i = 0; n === null || i < n; i++) {
          probe.produced++;
          yield i;
        }
      } finally {
        stopped();
      }
    },
    /** One value, then open until cancelled. */
    hang: () => concat(of('first'), NEVER).pipe(finalize(stopped)),
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

/** A stream request of a raw peer: `credit` first. */
function streamRequest(seq: bigint, method: string, args: unknown, credit: number | string): Message {
  return request({
    seq,
    servicePath: 'Ticker',
    serviceMethod: method,
    payload: Buffer.from(JSON.stringify(args)),
    metadata: new Map([[MetadataKey.Stream, String(credit)]]),
  });
}

/** A credit notice with a payload of the peer's choosing. */
function creditNotice(seq: bigint, payload: Uint8Array): Message {
  return request({
    seq,
    oneway: true,
    servicePath: '__phobos__',
    serviceMethod: 'credit',
    serializeType: 0,
    payload,
  });
}

function creditPayload(stream: bigint, credit: number): Buffer {
  const payload = Buffer.alloc(12);
  payload.writeBigUInt64BE(stream, 0);
  payload.writeUInt32BE(credit, 8);
  return payload;
}

/** A call on the raw connection, and its reply: the server still answers on it. */
async function echoOn(peer: RawPeer, seq: bigint, value: string): Promise<void> {
  const index = peer.received.length;
  peer.send(
    request({
      seq,
      servicePath: 'Ticker',
      serviceMethod: 'echo',
      payload: Buffer.from(JSON.stringify(value)),
    }),
  );
  const reply = await peer.frame(index);
  expect({ seq: reply.seq, status: reply.status, payload: Buffer.from(reply.payload).toString() }).toEqual({
    seq,
    status: 0,
    payload: JSON.stringify(value),
  });
}

async function rawPeer(address: string): Promise<RawPeer> {
  const peer = await rawClient(address);
  defer(() => peer.close());
  return peer;
}

describe('streams over loopback TCP', () => {
  it('Client.stream - 100,000 values reach a slow reader whole and in order, the producer never more than a window ahead', async () => {
    const { probe, service } = streamingServer();
    const { address } = await startServer(defer, (server) => server.register('Ticker', service));
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    const window = 32;
    const total = 100_000;
    let read = 0;
    let ahead = 0;
    let inOrder = true;
    for await (const value of client.stream<number>('Ticker', 'count', total, { window })) {
      if (value !== read) inOrder = false;
      read++;
      ahead = Math.max(ahead, probe.produced - read);
      if (read % 100 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    expect(read).toBe(total);
    expect(inOrder).toBe(true);
    expect(probe.produced).toBe(total);
    // Made only as credit came back: at most the window beyond what was read.
    expect(ahead).toBeLessThanOrEqual(window);
    expect(ahead).toBeGreaterThan(0);
  });

  it('credit notices for streams that do not exist are dropped; the connection goes on', async () => {
    const { service } = streamingServer();
    const { server, address } = await startServer(defer, (s) => s.register('Ticker', service));
    const events = recordEvents(server, defer);
    const peer = await rawPeer(address);
    peer.send(creditMessage(0x42, 1n, 999n, 5));
    peer.send(creditMessage(0x42, 2n, 0n, MAX_STREAM_CREDIT));
    // A finished call's seq: the grant comes after its end.
    await echoOn(peer, 3n, 'a');
    peer.send(creditMessage(0x42, 4n, 3n, 1));
    await echoOn(peer, 5n, 'b');
    expect(peer.received).toHaveLength(2);
    expect(reasons(events)).toEqual([]);
  });

  it('malformed credit notices are bad-stream protocol errors; the connection and its stream go on', async () => {
    const { probe, service } = streamingServer();
    const { server, address } = await startServer(defer, (s) => s.register('Ticker', service));
    const events = recordEvents(server, defer);
    const peer = await rawPeer(address);
    peer.send(streamRequest(1n, 'count', null, 1));
    expect((await peer.frame(0)).metadata.get(MetadataKey.Stream)).toBe(StreamSignal.Next);
    for (const [seq, payload] of [
      [2n, creditPayload(1n, 1).subarray(0, 11)],
      [3n, Buffer.concat([creditPayload(1n, 1), Buffer.from([0])])],
      [4n, Buffer.alloc(0)],
      [5n, creditPayload(1n, 0)],
      [6n, creditPayload(1n, 0xffff_ffff)],
      [7n, creditPayload(1n, MAX_STREAM_CREDIT + 1)],
    ] as const) {
      peer.send(creditNotice(seq, payload));
    }
    await echoOn(peer, 8n, 'still here');
    expect(reasons(events)).toEqual(Array.from({ length: 6 }, () => 'bad-stream'));
    // None of them counted as credit: one value was sent, and one more made ahead, held.
    expect(peer.received).toHaveLength(2);
    expect(probe.produced).toBe(2);
    // A good notice afterwards is taken.
    peer.send(creditNotice(9n, creditPayload(1n, 2)));
    const [second, third] = [await peer.frame(2), await peer.frame(3)];
    expect([second, third].map((frame) => Buffer.from(frame.payload).toString())).toEqual(['1', '2']);
  });

  it('a grant past 2^31-1 outstanding fails the stream with INVALID_ARGUMENT (marked error) and a bad-stream event', async () => {
    const { probe, service } = streamingServer();
    const { server, address } = await startServer(defer, (s) => s.register('Ticker', service));
    const events = recordEvents(server, defer);
    const peer = await rawPeer(address);
    peer.send(streamRequest(1n, 'hang', null, MAX_STREAM_CREDIT));
    // One value sent: MAX - 1 outstanding. 1 more is fine, 2 more is past the limit.
    expect(Buffer.from((await peer.frame(0)).payload).toString()).toBe('"first"');
    const badStream = nextEvent(server, 'protocol-error');
    peer.send(creditMessage(0x42, 2n, 1n, 1));
    peer.send(creditMessage(0x42, 3n, 1n, 1));
    const failed = await peer.frame(1);
    expect(failed.seq).toBe(1n);
    expect(failed.status).toBe(1);
    expect(failed.metadata.get(MetadataKey.Stream)).toBe(StreamSignal.Error);
    expect(failed.metadata.get(MetadataKey.ErrorCode)).toBe('INVALID_ARGUMENT');
    expect(failed.metadata.get('__mrpc_error__')).toMatch(/credit overflow/);
    expect((await badStream).reason).toBe('bad-stream');
    await probe.stop.promise;
    expect(codes(events)).toEqual(['INVALID_ARGUMENT']);
    await echoOn(peer, 4n, 'still here');
    expect(reasons(events)).toEqual(['bad-stream']);
  });

  it('a peer that never grants more than its first credit gets that much; the server goes on serving it', async () => {
    const { probe, service } = streamingServer();
    const { server, address } = await startServer(defer, (s) => s.register('Ticker', service));
    const events = recordEvents(server, defer);
    const peer = await rawPeer(address);
    peer.send(streamRequest(1n, 'count', null, 3));
    const frames = [await peer.frame(0), await peer.frame(1), await peer.frame(2)];
    expect(frames.map((frame) => [frame.seq, frame.metadata.get(MetadataKey.Stream)])).toEqual([
      [1n, 'next'],
      [1n, 'next'],
      [1n, 'next'],
    ]);
    await echoOn(peer, 2n, 'a');
    await echoOn(peer, 3n, 'b');
    expect(peer.received).toHaveLength(5);
    // Three sent, one made ahead and held.
    expect(probe.produced).toBe(4);
    // The stream stays in flight: the two echoes finished, it did not.
    expect(codes(events)).toEqual(['OK', 'OK']);
    expect(probe.stopped).toBe(0);
  });

  it('a peer that dies mid-stream: the producer is stopped, no call is left in flight, and the server serves the next client', async () => {
    const { probe, service } = streamingServer();
    const { server, address } = await startServer(defer, (s) => s.register('Ticker', service));
    const events = recordEvents(server, defer);
    const peer = await rawClient(address);
    peer.send(streamRequest(1n, 'count', null, 4));
    await peer.frame(3);
    const closed = nextEvent(server, 'connection-closed');
    await peer.close();
    await closed;
    await probe.stop.promise;
    expect(probe.aborted).toBe(1);
    // Four sent, one made ahead and held.
    expect(probe.produced).toBe(5);
    expect(codes(events)).toEqual(['CANCELLED']);
    expect(events.filter((event) => event.type === 'call-started')).toHaveLength(1);
    expect(server.connectionCount).toBe(0);
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    expect(await client.call('Ticker', 'echo', 'next client')).toBe('next client');
  });

  it('a server that sends values past the credit: stream$ fails with ProtocolError, cancels, and the connection still calls', async () => {
    const flooder = await replyingServer(defer, (message, peer) => {
      const credit = streamCreditOf(message.metadata);
      if (credit === undefined) {
        peer.send(replyMessage(message, new Map(), message.payload));
        return;
      }
      for (let i = 0; i < credit + 3; i++)
        peer.send(replyMessage(message, streamMetadata(StreamSignal.Next), Buffer.from(String(i))));
    });
    const connection = await openConnection(defer, flooder.address, { serializeType: SerializeType.JSON });
    const values: number[] = [];
    const failure = await new Promise<unknown>((resolve) =>
      connection.stream$<number>('Flood', 'values', null, { demand: of(4) }).subscribe({
        next: (value) => values.push(value),
        error: resolve,
        complete: () => resolve(undefined),
      }),
    );
    expect(failure).toBeInstanceOf(ProtocolError);
    expect((failure as ProtocolError).field).toBe('stream');
    // The four granted, then the fifth is one too many.
    expect(values).toEqual([0, 1, 2, 3]);
    expect(await firstValueFrom(connection.call$('Flood', 'echo', 'still usable'))).toBe('still usable');
    const stream = flooder.frames.find((frame) => frame.metadata.has(MetadataKey.Stream));
    const cancel = flooder.frames.find((frame) => frame.serviceMethod === 'cancel');
    expect(cancel?.servicePath).toBe('__phobos__');
    expect(Buffer.from(cancel?.payload ?? []).readBigUInt64BE(0)).toBe(stream?.seq);
  });
});
