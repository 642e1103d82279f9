import { isObservable, type Observable, Subscription } from 'rxjs';
import { MAX_STREAM_CREDIT } from './constants.js';
import type { Message } from './message.js';

/** What a stream's producer needs from its side of the call: its frames, encoded and sent in order. */
export interface StreamOutput {
  /** The `next` frame of one value; a promise when it is compressed off the event loop. Throws when the value does not encode. */
  next(value: unknown): Message | Promise<Message>;
  /**
   * Sends a frame (a `next` one). Returns false when the transport takes no more for now: the
   * producer then holds its values (an iterator is not pulled) until {@link StreamProducer.resume}.
   */
  send(frame: Message): boolean | undefined;
  /** Ends the call with the `complete` frame. */
  complete(): void;
  /** Ends the call with an error frame for `error`; `code` when the server itself ends it. */
  fail(error: unknown, code?: 'RESOURCE_EXHAUSTED' | 'INVALID_ARGUMENT'): void;
}

/** What a streaming handler may return: an Observable (pushed), or an async iterable (pulled). */
export type StreamSource = Observable<unknown> | AsyncIterable<unknown>;

/**
 * Whether a handler's result is something it streams: an Observable, or an async iterable
 * (an async generator) that is not also a thenable.
 */
export function isStreamSource(result: unknown): result is StreamSource {
  return isObservable(result) || isAsyncIterable(result);
}

/** Whether `value` has a `Symbol.asyncIterator` method. */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/**
 * The producing side of one stream (a server's replies, or a caller's input): sends a source's
 * values as the other side grants credit, never more.
 *
 * An Observable cannot be paused: what it emits past the credit waits in a queue of at most
 * `maxBacklog` values, and one more ends the stream (`RESOURCE_EXHAUSTED`). An async iterable is
 * pulled one value per credit, and one value ahead (which waits for the next grant), so it never
 * gets further ahead and its end is seen as soon as its last value has gone. Frames leave in the order of the values,
 * those compressed off the event loop included; the end (complete or error) follows the last.
 */
