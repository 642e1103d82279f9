// The server under attack, in its own process (`node --expose-gc --import tsx`, see
// server-child.ts): a Server from dist with the options of argv[2] (a ServerConfig as JSON),
// serving Echo, Slow, Stream, Hostile, Push and Emitter. Over its IPC channel it sends
// { type: 'ready', address } once listening, answers { type: 'stats', id, gc } with its figures,
// reports an uncaught exception as { type: 'crash' } before dying, and exits on { type: 'exit' }
// or when the parent goes away.
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Observable, throwError } from 'rxjs';
import type { CallContext, ServerOptions } from '../../lib/index.js';
import {
  type FromServer,
  HOSTILE_VALUES,
  type HostileValue,
  type ServerConfig,
  type ServerStats,
  type ToServer,
} from './messages.js';
import { phobos } from './phobos.js';

const send = (message: FromServer, then?: () => void): void => {
  process.send?.(message, undefined, {}, () => then?.());
};

process.on('uncaughtException', (error: unknown) => {
  const text = describe(error);
  process.stderr.write(`[chaos server ${process.pid}] uncaught: ${text}\n`);
  // Exit even if the channel is gone; the parent sees the exit code either way.
  setTimeout(() => process.exit(70), 500).unref();
  send(
    {
      type: 'crash',
      error: text
        .split('\n')
        .slice(0, 2)
        .map((line) => line.trim())
        .join(' '),
    },
    () => process.exit(70),
  );
});

const config = JSON.parse(process.argv[2] ?? '{}') as ServerConfig;
const counters = {
  warnings: 0,
  handlerRuns: 0,
  unauthorizedRuns: 0,
  slowStarted: 0,
  slowAborted: 0,
  pushesAccepted: 0,
  pushesRefused: 0,
  streamsStarted: 0,
  streamsEnded: 0,
  streamValues: 0,
};

const options: Record<string, unknown> = {
  ...config.options,
  logger: {
    warn: () => {
      counters.warnings += 1;
    },
  },
};
if (config.auth !== undefined) {
  const expected = config.auth;
  options.authorize = (token: string | undefined) => token === expected;
}
const server = new phobos.Server(options as ServerOptions);
const protocolErrors: Record<string, number> = {};
if (config.countProtocolErrors) {
  server.events$.subscribe((event) => {
    if (event.type === 'protocol-error')
      protocolErrors[event.reason] = (protocolErrors[event.reason] ?? 0) + 1;
  });
}

server.register('Echo', {
  Say(args: unknown, ctx: CallContext) {
    counters.handlerRuns += 1;
    if (config.auth !== undefined && ctx.metadata.get('__AUTH') !== config.auth)
      counters.unauthorizedRuns += 1;
    return args;
  },
});

server.register('Slow', {
  Wait(args: { ms?: number } | undefined, ctx: CallContext) {
    counters.handlerRuns += 1;
    counters.slowStarted += 1;
    return new Promise((resolve, reject) => {
      const signal = ctx.signal;
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(args);
      }, args?.ms ?? 0);
      const onAbort = (): void => {
        clearTimeout(timer);
        counters.slowAborted += 1;
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  },
});

server.register('Push', {
  async Flood(args: { count: number; bytes: number }, ctx: CallContext) {
    counters.handlerRuns += 1;
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < args.count && ctx.connection.isOpen && !ctx.signal.aborted; i += 1) {
      // A fresh payload per push, as a real stream would send: a server that queues what the
      // peer does not read holds every one of them.
      if (ctx.push('Push', 'Frame', Buffer.alloc(args.bytes, i & 0xff), { serializeType: 0 })) {
        accepted += 1;
        counters.pushesAccepted += 1;
      } else if (ctx.connection.isOpen) {
        refused += 1;
        counters.pushesRefused += 1;
      }
      // Let the socket write, and timers fire, as an async producer would.
      if (i % 64 === 63) await nextTurn();
    }
    return { accepted, refused };
  },
});

server.register('Stream', {
  // Values of `bytes` each, `count` of them or forever, made only as the caller's credit pulls.
  async *Flood(args: { bytes?: number; count?: number } | undefined) {
    counters.handlerRuns += 1;
    counters.streamsStarted += 1;
    const pad = 'x'.repeat(args?.bytes ?? 0);
    try {
      for (let n = 0; args?.count === undefined || n < args.count; n += 1) {
        counters.streamValues += 1;
        yield { n, pad };
      }
    } finally {
      counters.streamsEnded += 1;
    }
  },
});

