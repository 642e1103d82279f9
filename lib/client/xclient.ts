import {
  asyncScheduler,
  catchError,
  defer,
  forkJoin,
  identity,
  isObservable,
  lastValueFrom,
  type MonoTypeOperatorFunction,
  map,
  NEVER,
  Observable,
  of,
  Subject,
  switchMap,
  take,
  tap,
} from 'rxjs';
import type { ServiceInstance } from '../discovery/service-instance.js';
import { CircuitOpenError, DeadlineExceededError, RpcError } from '../errors/index.js';
import { callTimeout } from '../operators/call-timeout.js';
import { breakOn } from '../operators/circuit-break.js';
import { failbackup } from '../operators/failbackup.js';
import { failover } from '../operators/failover.js';
import { failtry } from '../operators/failtry.js';
import { firstSuccess } from '../operators/first-success.js';
import type { RetryOptions } from '../operators/retry-attempts.js';
import type { RetryBudget } from '../operators/retry-budget.js';
import { isRetryable } from '../operators/retryable.js';
import { isStreamSource, type StreamSource } from '../protocol/stream-producer.js';
import type { CallInfo, Selector } from '../selector/selector.js';
import { unrefScheduler } from '../util/unref-scheduler.js';
import { describeValue, optionsObject } from '../util/validate.js';
import { type AttemptFailure, attemptsFailedError, isServerFailure } from './attempt-failures.js';
import { CallDeadlines } from './call-deadlines.js';
import type { ClientCallOptions } from './client.js';
import { type ResolvedConnectOptions, resolveTimeoutMs } from './connect-options.js';
import type { CallOptions, Connection, Reply, ServerPush, StreamOptions } from './connection.js';
import { ConnectionPool } from './connection-pool.js';
import { InstanceStore } from './instance-store.js';
import {
  type AttemptKind,
  type ClientHandler,
  type ClientInterceptor,
  ClientInterceptors,
  type ClientStage,
  type ClientUseOptions,
} from './interceptor.js';
import { dataOf, splitSignal, streamIterator, toPromise } from './promise-adapter.js';
import type { InstanceState, XClientEvent } from './xclient-event.js';
import { type FailMode, resolveXClientOptions, type XClientOptions } from './xclient-options.js';

/**
 * One server's outcome in {@link XClient.inform}.
 *
 * @group Client
 */
export type InformResult<T> =
  | {
      /** The server's key. */
      readonly instance: string;
      /** It answered. */
      readonly ok: true;
      /** Its decoded reply. */
      readonly data: T;
    }
  | {
      /** The server's key. */
      readonly instance: string;
      /** It failed. */
      readonly ok: false;
      /** Why. */
      readonly error: RpcError;
    };

/**
 * What one value of a method's result is: the values of an Observable or an async iterable, the
 * settled value of a promise, else the result itself.
 *
 * @group Client
 */
export type ValueOf<R> =
  R extends Observable<infer V> ? V : R extends AsyncIterable<infer V> ? V : Awaited<R>;

/**
 * A typed view of a service: each method of `T` called through the XClient. The methods named in
 * `S` (those that return an Observable or an async iterable on the server) are streams: they
 * return an Observable of every value ({@link XClient.stream$}). The others return a promise of
 * one reply (a streaming method called so gives its first value).
 *
 * @group Client
 */
export type ServiceProxy<T, S extends keyof T = never> = {
  readonly [K in keyof T]: T[K] extends (args: infer A, ...rest: never[]) => infer R
    ? K extends S
      ? (args: A, options?: StreamOptions) => Observable<ValueOf<R>>
      : (args: A, options?: ClientCallOptions) => Promise<ValueOf<R>>
    : never;
};

/**
 * The names of the methods of `T` that return an Observable or an async iterable: those a
 * {@link ServiceProxy} may call as streams.
 *
 * @group Client
 */
export type StreamingMethods<T> = {
  [K in keyof T]: T[K] extends (...args: never[]) => Observable<unknown> | AsyncIterable<unknown> ? K : never;
}[keyof T];