export class StreamProducer {
  private credit: number;
  private readonly queue: unknown[] = [];
  /** The source ended (`complete`, or the error to end with) while values still waited. */
  private ending: { readonly error?: unknown; readonly failed: boolean } | undefined = undefined;
  private stopped = false;
  private iterator: AsyncIterator<unknown> | undefined = undefined;
  /** The subscription to an Observable source. */
  private source: Subscription | undefined = undefined;
  private pulling = false;
  /** The transport takes no more for now: nothing is sent or pulled until `resume()`. */
  private blocked = false;
  /** Frames being compressed: later frames wait for them, so the order holds. */
  private encoding = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    credit: number,
    private readonly maxBacklog: number,
    private readonly output: StreamOutput,
  ) {
    this.credit = credit;
  }

  /**
   * Starts producing from `source`. The subscription it returns stops the stream: the
   * Observable unsubscribed, the iterator's `return()` called.
   */
  start(source: StreamSource): Subscription {
    const subscription = new Subscription(() => this.stop());
    if (isObservable(source)) {
      this.source = source.subscribe({
        next: (value) => this.push(value),
        error: (error: unknown) => this.end({ error, failed: true }),
        complete: () => this.end({ failed: false }),
      });
      // It may have stopped while subscribing (a synchronous source past the backlog).
      if (this.stopped) this.source.unsubscribe();
    } else {
      try {
        this.iterator = source[Symbol.asyncIterator]();
      } catch (error) {
        this.finish({ error, failed: true });
        return subscription;
      }
      this.pull();
    }
    return subscription;
  }

  /**
   * Adds `credit` values the caller takes.
   *
   * @returns an error message when the grant takes the outstanding credit past 2^31-1 (the
   * stream is then ended with it), else `undefined`.
   */
  grant(credit: number): string | undefined {
    if (this.stopped) return undefined;
    if (this.credit + credit > MAX_STREAM_CREDIT) {
      const why = `credit overflow: ${credit} more values granted on top of ${this.credit} outstanding, past the ${MAX_STREAM_CREDIT} a stream may have`;
      this.abort(new Error(why), 'INVALID_ARGUMENT');
      return why;
    }
    this.credit += credit;
    this.flush();
    return undefined;
  }

  /** The transport takes frames again: what waited is sent, the iterator pulled. */
  resume(): void {
    if (!this.blocked) return;
    this.blocked = false;
    this.flush();
  }

  /** Sends what waits in the queue while credit and the transport allow; then ends or pulls. */
  private flush(): void {
    while (this.credit > 0 && this.queue.length > 0 && !this.stopped && !this.blocked) {
      this.credit--;
      this.send(this.queue.shift());
    }
    if (this.queue.length === 0 && this.ending) this.finish(this.ending);
    else if (this.iterator) this.pull();
  }

  private push(value: unknown): void {
    if (this.stopped) return;
    if (this.credit > 0 && this.queue.length === 0 && !this.blocked) {
      this.credit--;
      this.send(value);
      return;
    }
    if (this.queue.length >= this.maxBacklog) {
      this.abort(
        new Error(
          `the stream's Observable emitted more than ${this.maxBacklog} values ahead of the caller's credit (maxStreamBacklog); return an async iterable to be pulled at the caller's pace`,
        ),
        'RESOURCE_EXHAUSTED',
      );
      return;
    }
    this.queue.push(value);
  }

  private end(ending: { readonly error?: unknown; readonly failed: boolean }): void {
    if (this.stopped) return;
    if (this.queue.length > 0) this.ending = ending;
    else this.finish(ending);
  }

  /**
   * Pulls the iterator while there is credit, one value at a time, and one value ahead when
   * there is none: that value waits for the next grant, and an iterator whose last value was just
   * sent is found done (and the stream completed) without waiting for credit it does not need.
   */
  private pull(): void {
    const iterator = this.iterator;
    if (iterator === undefined || this.pulling || this.stopped || this.blocked) return;
    if (this.credit === 0 && this.queue.length > 0) return;
    this.pulling = true;
    const ended = (ending: { readonly error?: unknown; readonly failed: boolean }): void => {
      this.pulling = false;
      this.iterator = undefined;
      this.end(ending);
    };
    let pulled = 0;
    const step = (): void => {
      if (this.stopped) {
        this.pulling = false;
        return;
      }
      let next: Promise<IteratorResult<unknown>>;
      try {
        next = Promise.resolve(iterator.next());
      } catch (error) {
        ended({ error, failed: true });
        return;
      }
      next.then(
        (result) => {
          if (this.stopped) return;
          if (result.done) {
            ended({ failed: false });
            return;
          }
          if (this.credit > 0 && this.queue.length === 0 && !this.blocked) {
            this.credit--;
            this.send(result.value);
          } else this.queue.push(result.value);
          if (this.stopped || this.blocked || (this.credit === 0 && this.queue.length > 0)) {
            this.pulling = false;
            return;
          }
          // An iterator that never waits for I/O would hold the event loop for as long as it has
          // credit (its steps are all microtasks): every 64 values, the loop turns.
          if (++pulled % 64 === 0) setImmediate(step);
          else step();
        },
        (error: unknown) => {
          if (!this.stopped) ended({ error, failed: true });
        },
      );
    };
    step();
  }

  /** Encodes and sends one value, after any frame still being compressed. */
  private send(value: unknown): void {
    let frame: Message | Promise<Message>;
    try {
      frame = this.output.next(value);
    } catch (error) {
      this.abort(error);
      return;
    }
    if (this.encoding === 0 && !(frame instanceof Promise)) {
      if (this.output.send(frame) === false) this.blocked = true;
      return;
    }
    this.encoding++;
    this.tail = Promise.all([this.tail, frame]).then(
      ([, ready]) => {
        this.encoding--;
        if (!this.stopped && this.output.send(ready) === false) this.blocked = true;
      },
      (error: unknown) => {
        this.encoding--;
        if (!this.stopped) this.abort(error);
      },
    );
  }

  /** Ends the call once the frames before the end have left. */
  private finish(ending: { readonly error?: unknown; readonly failed: boolean }): void {
    if (this.stopped) return;
    const end = (): void => {
      if (this.stopped) return;
      // The last frame: nothing follows it (a later grant finds the stream over).
      this.stopped = true;
      if (ending.failed) this.output.fail(ending.error);
      else this.output.complete();
    };
    if (this.encoding === 0) end();
    else this.tail.then(end);
  }

  /**
   * Ends the stream from this side (a value that does not encode, the backlog, a grant past the
   * limit): it stops at once, so no frame follows the error, even before its owner unsubscribes
   * (a synchronous Observable still emitting inside `start`).
   */
  private abort(error: unknown, code?: 'RESOURCE_EXHAUSTED' | 'INVALID_ARGUMENT'): void {
    this.stop();
    this.output.fail(error, code);
  }

  /**
   * Stops producing (as unsubscribing what {@link StreamProducer.start} returned does): the call
   * is over, or the consumer asked to stop; nothing more is sent, not even an end.
   */
  stop(): void {
    this.source?.unsubscribe();
    if (this.stopped) return;
    this.stopped = true;
    this.queue.length = 0;
    const iterator = this.iterator;
    this.iterator = undefined;
    if (iterator?.return) {
      try {
        Promise.resolve(iterator.return()).catch(() => {});
      } catch {
        // The iterator's own return() threw: it is dropped all the same.
      }
    }
  }
}
