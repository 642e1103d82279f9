import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { describeThrown } from '../errors/describe-thrown.js';
import { ConnectionClosedError, ProtocolError } from '../errors/index.js';
import { FrameDecoder } from '../protocol/decoder.js';
import { encodeFrame } from '../protocol/encode.js';
import type { Message } from '../protocol/message.js';
import { unrefScheduler } from '../util/unref-scheduler.js';
import type { ByteStream } from './memory-pipe.js';
import type { FrameTransport } from './transport.js';

/** Batches at most this many bytes into one buffer; larger batches are written as a vector. */
/**
 * A batch of this many chunks (a frame is one or two) is written at once rather than at the end
 * of the tick, so that the peer starts on it while more are sent: with the whole tick in one
 * write, client and server take turns, each idle while the other works through the batch.
 *
 * @internal
 */
export const FLUSH_AT_CHUNKS = 32;
const CONCAT_BELOW_BYTES = 64 * 1024;

/** A socket's handle controls. */
interface Referenced {
  ref(): unknown;
  unref(): unknown;
}

/**
 * What a {@link FrameSocket} reports to its owner.
 *
 * @group Protocol
 */
export interface FrameSocketHandlers {
  /** A complete frame arrived. */
  onMessage(message: Message): void;
  /**
   * The link ended: called once, when the peer ends its side (after its last frame is delivered)
   * or the socket closes, whichever comes first. `error` says why when it was not a clean close.
   */
  onClose(error: Error | undefined): void;
  /** The socket's write buffer drained after being full. */
  onDrain?(): void;
  /**
   * A chunk of input was handled: `completed` frames were delivered from it (`bufferedBytes`
   * tells what is left of an unfinished one).
   */
  onChunk?(completed: number): void;
}

/**
 * Options of a {@link FrameSocket}.
 *
 * @group Protocol
 */
export interface FrameSocketOptions {
  /** Largest frame accepted or sent, header included. */
  readonly maxMessageBytes: number;
  /** Magic bytes accepted on input. */
  readonly magics?: readonly number[];
  /** Most metadata entries of a frame received (past it, the frame is delivered `invalid`). */
  readonly maxMetadataEntries?: number;
  /** Largest metadata section of a frame received (past it, the frame is delivered `invalid`). */
  readonly maxMetadataBytes?: number;
  /**
   * Where the linger of `end()` is scheduled. Default, and for `asyncScheduler`: `unrefScheduler`,
   * so that a closing socket never holds the process.
   */
  readonly scheduler?: SchedulerLike;
}

/**
 * The decoder of what arrives on a link opened with `options`.
 *
 * @internal
 */
export function frameDecoder(options: FrameSocketOptions): FrameDecoder {
  const { maxMessageBytes, magics, maxMetadataEntries, maxMetadataBytes } = options;
  return new FrameDecoder({
    maxMessageBytes,
    ...(magics ? { magics } : {}),
    ...(maxMetadataEntries === undefined ? {} : { maxMetadataEntries }),
    ...(maxMetadataBytes === undefined ? {} : { maxMetadataBytes }),
  });
}

/**
 * A socket that speaks frames: it decodes what arrives and coalesces what is sent.
 *
 * Frames sent during one tick leave in one write (one syscall where the kernel allows), at the
 * end of that tick, or as soon as 32 chunks (16 to 32 frames) are waiting, so that a peer busy
 * with a large batch starts on its first part while the rest is produced, instead of the two
 * sides taking turns. Once the socket has written in a turn of the event loop, frames sent in its
 * later ticks wait for the end of the turn (`setImmediate`) and leave together: a server that
 * answers many connections, or a gateway that forwards many HTTP requests, in one turn then
 * makes one write for all of them instead of one each. `writable` turns false when the socket's buffer is full, so its owner can stop
 * producing (a server pauses reading) until `onDrain`. A frame that breaks the protocol closes
 * the socket with the {@link ProtocolError} as the reason.
 *
 * @example
 * ```ts
 * const frames = new FrameSocket(socket, { maxMessageBytes: 1 << 24 }, {
 *   onMessage: (message) => console.log(message.serviceMethod),
 *   onClose: (error) => console.log('closed', error?.message),
 * });
 * frames.send(message);
 * ```
 * @group Protocol
 */
export class FrameSocket implements FrameTransport {
  /** The underlying socket. */
  readonly socket: ByteStream;
  private readonly decoder: FrameDecoder;
  private readonly maxMessageBytes: number;
  private readonly handlers: FrameSocketHandlers;
  private readonly scheduler: SchedulerLike;
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private flushScheduled = false;
  private wroteThisTurn = false;
  private readonly flushNow = (): void => this.flush();
  private readonly newTurn = (): void => {
    this.wroteThisTurn = false;
  };
  private closeReason: Error | undefined;
  private closed = false;
  private failed = false;