/**
 * The governed client of one service: finds its servers through discovery, picks one per call,
 * and survives failures by its fail mode, retries, circuit breakers and heartbeats — Go Phobos's
 * `NewXClient(service, failMode, selectMode, discovery, option)`.
 *
 * Each policy is an RxJS operator from `phobos` (`failover`, `failbackup`, `circuitBreak`,
 * `callTimeout`...) that the XClient assembles; compose them yourself for another policy.
 *
 * Every call has a deadline: its `timeoutMs`, else the client's, else 30 s
 * (`DEFAULT_CALL_TIMEOUT_MS`). A client nobody closed does not keep the process alive: its
 * sockets hold the event loop only while calls are in flight, and its heartbeat, idle and redial
 * timers never do (when no `scheduler` is given). `await using` closes it at the end of a scope.
 *
 * @example
 * ```ts
 * const client = new XClient('HelloWorld', {
 *   discovery: p2pDiscovery('tcp@127.0.0.1:8972'),
 *   failMode: 'failtry',
 *   selectMode: 'random',
 *   timeoutMs: 1_000,
 * });
 * const reply = await client.call('Greet', { First: 'budei' });
 * await client.close();
 *
 * // or closed at the end of the scope
 * await using scoped = new XClient('HelloWorld', { discovery: p2pDiscovery('tcp@127.0.0.1:8972') });
 * ```
 * @group Client
 */
export class XClient {
  /** The service this client calls. */
  readonly service: string;
  private readonly connectOptions: ResolvedConnectOptions;
  private readonly failMode: FailMode;
  private readonly selector: Selector;
  /** The fail mode's operator, built once: it holds no per-call state. */
  private readonly failOperator: MonoTypeOperatorFunction<Reply<unknown>> | undefined;
  /** The retry options of the fail mode, for streams' own fail operators. */
  private readonly retryOptions: RetryOptions;
  private readonly pool: ConnectionPool;
  /** Each server's breaker, connection and selector state, following discovery. */
  private readonly store: InstanceStore;
  /** The deadlines of calls, one operator per length (see CallDeadlines). */
  private readonly deadlines: CallDeadlines;
  /** The error of a call at its deadline: no server known yet, or the deadline itself. */
  private readonly expired = (timeoutMs: number): RpcError =>
    this.store.latest === undefined && !this.closed
      ? this.store.noServer({ waitedMs: timeoutMs })
      : new DeadlineExceededError(
          `the call to ${this.service} did not finish within its deadline of ${timeoutMs} ms; raise timeoutMs or look at the servers' latency`,
          { details: { service: this.service, timeoutMs } },
        );
  private readonly pushes = new Subject<ServerPush>();
  /** The retry rule of failover, failtry and failbackup: nothing once closed. */
  private readonly retried = (error: unknown): boolean => !this.closed && retriedByXClient(error);
  private closed = false;
  private interceptors: ClientInterceptors | undefined;
  /** The innermost handler of the call stage: the governed call. */
  private readonly governedCall: ClientHandler = (call) =>
    this.governed$(call.method, call.args, call.options);
  private readonly events = new Subject<XClientEvent>();

  /**
   * @throws TypeError when `options` is not an object or `discovery` lacks `instances$`;
   *   RangeError naming any option that is out of range (an unknown `failMode` or
   *   `selectMode`, `retries: -1`, `heartbeat: { intervalMs: 0 }`...).
   */
  constructor(service: string, options: XClientOptions) {
    if (typeof service !== 'string' || service === '') {
      throw new TypeError(`service must be a non-empty string, got ${describeValue(service)}`);
    }
    const o = resolveXClientOptions(options);
    this.service = service;
    this.connectOptions = o.connect;
    const scheduler = o.connect.scheduler;
    this.deadlines = new CallDeadlines(scheduler, o.connect.timeoutMs, this.expired);
    this.failMode = o.failMode;
    this.selector = o.selector;
    const budget = o.retryBudget && this.reporting(o.retryBudget);
    const retryOptions: RetryOptions = {
      retries: o.retries,
      ...(o.backoff ? { backoff: o.backoff } : {}),
      ...(budget ? { budget } : {}),
      shouldRetry: this.retried,
      scheduler,
    };
    this.retryOptions = retryOptions;
    this.failOperator =
      o.failMode === 'failover'
        ? failover(retryOptions)
        : o.failMode === 'failtry'
          ? failtry(retryOptions)
          : o.failMode === 'failbackup'
            ? failbackup({ delayMs: o.backupDelayMs, scheduler, shouldRetry: this.retried })
            : undefined;
    this.pool = new ConnectionPool({
      connect: options,
      idleTimeoutMs: o.idleTimeoutMs,
      heartbeat: o.heartbeat,
      redialDelayMs: o.redialDelayMs,
      // Heartbeats, idle and redial timers run in the background: they must not hold the process.
      scheduler: scheduler === asyncScheduler ? unrefScheduler : scheduler,
      onLatency: (key, ms) => {
        this.selector.observeLatency?.(key, ms);
        if (this.events.observed) this.events.next({ type: 'heartbeat', instance: key, rttMs: ms });
      },
      onConnection: (connection) => connection.pushes$.subscribe((push) => this.pushes.next(push)),
    });
    this.store = new InstanceStore(service, {
      discovery: o.discovery,
      group: o.group,
      selector: this.selector,
      breakerFactory: o.breakerFactory,
      pool: this.pool,
      events: this.events,
    });
  }

