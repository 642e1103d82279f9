// Raw `node:net` sockets for the attacks, each recording when it connected, when its first and
// last bytes left, and when it saw 'close': a server's close is measured on the attacker's side.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** One attacking socket and its timeline (performance.now() values). */
export interface Attacker {
  readonly socket: Socket;
  readonly connectedAt: number;
  /** When the first write was handed to the kernel (set by {@link send} and {@link flood}). */
  firstByteAt: number | undefined;
  /** When the latest write was handed to the kernel. */
  lastByteAt: number | undefined;
  /** When the socket saw 'close'. */
  closedAt: number | undefined;
  /** Bytes received (when reading). */
  received: number;
  /** Resolves on 'close'. */
  readonly closed: Promise<void>;
}

/** Options of {@link connectAttacker}. */
export interface AttackerOptions {
  /**
   * Read (and drop) what the server sends. Default true; false leaves it unread, so the
   * server's writes back up.
   */
  readonly read?: boolean;
  /** Called with each chunk received (when reading). */
  readonly onData?: (chunk: Buffer, attacker: Attacker) => void;
}

/** `tcp@127.0.0.1:40123` as host and port. */
export function hostPort(address: string): { host: string; port: number } {
  const match = /^(?:tcp@)?(.+):(\d+)$/.exec(address);
  if (!match) throw new Error(`not a tcp address: ${address}`);
  return { host: match[1] as string, port: Number(match[2]) };
}

/**
 * Connects one attacker.
 *
 * @throws when the connection fails before it is established.
 */
export function connectAttacker(address: string, options: AttackerOptions = {}): Promise<Attacker> {
  return new Promise((resolve, reject) => {
    const socket = connect(hostPort(address));
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      // A reset from the server is what some attacks expect: it shows as 'close'.
      socket.on('error', () => {});
      let markClosed = (): void => {};
      const closed = new Promise<void>((done) => {
        markClosed = done;
      });
      const attacker: Attacker = {
        socket,
        connectedAt: performance.now(),
        firstByteAt: undefined,
        lastByteAt: undefined,
        closedAt: undefined,
        received: 0,
        closed,
      };
      socket.once('close', () => {
        attacker.closedAt = performance.now();
        markClosed();
      });
      if (options.read ?? true) {
        socket.on('data', (chunk: Buffer) => {
          attacker.received += chunk.length;
          options.onData?.(chunk, attacker);
        });
      }
      resolve(attacker);
    });
  });
}

/**
 * Connects `count` attackers, `concurrency` dials at a time (the server's accept backlog is
 * finite). Dials that fail are counted, not thrown: a server may refuse some on purpose.
 */
export async function connectMany(
  address: string,
  count: number,
  options: AttackerOptions & {
    readonly concurrency?: number;
    readonly signal?: AbortSignal;
    readonly each?: (attacker: Attacker) => void;
  } = {},
): Promise<{ attackers: Attacker[]; failedDials: number }> {
  const attackers: Attacker[] = [];
  let failedDials = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count && !options.signal?.aborted) {
      next += 1;
      try {
        const attacker = await connectAttacker(address, options);
        attackers.push(attacker);
        options.each?.(attacker);
      } catch {
        failedDials += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(count, options.concurrency ?? 64) }, lane));
  return { attackers, failedDials };
}

/** Writes bytes and resolves once the kernel took them (or the socket failed). */
export function send(attacker: Attacker, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (attacker.socket.destroyed) {
      resolve();
      return;
    }
    attacker.firstByteAt ??= performance.now();
    attacker.socket.write(bytes, (error) => {
      // A write that failed (the socket was reset) took nothing: only one that went counts.
      if (!error) attacker.lastByteAt = performance.now();
      resolve();
    });
  });
}

/**
 * Writes frames as fast as the socket takes them until it closes or `signal` aborts.
 *
 * @returns the bytes handed to the kernel.
 */
