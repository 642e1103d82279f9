import { type AddressInfo, createServer, connect as netConnect, type Socket } from 'node:net';
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../lib/protocol/message.js';
import { FLUSH_AT_CHUNKS, FrameSocket } from '../../lib/transport/frame-socket.js';
import { memoryPipe } from '../../lib/transport/memory-pipe.js';
import { request } from '../support/raw-peer.js';
import { advanceTo } from '../support/virtual-time.js';

function frame(seq: number): Message {
  return request({ seq: BigInt(seq) });
}

/** A FrameSocket on one end of a memory pipe whose writes are counted, and the frames the other end reads. */
function pair() {
  const [near, far] = memoryPipe();
  const writes: number[] = [];
  const write = near.write.bind(near);
  near.write = ((chunk: Buffer, ...rest: never[]) => {
    writes.push(chunk.length);
    return write(chunk, ...rest);
  }) as typeof near.write;
  const sender = new FrameSocket(near, { maxMessageBytes: 1 << 20 }, { onMessage() {}, onClose() {} });
  const received: bigint[] = [];
  new FrameSocket(
    far,
    { maxMessageBytes: 1 << 20 },
    {
      onMessage: (message) => received.push(message.seq),
      onClose() {},
    },
  );
  return { sender, writes, received, close: () => sender.destroy() };
}

const tick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FrameSocket writes', () => {
  it('FrameSocket - frames sent in one tick leave in one write at its end', async () => {
    const { sender, writes, received, close } = pair();
    for (let seq = 1; seq <= 5; seq++) sender.send(frame(seq));
    expect(writes).toEqual([]);
    await tick();
    expect(writes).toHaveLength(1);
    await turn();
    expect(received).toEqual([1n, 2n, 3n, 4n, 5n]);
    close();
  });

  it('FrameSocket - a long batch is written every FLUSH_AT_CHUNKS chunks at once, the rest at the end of the tick, all in order', async () => {
    const { sender, writes, received, close } = pair();
    const count = FLUSH_AT_CHUNKS * 3 + 5;
    for (let seq = 1; seq <= count; seq++) {
      sender.send(frame(seq));
      // Written as soon as a batch is full, before the tick ends.
      expect(writes).toHaveLength(Math.floor(seq / FLUSH_AT_CHUNKS));
    }
    await tick();
    expect(writes).toHaveLength(4);
    await turn();
    expect(received).toEqual(Array.from({ length: count }, (_, index) => BigInt(index + 1)));
    close();
  });

  it('end - a peer that never closes its side is cut off after lingerMs on the given scheduler, not before', async () => {
    // A TCP peer in half-open mode: it reads the end of input and never ends its own side.
    const peers: Socket[] = [];
    const server = createServer({ allowHalfOpen: true }, (socket) => {
      peers.push(socket);
      socket.on('data', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const near = netConnect(port, '127.0.0.1');
    await new Promise((resolve) => near.once('connect', resolve));
    const scheduler = new VirtualTimeScheduler();
    const closed = new Promise<Error | undefined>((resolve) => {
      const frames = new FrameSocket(
        near,
        { maxMessageBytes: 1 << 20, scheduler },
        { onMessage() {}, onClose: resolve },
      );
      frames.end(1_000);
    });
    const peerSawEnd = new Promise(
      (resolve) => peers[0]?.once('end', resolve) ?? server.once('connection', (s) => s.once('end', resolve)),
    );
    await peerSawEnd;
    advanceTo(scheduler, 999);
    await turn();
    expect(near.destroyed).toBe(false);
    advanceTo(scheduler, 1_000);
    expect(near.destroyed).toBe(true);
    expect(await closed).toBeUndefined();
    for (const peer of peers) peer.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  it('a peer that ends its side - its last frames arrive, then the close is reported at its end of input, not a turn later at close', async () => {
    const server = createServer((socket) => {
      // One frame, then the end of this side.
      const peer = new FrameSocket(socket, { maxMessageBytes: 1 << 20 }, { onMessage() {}, onClose() {} });
      peer.send(frame(7));
      peer.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const near = netConnect(port, '127.0.0.1');
    await new Promise((resolve) => near.once('connect', resolve));
    const seen: string[] = [];
    const frames = new FrameSocket(
      near,
      { maxMessageBytes: 1 << 20 },
      {
        onMessage: (message) => seen.push(`frame ${message.seq}`),
        onClose: (error) => seen.push(`closed ${error?.message ?? 'cleanly'}`),
      },
    );
    // Listeners run in the order added: this one runs right after the FrameSocket's own.
    const atEnd = new Promise<{ open: boolean; seen: string[] }>((resolve) =>
      near.once('end', () => resolve({ open: frames.open, seen: [...seen] })),
    );
    const atClose = new Promise<number>((resolve) => near.once('close', () => resolve(seen.length)));
    expect(await atEnd).toEqual({ open: false, seen: ['frame 7', 'closed cleanly'] });
    // Reported once: the socket's close adds nothing.
    expect(await atClose).toBe(2);
    await new Promise((resolve) => server.close(resolve));
  });
});