  /** Server pushes from every connection of this client. */
  get pushes$(): Observable<ServerPush> {
    return this.pushes.asObservable();
  }

  /**
   * Calls a method on one server picked by the select mode, with the fail mode's retries, and
   * emits the decoded reply. Unsubscribing cancels the call (on the server too).
   *
   * Errors with `ServiceError` (the handler failed: never retried), `DeadlineExceededError`
   * (`timeoutMs`, all attempts together; 30 s unless set), `NoInstanceError` (discovery knows no
   * usable server, or found none before the deadline: the error names the discovery and its last
   * error), `CircuitOpenError` (every server's breaker is open), `ConnectionError` /
   * `ConnectionClosedError` (retries exhausted), `ResourceExhaustedError` (every server tried was
   * busy; retried like a connection error), `UnauthenticatedError` (a server's `authorize` refused
   * the `auth` token: never retried), `CodecError`, or a RangeError/TypeError for bad arguments.
   * When attempts on servers failed before (failover, failtry, failbackup), the error
   * keeps the class and code of the last one and names every server tried with its own error,
   * listed in `details.attempts` ({@link AttemptFailure}).
   *
   * @example
   * ```ts
   * client.call$<{ Second: string }>('Greet', { First: 'budei' }).subscribe((reply) => console.log(reply.Second));
   * ```
   */
  call$<T = unknown>(method: string, args?: unknown, options?: CallOptions): Observable<T> {
    return this.callWithMetadata$<T>(method, args, options).pipe(map((reply) => reply.data));
  }

  /**
   * Like {@link XClient.call$}, with the reply's metadata.
   *
   * @example
   * ```ts
   * client.callWithMetadata$('Greet', { First: 'a' }).subscribe(({ data, metadata }) => console.log(data, metadata));
   * ```
   */
  callWithMetadata$<T = unknown>(
    method: string,
    args?: unknown,
    options?: CallOptions,
  ): Observable<Reply<T>> {
    // A call whose arguments are a stream is a stream with one reply (retried only until its
    // input has given a value: see streamWithMetadata$); interceptors wrap other calls.
    if (isStreamSource(args))
      return defer(() => {
        const o = optionsObject('call options', options);
        const timeoutMs = resolveTimeoutMs('timeoutMs', o.timeoutMs, this.connectOptions.timeoutMs);
        return this.streamWithMetadata$<T>(method, args, { ...o, timeoutMs } as StreamOptions).pipe(take(1));
      });
    const interceptors = this.interceptors;
    if (!interceptors?.has('call')) return this.governed$<T>(method, args, options);
    return defer(() => {
      const callOptions = optionsObject('call options', options);
      const whole = interceptors.chain('call', this.governedCall);
      return whole({ stage: 'call', service: this.service, method, args, options: callOptions });
    }) as Observable<Reply<T>>;
  }

  /**
   * Adds an interceptor: `stage: 'call'` (the default) wraps each logical call (selection,
   * retries, backups, backoff and the deadline inside it); `'attempt'` wraps each request to one
   * server, inside the retries and the breaker, with its `address` and whether it is the first,
   * a retry or a backup (see {@link ClientStage}). The first added is the outermost of its
   * stage; `interceptor(next)` may be called once for many calls or once per call (keep what
   * belongs to one call inside the handler it returns). `call.service` is informational: an
   * XClient calls its own service.
   *
   * @throws RangeError when `interceptor` is not a function or the stage is unknown; TypeError
   *   when `options` is not an object.
   * @example
   * ```ts
   * client.use((next) => (call) => next(withMetadata(call, { tenant: 'a' })));
   * client.use(countAttempts, { stage: 'attempt' });
   * ```
   */
  use(interceptor: ClientInterceptor, options?: ClientUseOptions): this {
    this.interceptors ??= new ClientInterceptors();
    this.interceptors.add(interceptor, options);
    return this;
  }