export async function flood(
  attacker: Attacker,
  frame: () => Uint8Array,
  signal: AbortSignal,
): Promise<number> {
  const { socket } = attacker;
  let bytes = 0;
  attacker.firstByteAt ??= performance.now();
  while (!signal.aborted && !socket.destroyed) {
    const chunk = frame();
    const more = socket.write(chunk, (error) => {
      if (error) return;
      bytes += chunk.length;
      attacker.lastByteAt = performance.now();
    });
    if (!more) {
      await Promise.race([once(socket, 'drain', { signal }).catch(() => undefined), attacker.closed]);
    }
  }
  return bytes;
}

/**
 * Waits until every attacker has closed or passed its own deadline (a performance.now() value),
 * or `signal` aborts.
 *
 * @returns the attackers still open.
 */
export async function waitClosed(
  attackers: readonly Attacker[],
  deadline: (attacker: Attacker) => number,
  signal?: AbortSignal,
): Promise<Attacker[]> {
  const stop = signal
    ? new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
    : new Promise<void>(() => {});
  const timers: NodeJS.Timeout[] = [];
  await Promise.all(
    attackers.map((attacker) =>
      Promise.race([
        attacker.closed,
        stop,
        new Promise<void>((resolve) => {
          timers.push(setTimeout(resolve, Math.max(0, deadline(attacker) - performance.now())));
        }),
      ]),
    ),
  );
  for (const timer of timers) clearTimeout(timer);
  return attackers.filter((attacker) => attacker.closedAt === undefined);
}

/** Resolves true once the attacker closes, false if it is still open after `ms`. */
export async function closedWithin(attacker: Attacker, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    attacker.closed.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return closed;
}

/** Destroys every attacker and waits for their 'close'. */
export async function destroyAll(attackers: readonly Attacker[]): Promise<void> {
  for (const attacker of attackers) attacker.socket.destroy();
  await Promise.all(attackers.map((attacker) => attacker.closed));
}

/**
 * The longest time from `from(attacker)` to its close, over the attackers that closed (and
 * had a `from`), in ms; 0 when none did.
 */
export function longestUntilClose(
  attackers: readonly Attacker[],
  from: (attacker: Attacker) => number | undefined,
): number {
  let longest = 0;
  for (const attacker of attackers) {
    const start = from(attacker);
    if (attacker.closedAt !== undefined && start !== undefined)
      longest = Math.max(longest, attacker.closedAt - start);
  }
  return longest;
}

/**
 * A signal that aborts after `ms`, or as soon as `stop` does; `clear()` drops its timer. (On
 * Node 20 an `AbortSignal.timeout` inside `AbortSignal.any` can be garbage-collected before it
 * fires, leaving a wait that never ends.)
 */
export function deadlineSignal(ms: number, stop: AbortSignal): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const timer = setTimeout(abort, ms);
  stop.addEventListener('abort', abort, { once: true });
  if (stop.aborted) abort();
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      stop.removeEventListener('abort', abort);
    },
  };
}

/** The slack allowed past a timeout before a close counts as late: 1 s plus 20%. */
export function withSlack(timeoutMs: number): number {
  return Math.round(timeoutMs * 1.2 + 1_000);
}

/** An attacking connection that notes the status of the first response it reads, and when. */
export interface HttpAttacker {
  readonly attacker: Attacker;
  /** Resolves with the first response's status, or undefined when the connection closed without one. */
  readonly answered: Promise<number | undefined>;
  readonly status: number | undefined;
  readonly answeredAt: number | undefined;
}

/** Connects an {@link HttpAttacker} to `host:port`. */
export async function openHttp(address: string): Promise<HttpAttacker> {
  let head = '';
  let status: number | undefined;
  let answeredAt: number | undefined;
  let settle: (status: number | undefined) => void = () => {};
  const answered = new Promise<number | undefined>((resolve) => {
    settle = resolve;
  });
  const attacker = await connectAttacker(address, {
    onData: (chunk) => {
      if (status !== undefined) return;
      head += chunk.toString('latin1', 0, Math.min(chunk.length, 64));
      const match = /^HTTP\/1\.[01] (\d{3}) /.exec(head);
      if (match) {
        status = Number(match[1]);
        answeredAt = performance.now();
        settle(status);
      }
    },
  });
  void attacker.closed.then(() => settle(undefined));
  return {
    attacker,
    answered,
    get status() {
      return status;
    },
    get answeredAt() {
      return answeredAt;
    },
  };
}
