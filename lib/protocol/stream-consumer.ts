import { ProtocolError, type RpcError } from '../errors/index.js';
import { MAX_STREAM_CREDIT, MessageStatus, MetadataKey, StreamSignal } from './constants.js';
import type { Message } from './message.js';

/** One value of a stream as the consumer delivers it: its data and its frame's metadata. */
export interface StreamValue {
  readonly data: unknown;
  readonly metadata: Message['metadata'];
}

/** What a {@link StreamConsumer} does through its connection and its subscriber. */
export interface StreamConsumerHooks {
  /** Decodes a frame: its reply, its error, or a promise of either (inflated off the event loop). */
  decode(frame: Message): StreamValue | RpcError | Promise<StreamValue | RpcError>;
  /** Sends a credit notice of `credit` more values. */
  grant(credit: number): void;
  /** The stream's last frame came (or it failed): it leaves the connection; `cancel` tells the server to stop. */
  leave(cancel: boolean): void;
  next(reply: StreamValue): void;
  complete(): void;
  error(error: RpcError | Error): void;
}

/**
 * The reading side of one stream of replies: delivers each value in order (those inflated off
 * the event loop too), counts the credit the server has, and grants more.
 *
 * With a `window`, the first credit is the window and, each time half of it has been delivered
 * to the subscriber, that half is granted again: the server runs at most a window ahead of what
 * the subscriber has taken. With a window of 0 the caller grants credit itself ({@link grant}).
 *
 * A frame marked `next` is one value; `complete` ends the stream; an error reply fails it; an
 * unmarked reply (a Go peer's, or a handler that returned one value) is the one value, and ends
 * it. A `next` past the credit granted fails the stream with a ProtocolError and cancels it.
 */
export class StreamConsumer {
  /** Values the server may still send. */
  private outstanding: number;
  /** Values delivered since the last grant (window mode). */
  private consumed = 0;
  private decoding = 0;
  private tail: Promise<void> = Promise.resolve();
  /** The last frame came, or the stream failed: later frames are ignored. */
  private over = false;
  /** The subscriber was given an error. */
  private failed = false;
  private readonly half: number;

  constructor(
    private readonly hooks: StreamConsumerHooks,
    /** The credit window; 0 when the caller grants credit itself. */
    private readonly window: number,
    firstCredit: number,
  ) {
    this.outstanding = firstCredit;
    this.half = Math.max(1, Math.ceil(window / 2));
  }

  /** Takes one frame of the stream's call. */
  receive(frame: Message): void {
    if (this.over) return;
    if (frame.status !== MessageStatus.Normal || frame.invalid) {
      this.last(frame, false);
      return;
    }
    const signal = frame.metadata.get(MetadataKey.Stream);
    if (signal === StreamSignal.Next) {
      if (this.outstanding === 0) {
        this.fail(
          new ProtocolError('the server sent a stream value past the credit granted to it', {
            field: 'stream',
            details: { seq: String(frame.seq) },
          }),
        );
        return;
      }
      this.outstanding--;
      this.deliver(frame, false);
      return;
    }
    if (signal === StreamSignal.Complete) {
      this.over = true;
      this.hooks.leave(false);
      this.inOrder(() => {
        if (!this.failed) this.hooks.complete();
      });
      return;
    }
    // One ordinary reply: a Go peer, or a handler of ours that returned one value.
    this.last(frame, true);
  }

  /**
   * Grants `credit` more values (the caller's own demand).
   *
   * @returns the error that failed the stream when `credit` is not a positive integer or takes
   * the outstanding credit past 2^31-1; else `undefined`.
   */
  grant(credit: number): Error | undefined {
    if (this.over) return undefined;
    const error = badDemand(credit, this.outstanding);
    if (error !== undefined) {
      this.fail(error);
      return error;
    }
    this.outstanding += credit;
    this.hooks.grant(credit);
    return undefined;
  }

  /**
   * The reader gives up: later frames are ignored, and the other side is told to stop
   * (`leave(true)`). Nothing is delivered after it.
   */
  cancel(): void {
    this.failed = true;
    if (this.over) return;
    this.over = true;
    this.hooks.leave(true);
  }

  /** A frame that ends the stream: an error reply, or one ordinary reply. */
  private last(frame: Message, value: boolean): void {
    this.over = true;
    this.hooks.leave(false);
    this.deliver(frame, value);
  }

  private deliver(frame: Message, value: boolean): void {
    const result = this.hooks.decode(frame);
    const last = this.over;
    if (this.decoding === 0 && !(result instanceof Promise)) {
      this.emit(result, last, value);
      return;
    }
    this.decoding++;
    this.tail = Promise.all([this.tail, result]).then(([, ready]) => {
      this.decoding--;
      this.emit(ready, last, value);
    });
  }

  private emit(result: StreamValue | RpcError, last: boolean, value: boolean): void {
    if (this.failed) return;
    if (!(result instanceof Error)) {
      if (!last) {
        this.hooks.next(result);
        this.delivered();
        return;
      }
      if (value) this.hooks.next(result);
      this.hooks.complete();
      return;
    }
    // A value that does not decode ends the stream there, even when its last frame came
    // meanwhile: nothing after it reaches the subscriber.
    if (!this.over) {
      this.over = true;
      this.hooks.leave(true);
    }
    this.error(result);
  }

  /** One more value reached the subscriber: in window mode, half a window taken is granted again. */
  private delivered(): void {
    if (this.window === 0 || this.over) return;
    if (++this.consumed < this.half) return;
    const credit = this.consumed;
    this.consumed = 0;
    this.outstanding += credit;
    this.hooks.grant(credit);
  }

  /** Fails the stream from this side: the server is told to stop. */
  private fail(error: RpcError | Error): void {
    if (this.over) return;
    this.over = true;
    this.hooks.leave(true);
    this.inOrder(() => this.error(error));
  }

  /** The subscriber's error: the first one only, and nothing after it. */
  private error(error: RpcError | Error): void {
    if (this.failed) return;
    this.failed = true;
    this.hooks.error(error);
  }

  /** Runs `task` after the values still being decoded. */
  private inOrder(task: () => void): void {
    if (this.decoding === 0) task();
    else this.tail = this.tail.then(task);
  }
}

/**
 * Why `credit` cannot be granted on top of `outstanding`: not a positive integer, or the sum past
 * 2^31-1; `undefined` when it can.
 */
export function badDemand(credit: number, outstanding: number): RangeError | undefined {
  if (Number.isInteger(credit) && credit >= 1 && outstanding + credit <= MAX_STREAM_CREDIT) return undefined;
  return new RangeError(
    `a stream's demand must be a positive integer keeping the outstanding credit within ${MAX_STREAM_CREDIT}, got ${credit} on top of ${outstanding}`,
  );
}