  /** One logical call with the fail mode's governance and the call's deadline. */
  private governed$<T>(
    method: string,
    args: unknown,
    options: CallOptions | undefined,
  ): Observable<Reply<T>> {
    return defer(() => {
      const callOptions = optionsObject('call options', options);
      const defaultTimeoutMs = this.connectOptions.timeoutMs;
      const timeoutMs = resolveTimeoutMs('timeoutMs', callOptions.timeoutMs, defaultTimeoutMs);
      const scheduler = this.connectOptions.scheduler;
      const deadline = timeoutMs > 0 ? scheduler.now() + timeoutMs : undefined;
      const pastDeadline = deadline === undefined ? undefined : () => scheduler.now() >= deadline;
      // The library's default deadline is the client's alone: servers are told only a given one.
      const told = callOptions.timeoutMs !== undefined || !this.connectOptions.timeoutMsDefaulted;
      const info: CallInfo = { service: this.service, method, args };
      const tried = new Set<string>();
      let attempts = 0;
      /** The server of the latest attempt, and the attempts that failed on a server so far. */
      let current: ServiceInstance | undefined;
      let failures: AttemptFailure[] | undefined;
      const attempt = (instance: ServiceInstance): Observable<Reply<T>> => {
        attempts++;
        current = instance;
        const kind: AttemptKind =
          attempts === 1 ? 'first' : this.failMode === 'failbackup' ? 'backup' : 'retry';
        const now = scheduler.now();
        // Past the deadline no attempt is sent: the whole call's callTimeout (below) is due now
        // and fails the call with DeadlineExceededError.
        if (deadline !== undefined && now >= deadline) return NEVER;
        // callTimeout (below) keeps the deadline across attempts: the connection sets no timer,
        // and tells the server what is left of it.
        return this.attempt<T>(
          instance,
          method,
          args,
          callOptions,
          kind,
          false,
          told ? remaining(deadline, now) : 0,
          pastDeadline,
        );
      };
      const pickNew = (): Observable<Reply<T>> => {
        const known = this.closed ? undefined : this.store.latest;
        const onto = (instance: ServiceInstance): Observable<Reply<T>> => {
          tried.add(instance.key);
          return attempt(instance);
        };
        // The common case needs no Observable around the pick: discovery has already spoken.
        if (known) return onto(this.store.pick(known, info, tried));
        return this.pick(info, tried).pipe(switchMap(onto));
      };
      /**
       * Notes a failed attempt; once more than one failed (or none is left to try after one), the
       * error passed on names every server tried. It has the class and code of `error`, so the
       * fail mode retries it or not as it would `error`.
       */
      const failed = (error: unknown, attempted: boolean): unknown => {
        if (!isServerFailure(error)) return error;
        if (attempted) {
          const address = error.details.address;
          failures ??= [];
          failures.push({
            address: typeof address === 'string' ? address : (current?.address ?? 'unknown'),
            code: error.code,
            message: error.message,
          });
        }
        if (failures === undefined || (attempted && failures.length === 1)) return error;
        return attemptsFailedError(this.service, method, failures, error, this.store.latest?.length);
      };
      /** `defer(make)`, each subscription's error passed through `failed`. */
      const noted = (make: () => Observable<Reply<T>>): Observable<Reply<T>> =>
        new Observable<Reply<T>>((subscriber) => {
          const before = attempts;
          let source: Observable<Reply<T>>;
          try {
            source = make();
          } catch (error) {
            subscriber.error(failed(error, attempts > before));
            return undefined;
          }
          return source.subscribe({
            next: (reply) => subscriber.next(reply),
            error: (error: unknown) => subscriber.error(failed(error, attempts > before)),
            complete: () => subscriber.complete(),
          });
        });
      let reply$: Observable<Reply<T>>;
      switch (this.failMode) {
        case 'failfast':
          reply$ = pickNew();
          break;
        case 'failover':
        case 'failbackup':
          reply$ = noted(pickNew).pipe(this.failOperator as MonoTypeOperatorFunction<Reply<T>>);
          break;
        case 'failtry': {
          const retrying = this.failOperator as MonoTypeOperatorFunction<Reply<T>>;
          reply$ = this.pick(info, tried).pipe(
            switchMap((instance) => noted(() => attempt(instance)).pipe(retrying)),
          );
          break;
        }
      }
      if (deadline === undefined) return reply$;
      return reply$.pipe(this.deadlines.of<Reply<T>>(timeoutMs));
    });
  }

  /**
   * The promise form of {@link XClient.call$}; an `AbortSignal` cancels the call (on the server
   * too) and rejects with `CancelledError`, or `DeadlineExceededError` when it timed out
   * (`AbortSignal.timeout()`).
   *
   * @example
   * ```ts
   * const reply = await client.call('Greet', { First: 'budei' }, { signal: AbortSignal.timeout(1_000) });
   * ```
   */
  call<T = unknown>(method: string, args?: unknown, options?: ClientCallOptions): Promise<T> {
    let split: ReturnType<typeof splitSignal>;
    try {
      split = splitSignal(optionsObject('call options', options));
    } catch (error) {
      return Promise.reject(error);
    }
    return toPromise(this.callWithMetadata$<T>(method, args, split.options), split.signal, dataOf);
  }

