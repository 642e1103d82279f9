/**
 * Runs the tasks of many owners (a server's connections) outside the I/O callbacks that queue
 * them, a slice per turn of the event loop: round robin across owners (one task each, then the
 * next owner), until `sliceMs` of work is done, then the loop goes on to other I/O before the
 * next slice. A flood of heavy tasks from one owner neither stalls other clients' I/O for longer
 * than a slice plus one task, nor holds back another owner's tasks behind its own.
 *
 * The slice is measured with `performance.now()`, not a scheduler: it bounds work actually done
 * (CPU spent), which virtual time cannot measure. A task that throws is reported to `onError`
 * and the queue goes on.
 *
 * @example
 * ```ts
 * const queue = new TurnQueue<Socket>(10, (error) => console.warn(error));
 * queue.push(socket, () => decodeAndRun(frame));
 * ```
 * @internal
 */
export class TurnQueue<Owner> {
  private readonly sliceMs: number;
  private readonly onError: (error: unknown) => void;
  /** Each owner's tasks; the map's order is the rotation (an owner served goes to the back). */
  private readonly queues = new Map<Owner, Array<() => void>>();
  private scheduled = false;

  constructor(sliceMs: number, onError: (error: unknown) => void) {
    this.sliceMs = sliceMs;
    this.onError = onError;
  }

  /** Tasks waiting, all owners together. */
  get size(): number {
    let size = 0;
    for (const tasks of this.queues.values()) size += tasks.length;
    return size;
  }

  /** Queues a task of `owner`; it runs in a later turn of the event loop. */
  push(owner: Owner, task: () => void): void {
    const tasks = this.queues.get(owner);
    if (tasks) tasks.push(task);
    else this.queues.set(owner, [task]);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.runSlice);
  }

  private readonly runSlice = (): void => {
    const started = performance.now();
    for (const [owner, tasks] of this.queues) {
      const task = tasks.shift() as () => void;
      this.queues.delete(owner);
      if (tasks.length > 0) this.queues.set(owner, tasks);
      try {
        task();
      } catch (error) {
        this.onError(error);
      }
      if (performance.now() - started >= this.sliceMs) break;
    }
    if (this.queues.size > 0) setImmediate(this.runSlice);
    else this.scheduled = false;
  };
}
