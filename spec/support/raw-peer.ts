import { createServer, connect as netConnect, type Socket } from 'node:net';
import { decodeFrame, encodeMessage, FrameDecoder, type Message } from '../../lib/protocol/index.js';
import { deferred } from './deferred.js';

/** A peer that speaks frames by hand, to check what goes over the wire. */
export interface RawPeer {
  readonly socket: Socket;
  /** Frames received so far. */
  readonly received: Message[];
  /** Writes one frame (or raw bytes). */
  send(frame: Message | Uint8Array): void;
  /** Resolves with the n-th frame received (0-based), waiting for it if needed. */
  frame(index: number): Promise<Message>;
  /** Resolves once the socket closed. */
  readonly closed: Promise<void>;
  /** Closes the socket and waits for it. */
  close(): Promise<void>;
}

function wrap(socket: Socket): RawPeer {
  const received: Message[] = [];
  const waiters = new Map<number, Array<(message: Message) => void>>();
  const decoder = new FrameDecoder();
  const closed = deferred();
  socket.on('data', (chunk) => {
    for (const message of decoder.push(chunk)) {
      received.push(message);
      for (const waiter of waiters.get(received.length - 1) ?? []) waiter(message);
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => closed.resolve());
  return {
    socket,
    received,
    send(frame) {
      socket.write(frame instanceof Uint8Array ? frame : encodeMessage(frame));
    },
    frame(index) {
      const existing = received[index];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        waiters.set(index, [...(waiters.get(index) ?? []), resolve]);
        void closed.promise.then(() => reject(new Error(`socket closed before frame ${index} arrived`)));
      });
    },
    closed: closed.promise,
    async close() {
      socket.destroy();
      await closed.promise;
    },
  };
}

/** Connects a raw peer to `tcp@host:port`. */
export function rawClient(address: string): Promise<RawPeer> {
  const [host, port] = address.replace(/^tcp@/, '').split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port: Number(port) }, () => resolve(wrap(socket)));
    socket.once('error', reject);
  });
}

/** A raw server: hands each accepted connection to `onPeer`. */
export async function rawServer(
  onPeer: (peer: RawPeer) => void,
): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    onPeer(wrap(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('no address');
  return {
    address: `tcp@127.0.0.1:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A raw server that hands every request it receives (heartbeats too, oneway ones not) to
 * `respond`; `peers` are its accepted connections and `frames` every frame received. Closed by
 * the test's cleanup (`defer`).
 */
export async function replyingServer(
  defer: (cleanup: () => unknown) => void,
  respond: (message: Message, peer: RawPeer) => void,
): Promise<{ address: string; peers: RawPeer[]; frames: Message[] }> {
  const peers: RawPeer[] = [];
  const frames: Message[] = [];
  const server = await rawServer((peer) => {
    peers.push(peer);
    void (async () => {
      for (let index = 0; ; index++) {
        let message: Message;
        try {
          message = await peer.frame(index);
        } catch {
          return;
        }
        frames.push(message);
        if (message.messageType === 0 && !message.oneway) respond(message, peer);
      }
    })();
  });
  defer(() => server.close());
  return { address: server.address, peers, frames };
}

/** A request frame with defaults for every field. */
export function request(fields: Partial<Message> = {}): Message {
  return {
    magic: 0x42,
    messageType: 0,
    heartbeat: false,
    oneway: false,
    compressType: 0,
    status: 0,
    serializeType: 1,
    seq: 1n,
    servicePath: 'Echo',
    serviceMethod: 'Say',
    metadata: new Map(),
    payload: Buffer.from('"hi"'),
    ...fields,
  };
}

export { decodeFrame };