  /**
   * Sends a oneway request (no reply) to one server picked by the select mode.
   *
   * @example
   * ```ts
   * await client.oneway('Log', { line: 'hello' });
   * ```
   */
  async oneway(method: string, args?: unknown, options?: CallOptions): Promise<void> {
    const callOptions = optionsObject('call options', options);
    const timeoutMs = resolveTimeoutMs('timeoutMs', callOptions.timeoutMs, this.connectOptions.timeoutMs);
    const info: CallInfo = { service: this.service, method, args };
    const send$ = this.known$(timeoutMs).pipe(
      map((list) => this.store.pick(list, info, new Set())),
      switchMap((instance) =>
        this.pool
          .connection$(instance)
          .pipe(
            switchMap((connection) =>
              connection.call$(this.service, method, args, { ...callOptions, oneway: true }),
            ),
          ),
      ),
      take(1),
      map(() => undefined),
    );
    return lastValueFrom(send$, { defaultValue: undefined });
  }

  /**
   * Calls every usable server; succeeds with every reply (in the order of the servers' keys)
   * when all succeed, and fails with the first error otherwise (the other calls are cancelled).
   *
   * @example
   * ```ts
   * const replies = await client.broadcast('Reload', {});
   * ```
   */
  async broadcast<T = unknown>(method: string, args?: unknown, options?: ClientCallOptions): Promise<T[]> {
    return this.onEveryInstance(method, args, options, (calls) =>
      forkJoin(calls.map(({ reply$ }) => reply$.pipe(map((reply) => reply.data as T)))),
    );
  }

  /**
   * Calls every usable server and resolves with the first success (the other calls are
   * cancelled); fails only when all fail, with the last error.
   *
   * @example
   * ```ts
   * const fastest = await client.fork('Lookup', { id: 7 });
   * ```
   */
  async fork<T = unknown>(method: string, args?: unknown, options?: ClientCallOptions): Promise<T> {
    return this.onEveryInstance(method, args, options, (calls) =>
      firstSuccess(calls.map(({ reply$ }) => reply$.pipe(map((reply) => reply.data as T)))),
    );
  }

  /**
   * Calls every usable server and resolves with each one's reply or error, never rejecting for
   * a server's failure.
   *
   * @example
   * ```ts
   * for (const result of await client.inform('Health', {})) console.log(result.instance, result.ok);
   * ```
   */
  async inform<T = unknown>(
    method: string,
    args?: unknown,
    options?: ClientCallOptions,
  ): Promise<InformResult<T>[]> {
    return this.onEveryInstance(method, args, options, (calls) =>
      forkJoin(
        calls.map(({ instance, reply$ }) =>
          reply$.pipe(
            map((reply): InformResult<T> => ({ instance: instance.key, ok: true, data: reply.data as T })),
            catchError((error: unknown) =>
              of<InformResult<T>>({ instance: instance.key, ok: false, error: RpcError.from(error) }),
            ),
          ),
        ),
      ),
    );
  }

  /**
   * A typed view of the service: `proxy<HelloWorld>().Greet(args)` is `call('Greet', args)`.
   *
   * @example
   * ```ts
   * const hello = client.proxy<HelloWorld>();
   * const reply = await hello.Greet({ First: 'budei' });
   * ```
   */
  proxy<T extends object, S extends StreamingMethods<T> = never>(options?: {
    readonly streams?: readonly S[];
  }): ServiceProxy<T, S> {
    const streams = new Set<string | number | symbol>(optionsObject('proxy options', options).streams ?? []);
    return new Proxy(
      {},
      {
        get: (_target, property) => {
          if (typeof property !== 'string' || property === 'then') return undefined;
          if (streams.has(property))
            return (args: unknown, options?: StreamOptions) => this.stream$(property, args, options);
          return (args: unknown, options?: ClientCallOptions) => this.call(property, args, options);
        },
      },
    ) as ServiceProxy<T, S>;
  }