server.register('Hostile', hostileService());

/** A service whose own method is Ping; everything else on it is inherited from EventEmitter. */
class Emitter extends EventEmitter {
  Ping(): string {
    counters.handlerRuns += 1;
    return 'pong';
  }
}
server.register('Emitter', new Emitter());

const address = await server.listen(config.address ?? 'tcp@127.0.0.1:0');
send({ type: 'ready', address });

let exiting = false;
const exit = (): void => {
  if (exiting) return;
  exiting = true;
  setTimeout(() => process.exit(0), 2_000).unref();
  void server.shutdown({ graceMs: 0 }).finally(() => process.exit(0));
};
process.on('message', (message: ToServer) => {
  if (message.type === 'exit') exit();
  else if (message.type === 'stats') send({ type: 'stats', id: message.id, stats: stats(message.gc) });
});
process.on('disconnect', exit);

function stats(gc: boolean): ServerStats {
  if (gc) {
    // Twice: the first pass may only queue finalizers whose objects the second frees.
    globalThis.gc?.();
    globalThis.gc?.();
  }
  return {
    rssBytes: vmRssBytes(),
    fds: readdirSync('/proc/self/fd').length,
    heapBytes: process.memoryUsage().heapUsed,
    connections: server.connectionCount,
    ...counters,
    protocolErrors: { ...protocolErrors },
  };
}

function vmRssBytes(): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/**
 * Hostile.<Way><Value>: each hostile value thrown, rejected, returned and errored by an
 * Observable; plus a thenable whose `then` throws.
 */
function hostileService(): Record<string, (args: unknown, ctx: CallContext) => unknown> {
  const values: Record<HostileValue, () => unknown> = {
    RevokedProxy: () => {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    },
    NullProto: () => {
      const value = Object.create(null) as Record<string, unknown>;
      value.big = 2n ** 70n;
      value.self = value;
      return value;
    },
    ThrowingGetters: () =>
      Object.defineProperties(
        {},
        Object.fromEntries(
          ['message', 'name', 'stack', 'code', 'toJSON', 'toString', 'then', 'cause', 'details'].map(
            (key) => [key, { enumerable: true, get: () => hostileThrow(`getter ${key}`) }],
          ),
        ),
      ),
    TrapProxy: () =>
      new Proxy(
        {},
        {
          get: (_target, key) => hostileThrow(`get ${String(key)}`),
          has: () => hostileThrow('has'),
          ownKeys: () => hostileThrow('ownKeys'),
          getPrototypeOf: () => hostileThrow('getPrototypeOf'),
          getOwnPropertyDescriptor: () => hostileThrow('getOwnPropertyDescriptor'),
        },
      ),
    Symbol: () => Symbol('hostile'),
    BigInt: () => 2n ** 70n,
  };
  const methods: Record<string, (args: unknown, ctx: CallContext) => unknown> = {};
  const run = (): void => {
    counters.handlerRuns += 1;
  };
  for (const name of HOSTILE_VALUES) {
    const make = values[name];
    methods[`Throw${name}`] = () => {
      run();
      throw make();
    };
    methods[`Reject${name}`] = () => {
      run();
      return Promise.reject(make());
    };
    methods[`Return${name}`] = () => {
      run();
      return make();
    };
    methods[`Error${name}`] = () => {
      run();
      return throwError(make);
    };
    methods[`Emit${name}`] = () => {
      run();
      return new Observable((subscriber) => subscriber.next(make()));
    };
  }
  methods.ReturnBadThenable = () => {
    run();
    return {
      // biome-ignore lint/suspicious/noThenProperty: the hostile value under test is a thenable.
      then() {
        throw new Error('then threw');
      },
    };
  };
  methods.ResolveBadThenable = () => {
    run();
    return Promise.resolve({
      // biome-ignore lint/suspicious/noThenProperty: the hostile value under test is a thenable.
      then() {
        throw new Error('then threw');
      },
    });
  };
  return methods;
}

function hostileThrow(what: string): never {
  throw new Error(`hostile ${what}`);
}

/** Says what was thrown, even when the thrown value throws at every touch. */
function describe(value: unknown): string {
  try {
    return value instanceof Error ? (value.stack ?? value.message) : String(value);
  } catch {
    return `an unprintable ${typeof value}`;
  }
}