  constructor(socket: ByteStream, options: FrameSocketOptions, handlers: FrameSocketHandlers) {
    this.socket = socket;
    this.maxMessageBytes = options.maxMessageBytes;
    this.scheduler =
      options.scheduler === undefined || options.scheduler === asyncScheduler
        ? unrefScheduler
        : options.scheduler;
    this.decoder = frameDecoder(options);
    this.handlers = handlers;
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('drain', () => this.handlers.onDrain?.());
    socket.on('error', (error) => {
      this.closeReason ??= error;
    });
    // The peer's end of input ends the connection (the protocol has no half-close): it is
    // reported then, not at 'close' a turn or more later, so that the owner never sees a link
    // that is no longer open yet not reported closed (a call sent in between would fail at once).
    socket.on('end', this.finish);
    socket.on('close', this.finish);
  }

  /** Reports the close once: at the peer's end of input or at 'close', whichever comes first. */
  private readonly finish = (): void => {
    if (this.closed) return;
    this.closed = true;
    this.batch = [];
    this.batchBytes = 0;
    this.handlers.onClose(this.closeReason);
  };

  /** False once the socket closed or began closing. */
  get open(): boolean {
    return !this.closed && !this.socket.destroyed && this.socket.writable;
  }

  /** Bytes received and not yet delivered: the part of a frame still arriving. */
  get bufferedBytes(): number {
    return this.decoder.bufferedBytes;
  }

  /** Bytes queued to be written: frames of this tick and what the socket has not sent yet. */
  get queuedBytes(): number {
    return this.batchBytes + this.socket.writableLength;
  }

  /**
   * False while more than the socket's high-water mark waits to be written (frames queued this
   * tick included); `onDrain` follows once it is true again.
   */
  get writable(): boolean {
    return (
      !this.socket.writableNeedDrain &&
      this.batchBytes + this.socket.writableLength < this.socket.writableHighWaterMark
    );
  }

  /**
   * Queues a frame; frames queued in one tick leave together (see the class).
   *
   * @returns false when the socket is closed (nothing is sent).
   * @throws ProtocolError when the frame exceeds `maxMessageBytes`; RangeError when a header
   *   field is out of range. Nothing is queued then.
   */
  send(message: Message): boolean {
    if (!this.open) return false;
    const chunks = encodeFrame(message, this.maxMessageBytes);
    for (const chunk of chunks) {
      this.batch.push(chunk);
      this.batchBytes += chunk.length;
    }
    if (this.batch.length >= FLUSH_AT_CHUNKS) {
      this.flush();
      return true;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      if (this.wroteThisTurn) setImmediate(this.flushNow);
      else process.nextTick(this.flushNow);
    }
    return true;
  }

  /** Lets the socket hold the process open (when it is a socket). */
  ref(): void {
    (this.socket as Partial<Referenced>).ref?.();
  }

  /** Lets the process exit while this socket is all that is open (when it is a socket). */
  unref(): void {
    (this.socket as Partial<Referenced>).unref?.();
  }

  /** Stops reading from the socket (the peer's writes back up). */
  pause(): void {
    this.socket.pause();
  }

  /** Resumes reading from the socket. */
  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  /**
   * Sends what is queued, then closes the socket gracefully; destroys it if the peer has not
   * closed its side within `lingerMs`.
   */
  end(lingerMs = 2_000): void {
    if (this.closed) return;
    this.flush();
    this.socket.end();
    const timer = this.scheduler.schedule(() => this.socket.destroy(), lingerMs);
    this.socket.once('close', () => timer.unsubscribe());
  }

  /** Closes the socket at once; `reason` is reported to `onClose`. */
  destroy(reason?: Error): void {
    if (reason) this.closeReason ??= reason;
    this.batch = [];
    this.socket.destroy();
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.batch;
    if (batch.length === 0 || this.closed) return;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    if (!this.wroteThisTurn) {
      this.wroteThisTurn = true;
      setImmediate(this.newTurn);
    }
    if (batch.length === 1 || bytes < CONCAT_BELOW_BYTES) {
      this.socket.write(batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, bytes));
    } else {
      this.socket.cork();
      for (const chunk of batch) this.socket.write(chunk);
      this.socket.uncork();
    }
    // A batch over the high-water mark made the socket unwritable; if the kernel took it all at
    // once there will be no 'drain' event, so say it here.
    if (bytes >= this.socket.writableHighWaterMark && !this.socket.writableNeedDrain)
      this.handlers.onDrain?.();
  }

  private receive(chunk: Buffer): void {
    if (this.failed) return;
    let messages: Message[];
    try {
      messages = this.decoder.push(chunk);
    } catch (error) {
      this.fail(
        error instanceof ProtocolError ? error : new ConnectionClosedError(String(error), { cause: error }),
      );
      return;
    }
    let completed = 0;
    for (const message of messages) {
      if (this.closed) return;
      completed += 1;
      try {
        this.handlers.onMessage(message);
      } catch (error) {
        // A fault in the owner's handling must cost this connection, never the process.
        this.destroy(
          new ConnectionClosedError(
            `closing the connection after an internal error: ${describeThrown(error)}`,
            {
              cause: error,
            },
          ),
        );
        return;
      }
    }
    if (this.decoder.error) this.fail(this.decoder.error);
    else if (!this.closed) this.handlers.onChunk?.(completed);
  }

  /** The input broke the protocol: read no more, send the replies already queued, then close. */
  private fail(reason: Error): void {
    this.failed = true;
    this.closeReason ??= reason;
    this.socket.pause();
    this.end();
  }
}