  /**
   * Calls a method that streams its replies on one selected server, and emits every value.
   *
   * The fail mode applies until the first value arrives: a stream that fails before it (no
   * server, a refused connection, a busy or shutting-down server, a breaker open) is retried as a
   * call would be (`failbackup` retries as `failover` does: streams are not hedged); once a value
   * has arrived, an error ends the stream, since values already delivered cannot be taken back.
   * When `args` is a stream (an input), retries stop too once the input has given a value: a
   * half-sent input cannot be sent again whole (an async iterable cannot be read twice), so
   * its server failing fails the stream.
   * The server's breaker sees the stream: a pass asked at the start, success at the first value,
   * and a failure when it fails before it or when its server fails it later (its connection
   * dropped). `timeoutMs` bounds the whole stream, attempts included (default none); `window`
   * and `demand` as for {@link Connection.stream$}. Call-stage and attempt-stage interceptors
   * wrap calls, not streams.
   *
   * Errors as {@link XClient.call$} does (before the first value, after the fail mode), and as
   * {@link Connection.stream$} does after it.
   *
   * @example
   * ```ts
   * client.stream$<number>('Prices', 'ACME', { window: 32 }).pipe(take(100)).subscribe(console.log);
   * ```
   */
  stream$<T = unknown>(method: string, args?: unknown, options?: StreamOptions): Observable<T> {
    return this.streamWithMetadata$<T>(method, args, options).pipe(map((reply) => reply.data));
  }

  /**
   * Like {@link XClient.stream$}, with each value's frame metadata.
   *
   * @example
   * ```ts
   * client.streamWithMetadata$('Prices', 'ACME').subscribe(({ data, metadata }) => console.log(data, metadata));
   * ```
   */
  streamWithMetadata$<T = unknown>(
    method: string,
    args?: unknown,
    options?: StreamOptions,
  ): Observable<Reply<T>> {
    return defer(() => {
      const o = optionsObject('stream options', options) as StreamOptions;
      const scheduler = this.connectOptions.scheduler;
      const timeoutMs = resolveTimeoutMs('timeoutMs', o.timeoutMs, 0);
      const deadline = timeoutMs > 0 ? scheduler.now() + timeoutMs : undefined;
      const info: CallInfo = { service: this.service, method, args };
      const tried = new Set<string>();
      /** A value arrived, or the input gave one: a retry could no longer do what the caller asked. */
      let started = false;
      const began = (): void => {
        started = true;
      };
      const input = isStreamSource(args) ? watchInput(args, began) : args;
      const attempt = (instance: ServiceInstance): Observable<Reply<T>> => {
        const now = scheduler.now();
        if (deadline !== undefined && now >= deadline) throw this.expired(timeoutMs);
        const attemptOptions = deadline === undefined ? o : { ...o, timeoutMs: remaining(deadline, now) };
        return this.streamAttempt<T>(instance, method, input, attemptOptions, began);
      };
      const pickNew = (): Observable<Reply<T>> =>
        this.pick(info, tried).pipe(
          switchMap((instance) => {
            tried.add(instance.key);
            return attempt(instance);
          }),
        );
      const retry: RetryOptions = {
        ...this.retryOptions,
        shouldRetry: (error) => !started && this.retried(error),
      };
      switch (this.failMode) {
        case 'failfast':
          return pickNew();
        case 'failover':
        case 'failbackup':
          return pickNew().pipe(failover(retry));
        case 'failtry':
          return this.pick(info, tried).pipe(
            switchMap((instance) => defer(() => attempt(instance)).pipe(failtry(retry))),
          );
      }
    });
  }

  /**
   * The async iterator of {@link XClient.stream$}, pulled at the reader's pace (`window` values
   * ahead at most, default 64); leaving the loop or aborting `signal` cancels the stream.
   *
   * Failure cases: the loop's `next()` rejects as {@link XClient.stream$} errors, with
   * `CancelledError` when `signal` aborts, and with a TypeError for a `demand` option.
   *
   * @example
   * ```ts
   * for await (const price of client.stream<number>('Prices', 'ACME')) if (price > 100) break;
   * ```
   */
  stream<T = unknown>(
    method: string,
    args?: unknown,
    options?: StreamOptions & { readonly signal?: AbortSignal },
  ): AsyncIterableIterator<T> {
    return streamIterator(options, (rest, demand) => this.stream$<T>(method, args, { ...rest, demand }));
  }

