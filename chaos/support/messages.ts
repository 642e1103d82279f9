// What the suite's processes tell each other over their IPC channels.

/** How the parent starts a server child (argv[2], as JSON). */
export interface ServerConfig {
  /** Server options, passed through as given (options today's server does not know are ignored). */
  readonly options: Readonly<Record<string, unknown>>;
  /** When set, the server gets `authorize: (token) => token === auth`. */
  readonly auth?: string;
  /** Where to listen. Default `tcp@127.0.0.1:0`. */
  readonly address?: string;
  /**
   * Count the server's `protocol-error` events by reason (`protocolErrors` in its stats). Off by
   * default: it subscribes to `server.events$`, which makes every call emit events.
   */
  readonly countProtocolErrors?: boolean;
}

/** A server child's figures, answered to a `stats` request. */
export interface ServerStats {
  /** VmRSS from /proc/self/status. */
  readonly rssBytes: number;
  /** Entries of /proc/self/fd. */
  readonly fds: number;
  /** `process.memoryUsage().heapUsed`, after a full GC when the request asked for one. */
  readonly heapBytes: number;
  /** `server.connectionCount`. */
  readonly connections: number;
  /** Warnings the server's logger received. */
  readonly warnings: number;
  /** Handler runs of every service. */
  readonly handlerRuns: number;
  /** Echo.Say runs whose `__AUTH` token was not the one `authorize` accepts (auth servers only). */
  readonly unauthorizedRuns: number;
  /** Slow.Wait handlers started, and those whose `ctx.signal` aborted. */
  readonly slowStarted: number;
  readonly slowAborted: number;
  /** Push.Flood: `ctx.push` calls that returned true, and false while the connection was open. */
  readonly pushesAccepted: number;
  readonly pushesRefused: number;
  /** Stream.Flood handlers started and ended (their generator's `finally` ran), and the values they made. */
  readonly streamsStarted: number;
  readonly streamsEnded: number;
  readonly streamValues: number;
  /** `protocol-error` events by reason (`bad-stream`, `malformed`...), on a server that counts them. */
  readonly protocolErrors?: Readonly<Record<string, number>>;
}

/** Parent to a child process that serves (a server, a gateway). */
export type ToChild =
  | { readonly type: 'stats'; readonly id: number; readonly gc: boolean }
  | { readonly type: 'exit' };

/** A child process that serves, to its parent: where it listens, the stats asked for, a crash. */
export type FromChild<Stats> =
  | { readonly type: 'ready'; readonly address: string }
  | { readonly type: 'stats'; readonly id: number; readonly stats: Stats }
  | { readonly type: 'crash'; readonly error: string };

/** Parent to server child. */
export type ToServer = ToChild;

/** Server child to parent. */
export type FromServer = FromChild<ServerStats>;

/** What the good client calls. */
export interface GoodClientConfig {
  readonly address: string;
  /** The `auth` option of its Client. */
  readonly auth?: string;
}

/** What the good client found, sent when told to stop. */
export interface GoodClientResult {
  readonly calls: number;
  readonly failed: number;
  /** The messages of the first few failures. */
  readonly errors: readonly string[];
  readonly maxMs: number;
  readonly p99Ms: number;
}

/** Parent to good client. */
export type ToGoodClient =
  | { readonly type: 'start'; readonly config: GoodClientConfig }
  | { readonly type: 'stop' };

/** Good client to parent. */
export type FromGoodClient =
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly result: GoodClientResult };

/** The hostile values of the Hostile service; each is thrown, rejected, returned, errored and emitted. */
export const HOSTILE_VALUES = [
  'RevokedProxy',
  'NullProto',
  'ThrowingGetters',
  'TrapProxy',
  'Symbol',
  'BigInt',
] as const;
/** One of {@link HOSTILE_VALUES}. */
export type HostileValue = (typeof HOSTILE_VALUES)[number];

/** Every method of the Hostile service: `<Way><Value>`, and two bad thenables. */
export const HOSTILE_METHODS: readonly string[] = [
  ...['Throw', 'Reject', 'Return', 'Error', 'Emit'].flatMap((way) =>
    HOSTILE_VALUES.map((value) => `${way}${value}`),
  ),
  'ReturnBadThenable',
  'ResolveBadThenable',
];
