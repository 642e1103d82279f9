import { Duplex } from 'node:stream';

/**
 * What a connection needs from a byte stream: a Duplex, and a socket's `setNoDelay` and peer
 * address when it is a socket. A `net.Socket`, a `tls.TLSSocket`, and each end of an in-memory
 * pipe are byte streams.
 *
 * @example
 * ```ts
 * const frames = new FrameSocket(socket satisfies ByteStream, {}, { onMessage: console.log });
 * ```
 * @group Protocol
 */
export type ByteStream = Duplex & {
  /** Turns Nagle's algorithm off (a TCP socket); streams without it ignore the request. */
  setNoDelay?(noDelay?: boolean): unknown;
  /** The peer's address, when the stream has one. */
  readonly remoteAddress?: string | undefined;
  /** The peer's port, when the stream has one. */
  readonly remotePort?: number | undefined;
};

/** One end of a memory pipe: what it writes, the other end reads. */
class PipeEnd extends Duplex {
  peer: PipeEnd | undefined = undefined;
  /** The other end's write, held until this end's reader wants more. */
  private heldWrite: (() => void) | undefined = undefined;

  constructor() {
    // Like a socket without half-open: the peer's end of input ends this side's output too.
    super({ allowHalfOpen: false });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    if (!peer || peer.destroyed) {
      callback(new Error('the other end of the pipe is closed'));
      return;
    }
    // The writer waits while the reader's buffer is full: backpressure as on a socket.
    if (peer.push(chunk)) callback();
    else peer.heldWrite = () => callback();
  }

  override _read(): void {
    const held = this.heldWrite;
    this.heldWrite = undefined;
    held?.();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.peer?.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = undefined;
    if (peer && !peer.destroyed) peer.destroy();
    callback(error);
  }
}

/**
 * Two connected byte streams in memory, like the two ends of a socket: for a client and a server
 * in the same process (no socket, no system call). Backpressure works as on a socket; destroying
 * one end closes the other.
 *
 * @internal
 */
export function memoryPipe(): [ByteStream, ByteStream] {
  const a = new PipeEnd();
  const b = new PipeEnd();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