  /**
   * One stream on one server: through its breaker (a pass at the start, success at the first
   * value, a failure for a server failure before or after it) on the pooled connection.
   */
  private streamAttempt<T>(
    instance: ServiceInstance,
    method: string,
    args: unknown,
    options: StreamOptions,
    onFirst: () => void,
  ): Observable<Reply<T>> {
    return new Observable<Reply<T>>((subscriber) => {
      const breaker = this.store.breakerOf(instance.key);
      if (breaker && !breaker.tryPass()) {
        subscriber.error(
          new CircuitOpenError(`the circuit breaker of ${instance.address} is open`, {
            details: { address: instance.address, state: breaker.state },
          }),
        );
        return undefined;
      }
      let first = true;
      let outcome = false;
      const open = this.pool.open(instance);
      const stream$ = (connection: Connection): Observable<Reply<T>> =>
        connection.streamWithMetadata$<T>(this.service, method, args, options);
      const reply$ = open
        ? stream$(open.connection)
        : this.pool.connection$(instance).pipe(take(1), switchMap(stream$));
      const subscription = reply$.subscribe({
        next: (reply) => {
          if (first) {
            first = false;
            outcome = true;
            breaker?.success();
            onFirst();
          }
          subscriber.next(reply);
        },
        error: (error: unknown) => {
          if (isRetryable(error)) breaker?.failure();
          else if (!outcome) breaker?.success();
          outcome = true;
          subscriber.error(error);
        },
        complete: () => {
          if (!outcome) breaker?.success();
          outcome = true;
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        if (!outcome) breaker?.release?.();
        open?.release();
      };
    });
  }

  /**
   * Closes every connection and subscription this client made; pending calls fail with
   * `ConnectionClosedError`, later calls with a closed-client error.
   *
   * @example
   * ```ts
   * await client.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.deadlines.close();
    this.store.close();
    this.pushes.complete();
    this.events.complete();
  }

  /**
   * Closes the client, as {@link XClient.close}: what `await using` calls at the end of the scope.
   *
   * @example
   * ```ts
   * {
   *   await using client = new XClient('HelloWorld', { discovery });
   *   await client.call('Greet', { First: 'budei' });
   * } // closed here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Breaker changes, retries the budget refused and heartbeat round trips, as they happen (see
   * {@link XClientEvent}). Hot; nothing is built for it while nobody subscribes. Completes on
   * `close()`.
   *
   * @example
   * ```ts
   * client.events$.subscribe((event) => { if (event.type === 'breaker') log.warn(`${event.instance} is ${event.to}`); });
   * ```
   */
  get events$(): Observable<XClientEvent> {
    return this.events.asObservable();
  }

  /**
   * The servers discovery gives now, each with its breaker state, whether it has an open
   * connection and whether calls may go there. Empty before discovery has spoken and after
   * `close()`.
   *
   * @example
   * ```ts
   * const usable = client.instanceStates().filter((server) => server.usable).length;
   * ```
   */
  instanceStates(): InstanceState[] {
    return this.closed ? [] : this.store.states();
  }

  /** `budget`, telling `events$` when it refuses a retry. */
  private reporting(budget: RetryBudget): RetryBudget {
    const events = this.events;
    return {
      deposit: () => budget.deposit(),
      tryWithdraw: () => {
        const granted = budget.tryWithdraw();
        if (!granted && events.observed) events.next({ type: 'retry-budget-exhausted' });
        return granted;
      },
      get balance() {
        return budget.balance;
      },
    };
  }

  /** Picks a server for a call (see `InstanceStore.pick`), once discovery has a list. */
  private pick(info: CallInfo, tried: ReadonlySet<string>): Observable<ServiceInstance> {
    // Once discovery has spoken, pick at once; before, wait for its first list.
    const known = this.closed ? undefined : this.store.latest;
    if (known) return defer(() => [this.store.pick(known, info, tried)]);
    return this.store.current$().pipe(map((list) => this.store.pick(list, info, tried)));
  }

  /**
   * One call to one server, guarded by its breaker, its latency told to the selector, through
   * the attempt-stage interceptors (inside the breaker: what they see is what is sent or dialled).
   * Untimed, the caller keeps the deadline across attempts: the connection sets no timer and
   * tells the server `toldMs` (0: nothing; undefined: `options.timeoutMs`). Timed, the connection
   * keeps `options.timeoutMs` itself.
   */
  private attempt<T>(
    instance: ServiceInstance,
    method: string,
    args: unknown,
    options: CallOptions,
    kind: AttemptKind,
    timed: boolean,
    toldMs?: number,
    pastDeadline?: () => boolean,
  ): Observable<Reply<T>> {
    const scheduler = this.connectOptions.scheduler;
    const breaker = this.store.breakerOf(instance.key);
    const send = (
      method: string,
      args: unknown,
      options: CallOptions,
      toldMs?: number,
    ): Observable<Reply<T>> =>
      new Observable<Reply<T>>((subscriber) => {
        const startedAt = scheduler.now();
        const observe = (reply: Reply<T>): void => {
          this.selector.observeLatency?.(instance.key, scheduler.now() - startedAt);
          subscriber.next(reply);
        };
        // Most calls find the connection open and go straight to it; the others wait for a dial.
        const open = this.pool.open(instance);
        const reply$ = open
          ? this.request$<T>(open.connection, method, args, options, timed, toldMs)
          : this.pool.connection$(instance).pipe(
              switchMap((connection) => this.request$<T>(connection, method, args, options, timed, toldMs)),
              take(1),
            );
        const subscription = reply$.subscribe({
          next: observe,
          error: (error: unknown) => subscriber.error(error),
          complete: () => subscriber.complete(),
        });
        return () => {
          subscription.unsubscribe();
          open?.release();
        };
      });
    const interceptors = this.interceptors;
    // An attempt is subscribed as soon as it is made: its interceptors run now, not deferred.
    // They see the deadline told to the server as the attempt's timeoutMs, and may change it.
    const call$ = interceptors?.has('attempt')
      ? interceptors.wrap('attempt', (call) => send(call.method, call.args, call.options))({
          stage: 'attempt',
          service: this.service,
          method,
          args,
          options: timed || toldMs === undefined ? options : { ...options, timeoutMs: toldMs },
          address: instance.address,
          attempt: kind,
        })
      : send(method, args, options, toldMs);
    // An attempt that the call's deadline (kept outside it) cut counts against its server.
    return breaker
      ? (call$ as Observable<Reply<T>>).pipe(breakOn(() => breaker, isRetryable, pastDeadline))
      : (call$ as Observable<Reply<T>>);
  }

  /** The call on `connection`: untimed when the caller keeps the deadline (see `attempt`). */
  private request$<T>(
    connection: Connection,
    method: string,
    args: unknown,
    options: CallOptions,
    timed: boolean,
    toldMs: number | undefined,
  ): Observable<Reply<T>> {
    return timed
      ? connection.callWithMetadata$<T>(this.service, method, args, options)
      : connection.attempt$<T>(this.service, method, args, options, toldMs);
  }

  /** One call to every usable server (in key order), combined by `combine`, as a promise. */
  private onEveryInstance<R>(
    method: string,
    args: unknown,
    options: ClientCallOptions | undefined,
    combine: (calls: { instance: ServiceInstance; reply$: Observable<Reply<unknown>> }[]) => Observable<R>,
  ): Promise<R> {
    const { options: callOptions, signal } = splitSignal(optionsObject('call options', options));
    const timeoutMs = resolveTimeoutMs('timeoutMs', callOptions.timeoutMs, this.connectOptions.timeoutMs);
    const all$ = this.known$(timeoutMs).pipe(
      switchMap((list) => {
        if (list.length === 0) throw this.store.noServer({});
        const sorted = [...list].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        return combine(
          sorted.map((instance) => ({
            instance,
            reply$: this.attempt(instance, method, args, callOptions, 'first', true),
          })),
        );
      }),
    );
    return toPromise(all$, signal, identity);
  }

  /** Like `current$`, waiting at most `timeoutMs` (0: no bound) for a first list. */
  private known$(timeoutMs: number): Observable<readonly ServiceInstance[]> {
    const known = this.closed ? undefined : this.store.latest;
    if (known) return of(known);
    const first$ = this.store.current$();
    if (timeoutMs === 0) return first$;
    return first$.pipe(
      callTimeout({
        timeoutMs,
        scheduler: this.connectOptions.scheduler,
        expiredError: (waitedMs) => this.store.noServer({ waitedMs }),
      }),
    );
  }
}

/**
 * `input` calling `began` when it gives its first value (an Observable's emission, an async
 * iterator's value): a stream whose input has started cannot be sent again whole.
 */
function watchInput(input: StreamSource, began: () => void): StreamSource {
  if (isObservable(input)) return input.pipe(tap({ next: began }));
  return {
    [Symbol.asyncIterator]: () => {
      const iterator = input[Symbol.asyncIterator]();
      return {
        next: async () => {
          const result = await iterator.next();
          if (!result.done) began();
          return result;
        },
        return: async (value?: unknown) => (iterator.return ? iterator.return(value) : { done: true, value }),
      };
    },
  };
}

/** failover's rule in the XClient: what isRetryable retries, and a breaker that refused one server. */
function retriedByXClient(error: unknown): boolean {
  return isRetryable(error) || (error instanceof CircuitOpenError && 'state' in error.details);
}

/** What is left of a deadline (whole ms, at least 1), or 0 for none. */
function remaining(deadline: number | undefined, now: number): number {
  return deadline === undefined ? 0 : Math.max(1, Math.ceil(deadline - now));
}
