// A TCP server on a free loopback port that plays a script on each connection, reading and
// writing bytes by hand: a Go server's frames byte for byte, or garbage.
import { createServer, type Socket } from 'node:net';

/** One accepted connection, read by byte count or by frame. */
export interface PeerConnection {
  readonly socket: Socket;
  /** Resolves with the next `count` bytes (rejects if the socket closes first). */
  read(count: number): Promise<Buffer>;
  /** Resolves with the next whole frame: its 16-byte prefix and the length it announces. */
  readFrame(): Promise<Buffer>;
  /** Writes bytes. */
  write(bytes: Uint8Array): void;
}

/** A listening scripted peer. */
export interface ScriptedPeer {
  /** `tcp@127.0.0.1:<port>`. */
  readonly address: string;
  /** Errors the scripts threw (a script that fails makes its test fail through this). */
  readonly failures: unknown[];
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1:0 and runs `script` for each connection. */
export async function scriptedPeer(
  script: (connection: PeerConnection) => Promise<void> | void,
): Promise<ScriptedPeer> {
  const sockets = new Set<Socket>();
  const failures: unknown[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    Promise.resolve()
      .then(() => script(connectionOf(socket)))
      .catch((error: unknown) => {
        failures.push(error);
        socket.destroy();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('no TCP address');
  return {
    address: `tcp@127.0.0.1:${bound.port}`,
    failures,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function connectionOf(socket: Socket): PeerConnection {
  let buffered = Buffer.alloc(0);
  let closed = false;
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  socket.on('close', () => {
    closed = true;
    wake?.();
  });
  const read = async (count: number): Promise<Buffer> => {
    while (buffered.length < count) {
      if (closed) throw new Error(`the client closed the connection before sending ${count} bytes`);
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
    const bytes = buffered.subarray(0, count);
    buffered = buffered.subarray(count);
    return bytes;
  };
  return {
    socket,
    read,
    async readFrame() {
      const prefix = await read(16);
      const rest = await read(prefix.readUInt32BE(12));
      return Buffer.concat([prefix, rest]);
    },
    write(bytes) {
      socket.write(bytes);
    },
  };
}
