import { concat, defer, type Observable, of, Subject } from 'rxjs';

/**
 * Where a stream's values are written: an HTTP response, or anything with its backpressure
 * (`write` returns false while its buffer is full, `'drain'` once it has emptied).
 *
 * @internal
 */
export interface CreditSink {
  write(chunk: Uint8Array | string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * The credit of one stream, taken from the socket it is written to: the server may run `window`
 * values ahead of what the sink has taken. Values written are granted back by half a window at a
 * time, and none while the sink is full (its `write` returned false) until it drains, so an HTTP
 * client that reads slowly holds the server's producer back across both hops.
 *
 * `demand` is the stream's `demand` option: each subscription (a retry before the first value)
 * starts with a window of its own.
 *
 * @example
 * ```ts
 * const credit = new WriteCredit(response, 16);
 * backend.stream$({ ...stream, demand: credit.demand }).subscribe((reply) => credit.value(format(reply.data)));
 * ```
 * @internal
 */
export class WriteCredit {
  /** The credit grants: `window` at subscription, then what the sink has taken. */
  readonly demand: Observable<number>;
  private readonly sink: CreditSink;
  private readonly half: number;
  private readonly grants = new Subject<number>();
  /** Values written since the last grant. */
  private taken = 0;
  private waiting = false;

  /** @throws RangeError when `window` is not an integer >= 1. */
  constructor(sink: CreditSink, window: number) {
    if (!Number.isInteger(window) || window < 1)
      throw new RangeError(`window must be an integer >= 1, got ${window}`);
    this.sink = sink;
    this.half = Math.ceil(window / 2);
    this.demand = defer(() => {
      this.taken = 0;
      return concat(of(window), this.grants);
    });
  }

  /** Whether the sink is full: what is written now waits in memory until it drains. */
  get backpressured(): boolean {
    return this.waiting;
  }

  /** Writes one value of the stream, and grants credit again when the sink keeps up. */
  value(chunk: Uint8Array | string): void {
    this.taken++;
    this.write(chunk);
    this.grant();
  }

  /**
   * Writes bytes that are not a value (a keepalive comment, the end of the stream).
   *
   * @returns false when the sink is now full.
   */
  write(chunk: Uint8Array | string): boolean {
    const ok = this.sink.write(chunk);
    if (!ok && !this.waiting) {
      this.waiting = true;
      this.sink.once('drain', () => {
        this.waiting = false;
        this.grant();
      });
    }
    return ok;
  }

  private grant(): void {
    if (this.waiting || this.taken < this.half) return;
    const credit = this.taken;
    this.taken = 0;
    this.grants.next(credit);
  }
}
