import {
  asyncScheduler,
  BehaviorSubject,
  defer,
  isObservable,
  map,
  Observable,
  Subject,
  type Subscription,
  take,
  type Unsubscribable,
} from 'rxjs';
import type { Codec } from '../codec/index.js';
import { type CompressedPayload, CompressType, decompressPayload } from '../compress/index.js';
import {
  CodecError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  ProtocolError,
  ResourceExhaustedError,
  RpcError,
  ServiceError,
  UnauthenticatedError,
} from '../errors/index.js';
import { DeadlineQueue } from '../operators/deadline-queue.js';
import {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  CREDIT_METHOD,
  DEFAULT_MAX_STREAM_BACKLOG,
  DEFAULT_STREAM_WINDOW,
  MAX_STREAM_CREDIT,
  MessageStatus,
  MessageType,
  MetadataKey,
  StreamSignal,
} from '../protocol/constants.js';
import { EMPTY_METADATA, EMPTY_PAYLOAD, type Message, type Metadata } from '../protocol/message.js';
import {
  cancelMessage,
  creditMessage,
  heartbeatMessage,
  heartbeatReply,
  inputMessage,
  readCredit,
  requestMessage,
} from '../protocol/messages.js';
import { decodeInflated, decodePayload, encodePayload } from '../protocol/payload.js';
import { badDemand, StreamConsumer } from '../protocol/stream-consumer.js';
import { isStreamSource, StreamProducer } from '../protocol/stream-producer.js';
import type { Endpoint, FrameTransport } from '../transport/transport.js';
import { booleanOption, describeValue, integerOption, optionsObject, toMetadata } from '../util/validate.js';
import { type ProtobufTypes, type ResolvedConnectOptions, resolveTimeoutMs } from './connect-options.js';
import { type HeartbeatOptions, heartbeat } from './heartbeat.js';

/**
 * Options of one call. Unset options take the connection's defaults.
 *
 * @group Client
 */
export interface CallOptions {
  /** Metadata sent with the request. */
  readonly metadata?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /** Serialize type of this call (0 raw, 1 JSON, 2 Protobuf, 3 MsgPack...). */
  readonly serializeType?: number;
  /** Gzip the request payload when it exceeds the threshold. */
  readonly compress?: boolean;
  /**
   * Deadline in ms: the call errors with {@link DeadlineExceededError} past it, and the server is
   * told (`__ServerTimeout`) so it gives up too. `0` or `Infinity` means none. Default the
   * client's `timeoutMs`, or else 30,000 ms (`DEFAULT_CALL_TIMEOUT_MS`), a deadline kept by the
   * client alone (the server is not told).
   *
   * Failure cases: a negative, fractional or non-number value, or one past 2^31-1 ms, fails the
   * call with a RangeError naming `timeoutMs`.
   */
  readonly timeoutMs?: number;
  /** Send without expecting a reply: the call completes once the request is queued. */
  readonly oneway?: boolean;
  /** Protobuf type of the request (serialize type 2). */
  readonly requestType?: ProtobufTypes['requestType'];
  /** Protobuf type of the reply (serialize type 2). */
  readonly replyType?: ProtobufTypes['replyType'];
  /**
   * Pass payloads through without a codec: `args` is the request payload as it goes on the wire
   * (a `Uint8Array` already serialized in `serializeType`, or `undefined` for none), and the
   * reply's data is its payload bytes (decompressed), not decoded. What a gateway or a proxy
   * uses (Go's `SendRaw`). Default false.
   */
  readonly raw?: boolean;
}

/**
 * Options of a stream of replies ({@link Connection.stream$}): those of a call (not `oneway`),
 * and how the consumer's pace reaches the server.
 *
 * @group Client
 */
export interface StreamOptions extends Omit<CallOptions, 'oneway'> {
  /**
   * Deadline of the whole stream in ms, told to the server as for a call. Default none: the
   * client's `timeoutMs` is for calls, not streams.
   */
  readonly timeoutMs?: number;
  /**
   * Credit window, in values (1 to 2^31-1): the server may run this far ahead of what the
   * subscriber has taken; half a window taken is granted again. Default 64.
   */
  readonly window?: number;
  /**
   * The consumer's own demand, in place of a window (request(n), as in Reactive Streams): what it
   * emits while the stream is subscribed is the first credit, each later value `n` lets the
   * server send `n` more. The stream errors with a RangeError for a value that is not a positive
   * integer or takes the credit outstanding past 2^31-1.
   */
  readonly demand?: Observable<number>;
  /**
   * When `args` is a stream (an Observable or an async iterable: the method's input), the most
   * values an Observable may emit ahead of the server's credit; one more fails the stream with a
   * ResourceExhaustedError. An async iterable is pulled as credit comes, one value ahead. Default
   * 1,024 (`DEFAULT_MAX_STREAM_BACKLOG`).
   */
  readonly maxBacklog?: number;
}

/**
 * A reply with its metadata.
 *
 * @example
 * ```ts
 * const { data, metadata } = await firstValueFrom(connection.callWithMetadata$('Echo', 'Say', 'hi'));
 * ```
 * @group Client
 */
export interface Reply<T> {
  /** The decoded reply payload (`undefined` for an empty payload). */
  readonly data: T;
  /** The reply's metadata. */
  readonly metadata: Metadata;
  /** Payload bytes the request carried on the wire (compressed when it was), for metrics. */
  readonly sentBytes?: number;
  /** Payload bytes the reply carried on the wire (compressed when it was), for metrics. */
  readonly receivedBytes?: number;
}

/**
 * A server push: a oneway request the server sent on this connection.
 *
 * @example
 * ```ts
 * connection.pushes$.subscribe((push) => console.log(push.service, push.method, push.data));
 * ```
 * @group Client
 */
export interface ServerPush {
  /** Service path the server named. */
  readonly service: string;
  /** Method the server named. */
  readonly method: string;
  /** Metadata of the push. */
  readonly metadata: Metadata;
  /** Serialize type of the payload. */
  readonly serializeType: number;
  /** The payload, decompressed. */
  readonly payload: Uint8Array;
  /** The decoded payload, or `undefined` when it could not be decoded (see `error`). */
  readonly data: unknown;
  /** Why the payload could not be decompressed or decoded, if it could not. */
  readonly error?: RpcError;
}

/**
 * Life of a connection: `open`, then `closed` (for good).
 *
 * @group Client
 */
export type ConnectionState = 'open' | 'closed';

interface Pending {
  /** A call (it holds the socket's ref while it waits), not a ping. */
  readonly call: boolean;
  /** A stream: it takes every frame of its seq and leaves the map itself at its last. */
  readonly stream?: boolean;
  /** The producer of its input stream: the server's credit and cancel notices reach it. */
  input?: StreamProducer | undefined;
  settle(message: Message): void;
  fail(error: RpcError): void;
}

/**
 * One connection to one server, multiplexing calls by sequence number.
 *
 * Calls are cold observables: subscribing sends the request, the reply arrives as one value,
 * and unsubscribing before it forgets the call and sends a cancel notice (which aborts the
 * handler's `ctx.signal` on a server of ours; Go Phobos and rpcx drop it). When the connection
 * drops, every pending call fails at once with {@link ConnectionClosedError}.
 *
 * The socket keeps the process alive only while a call waits for its reply: it is `ref()`'d when
 * the first call is sent and `unref()`'d when the last one ends, so a connection nobody closed
 * does not hold the process open. Heartbeats and server pushes do not hold it.
 *
 * Get one with {@link connect}.
 *
 * @example
 * ```ts
 * connect('tcp@127.0.0.1:8972').pipe(
 *   switchMap((connection) => connection.call$('Arith', 'Mul', { A: 7, B: 8 }, { timeoutMs: 1_000 })),
 * ).subscribe((reply) => console.log(reply)); // { C: 56 }
 * ```
 * @group Client
 */
export class Connection {
  /** The address this connection was made to. */
  readonly address: string;
  /** `open` while the connection is up, then `closed`; replays the current state. */
  readonly state$: Observable<ConnectionState>;
  /** Server pushes received on this connection. Completes when the connection closes. */
  readonly pushes$: Observable<ServerPush>;
  private readonly options: ResolvedConnectOptions;
  private readonly frames: FrameTransport;
  private readonly pending = new Map<bigint, Pending>();
  private readonly state = new BehaviorSubject<ConnectionState>('open');
  private readonly pushes = new Subject<ServerPush>();
  private readonly authMetadata: Map<string, string> | undefined;
  private nextSeq = 0n;
  /** The deadlines of calls with the default `timeoutMs`: one timer for all of them. */
  private readonly defaultDeadlines: DeadlineQueue | undefined;
  /** Calls waiting for a reply; the socket is ref'd while there is one. */
  private calls = 0;
  /** The metadata of a call that gave none, for the last deadline asked (see `sharedMetadata`). */
  private deadlineMetadata: Metadata | undefined;
  private deadlineMetadataMs = 0;
  private closeError: ConnectionClosedError | undefined;
  private readonly onClosed: (error: ConnectionClosedError | undefined) => void;

  /** @internal Use {@link connect}. */
  constructor(
    address: string,
    endpoint: Endpoint,
    options: ResolvedConnectOptions,
    onClosed: (error: ConnectionClosedError | undefined) => void,
  ) {
    this.address = address;
    this.options = options;
    this.onClosed = onClosed;
    this.state$ = this.state.asObservable();
    this.pushes$ = this.pushes.asObservable();
    this.authMetadata = options.auth === undefined ? undefined : new Map([[MetadataKey.Auth, options.auth]]);
    // On Node's own timers the deadlines' timer stays armed between calls, holding the process
    // only while a call is pending (see DeadlineQueue).
    this.defaultDeadlines =
      options.timeoutMs > 0
        ? new DeadlineQueue(options.timeoutMs, options.scheduler, options.scheduler === asyncScheduler)
        : undefined;
    this.frames = endpoint.frames(
      {
        maxMessageBytes: options.maxMessageBytes,
        maxMetadataEntries: options.maxMetadataEntries,
        maxMetadataBytes: options.maxMetadataBytes,
        magics: [options.dialect.magic],
      },
      { onMessage: (message) => this.receive(message), onClose: (error) => this.closed(error) },
    );
    this.frames.unref();
    // A server with authorize closes a connection that shows no valid token within its
    // authTimeoutMs: a heartbeat carrying the token shows it at once, even if no call comes.
    if (this.authMetadata) this.send(this.heartbeatFrame(this.takeSeq()));
  }

  /** True while the connection is open. */
  get isOpen(): boolean {
    return this.state.value === 'open' && this.frames.open;
  }

  /** Calls waiting for their reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * Calls a method and emits its decoded reply, then completes.
   *
   * Errors with {@link ServiceError} when the handler failed, {@link DeadlineExceededError} past
   * `timeoutMs`, {@link ConnectionClosedError} when the connection drops,
   * {@link ResourceExhaustedError} when the server was too busy to take the call,
   * {@link UnauthenticatedError} when the server's `authorize` refused the connection's token,
   * {@link CodecError} when the arguments cannot be encoded or the reply cannot be decoded,
   * RangeError/TypeError for bad options (all as error notifications, never thrown).
   *
   * @example
   * ```ts
   * connection.call$<{ C: number }>('Arith', 'Mul', { A: 7, B: 8 }).subscribe(({ C }) => console.log(C));
   * ```
   */
  call$<T = unknown>(service: string, method: string, args?: unknown, options?: CallOptions): Observable<T> {
    return this.callWithMetadata$<T>(service, method, args, options).pipe(map((reply) => reply.data));
  }

  /**
   * Like {@link Connection.call$}, but emits the reply's metadata with its data.
   *
   * @example
   * ```ts
   * connection.callWithMetadata$('Echo', 'EchoMeta', 'hi', { metadata: { k: 'v' } })
   *   .subscribe(({ data, metadata }) => console.log(data, metadata.get('k')));
   * ```
   */
  callWithMetadata$<T = unknown>(
    service: string,
    method: string,
    args?: unknown,
    options?: CallOptions,
  ): Observable<Reply<T>> {
    return this.request$(service, method, args, options, true);
  }

  /**
   * Like {@link Connection.callWithMetadata$} for a caller that keeps the call's deadline itself
   * and unsubscribes when it passes (as XClient does, across attempts): the server is still told
   * `toldMs` (0: nothing), or `timeoutMs` without it, but the connection sets no timer of its own.
   *
   * @internal
   */
  attempt$<T = unknown>(
    service: string,
    method: string,
    args: unknown,
    options: CallOptions,
    toldMs?: number,
  ): Observable<Reply<T>> {
    return this.request$(service, method, args, options, false, toldMs);
  }

  /**
   * Calls a method that streams its replies and emits every value, then completes. The server
   * sends only as much as it was granted (see `window` and `demand`), so a slow subscriber holds
   * the producer back across the wire; unsubscribing cancels the stream on the server (its
   * Observable is unsubscribed, its `ctx.signal` aborted).
   *
   * A server that answers with one reply (a Go peer, or a handler that returned one value) gives
   * one value and completion. There is no default deadline: `timeoutMs` bounds the whole stream.
   *
   * Errors as {@link Connection.call$} does, at any point of the stream; with a ProtocolError
   * when the server sends more than it was granted; with a RangeError or TypeError for bad
   * options (`oneway`, a `window` outside 1 to 2^31-1, `window` and `demand` both given) or a
   * bad demand value (all as error notifications, never thrown).
   *
   * @example
   * ```ts
   * connection.stream$<number>('Ticker', 'prices', { symbol: 'ACME' }, { window: 16 })
   *   .pipe(throttleTime(1_000))
   *   .subscribe((price) => console.log(price));
   * ```
   */
  stream$<T = unknown>(
    service: string,
    method: string,
    args?: unknown,
    options?: StreamOptions,
  ): Observable<T> {
    return this.streamWithMetadata$<T>(service, method, args, options).pipe(map((reply) => reply.data));
  }

  /**
   * Like {@link Connection.stream$}, but emits each value with its frame's metadata (the
   * handler's reply metadata, and the `__phobos_stream` mark).
   *
   * @example
   * ```ts
   * connection.streamWithMetadata$('Ticker', 'prices', 'ACME').subscribe(({ data, metadata }) => console.log(data, metadata));
   * ```
   */
  streamWithMetadata$<T = unknown>(
    service: string,
    method: string,
    args?: unknown,
    options?: StreamOptions,
  ): Observable<Reply<T>> {
    return new Observable<Reply<T>>((subscriber) => {
      if (this.closeError || !this.isOpen) {
        subscriber.error(this.closeError ?? this.closedError('the connection is closed'));
        return;
      }
      let prepared: ReturnType<Connection['prepare']>;
      let window: number;
      let demand: Observable<number> | undefined;
      let maxBacklog = 0;
      const input = isStreamSource(args) ? args : undefined;
      try {
        const o = optionsObject('stream options', options) as StreamOptions & { oneway?: unknown };
        if (o.oneway !== undefined && o.oneway !== false) throw new TypeError('a stream cannot be oneway');
        demand = o.demand;
        if (demand !== undefined && !isObservable(demand))
          throw new TypeError(`demand must be an Observable of numbers, got ${describeValue(demand)}`);
        if (demand !== undefined && o.window !== undefined)
          throw new TypeError('give a stream either a window or a demand, not both');
        window =
          demand === undefined
            ? integerOption('window', o.window, DEFAULT_STREAM_WINDOW, 1, MAX_STREAM_CREDIT)
            : 0;
        if (input !== undefined)
          maxBacklog = integerOption('maxBacklog', o.maxBacklog, DEFAULT_MAX_STREAM_BACKLOG, 0);
        prepared = this.prepare(
          service,
          method,
          input === undefined ? args : undefined,
          { ...o, oneway: false, timeoutMs: o.timeoutMs ?? 0 },
          undefined,
        );
      } catch (error) {
        subscriber.error(error);
        return;
      }
      const { codec, replyType, timeoutMs, raw, request } = prepared;
      const seq = request.seq;
      let open = false;
      // The demand emitted at subscription is the first credit; what comes later is granted.
      let first = window;
      let stream: StreamConsumer | undefined;
      let demanded: Subscription | undefined;
      if (demand !== undefined) {
        demanded = demand.subscribe({
          next: (credit) => {
            if (stream !== undefined) {
              stream.grant(credit);
              return;
            }
            const error = badDemand(credit, first);
            if (error !== undefined) {
              subscriber.error(error);
              return;
            }
            first += credit;
          },
          error: (error: unknown) => subscriber.error(RpcError.from(error)),
        });
        if (subscriber.closed) {
          demanded.unsubscribe();
          return;
        }
      }
      stream = new StreamConsumer(
        {
          decode: (frame) =>
            this.decodeReply(
              frame,
              raw ? undefined : codec,
              replyType,
              service,
              method,
              request.payload.length,
            ),
          grant: (credit) => {
            if (this.isOpen)
              this.send(creditMessage(this.options.dialect.magic, this.takeSeq(), seq, credit));
          },
          leave: (cancel) => leave(cancel),
          next: (reply) => subscriber.next(reply as Reply<T>),
          complete: () => subscriber.complete(),
          error: (error) => subscriber.error(error),
        },
        window,
        first,
      );
      const leave = (cancel: boolean): void => {
        // The call is over (its connection closing too, which has failed it already): its input,
        // if still read, stops.
        inputSubscription?.unsubscribe();
        if (this.pending.get(seq) !== pending) return;
        this.pending.delete(seq);
        if (cancel && open) this.sendCancel(seq);
        this.callEnded();
      };
      // The first credit rides on the request; the server sends nothing more until granted.
      const settled = stream;
      const pending: Pending = {
        call: true,
        stream: true,
        settle: (message) => settled.receive(message),
        fail: (error) => subscriber.error(error),
      };
      const metadata = new Map(request.metadata);
      metadata.set(MetadataKey.Stream, String(first));
      if (input !== undefined) {
        metadata.set(MetadataKey.StreamInput, 'stream');
        pending.input = this.inputProducer(request, prepared, maxBacklog, (error) => {
          if (this.pending.get(seq) !== pending) return;
          leave(true);
          subscriber.error(error);
        });
      }
      this.pending.set(seq, pending);
      if (this.calls++ === 0) this.frames.ref();
      const send = (ready: Message): void => {
        try {
          this.send(ready);
          open = true;
        } catch (error) {
          leave(false);
          subscriber.error(error);
          return;
        }
        // The input is read once the request is out; the server's credit lets it go.
        if (input !== undefined && pending.input !== undefined)
          inputSubscription = pending.input.start(input);
      };
      let inputSubscription: Subscription | undefined;
      if (prepared.compressing === undefined) send({ ...request, metadata });
      else {
        prepared.compressing.then(
          (compressed) => {
            if (this.pending.get(seq) === pending) send({ ...request, ...compressed, metadata });
          },
          (error: unknown) => {
            if (this.pending.get(seq) !== pending) return;
            leave(false);
            subscriber.error(RpcError.from(error));
          },
        );
      }
      let timer: Unsubscribable | undefined;
      if (timeoutMs > 0) {
        timer = this.options.scheduler.schedule(() => {
          if (this.pending.get(seq) !== pending) return;
          leave(true);
          subscriber.error(
            new DeadlineExceededError(`the stream ${service}.${method} did not end within ${timeoutMs} ms`, {
              details: { service, method, timeoutMs, address: this.address },
            }),
          );
        }, timeoutMs);
      }
      return () => {
        timer?.unsubscribe();
        demanded?.unsubscribe();
        leave(true);
      };
    });
  }

  /**
   * A call whose arguments are a stream (an Observable or an async iterable): the stream of
   * {@link Connection.streamWithMetadata$}, its first value the reply (a handler that takes an
   * input stream and returns one value). Its deadline is the call's.
   */
  private streamedCall$<T>(
    service: string,
    method: string,
    input: unknown,
    options: CallOptions | undefined,
    timed: boolean,
    toldMs: number | undefined,
  ): Observable<Reply<T>> {
    return defer(() => {
      const o = optionsObject('call options', options);
      if (o.oneway === true) throw new TypeError('a call whose arguments are a stream cannot be oneway');
      const timeoutMs = timed
        ? resolveTimeoutMs('timeoutMs', o.timeoutMs, this.options.timeoutMs)
        : (toldMs ?? 0);
      return this.streamWithMetadata$<T>(service, method, input, {
        ...o,
        oneway: false,
        timeoutMs,
      } as StreamOptions).pipe(take(1));
    });
  }

  /**
   * The producer of a stream's input: each value a oneway request of the call's seq marked
   * `next`, then `complete`, or `error` with the source's error; sent as the server grants
   * credit. Past `maxBacklog` values ahead of the credit, or a server that grants past 2^31-1,
   * `fail` ends the whole stream.
   */
  private inputProducer(
    request: Message,
    prepared: ReturnType<Connection['prepare']>,
    maxBacklog: number,
    fail: (error: RpcError) => void,
  ): StreamProducer {
    const { seq, servicePath, serviceMethod, serializeType } = request;
    const dialect = this.options.dialect;
    const codec = prepared.raw ? undefined : prepared.codec;
    const frame = (
      signal: StreamSignal,
      payload: Uint8Array,
      compressType?: number,
      text?: string,
    ): Message =>
      inputMessage(
        dialect,
        seq,
        servicePath,
        serviceMethod,
        signal,
        payload,
        serializeType,
        compressType,
        text,
      );
    const sendIfOpen = (message: Message): void => {
      if (this.isOpen && this.pending.get(seq)?.input !== undefined) this.send(message);
    };
    return new StreamProducer(0, maxBacklog, {
      next: (value) => {
        const encoded = encodePayload(value, codec, prepared.requestType, prepared.compressor, this.options);
        if (encoded instanceof Uint8Array) return frame(StreamSignal.Next, encoded);
        if (!(encoded instanceof Promise))
          return frame(StreamSignal.Next, encoded.payload, encoded.compressType);
        return encoded.then(({ payload, compressType }) => frame(StreamSignal.Next, payload, compressType));
      },
      // The server's credit bounds what the input sends; the socket's own buffer takes it.
      send: (message) => {
        sendIfOpen(message);
        return true;
      },
      complete: () => sendIfOpen(frame(StreamSignal.Complete, EMPTY_PAYLOAD)),
      fail: (error, code) => {
        if (code === undefined) {
          // The input's own error: the server's handler sees it on its input.
          sendIfOpen(
            frame(StreamSignal.Error, EMPTY_PAYLOAD, CompressType.None, RpcError.from(error).message),
          );
          return;
        }
        const why = error instanceof Error ? error.message : String(error);
        fail(
          code === 'RESOURCE_EXHAUSTED'
            ? new ResourceExhaustedError(
                `the stream's input ${why.replace("the stream's Observable ", '')}`,
                { details: { maxBacklog } },
              )
            : new ProtocolError(`the server granted too much credit to the input: ${why}`, {
                field: 'stream',
              }),
        );
      },
    });
  }

  /** A server's credit or cancel notice for the input of one of this connection's streams. */
  private control(message: Message): void {
    if (message.serviceMethod === CREDIT_METHOD) {
      const grant = readCredit(message.payload);
      if (grant !== undefined) this.pending.get(grant.stream)?.input?.grant(grant.credit);
      return;
    }
    if (message.serviceMethod === CANCEL_METHOD && message.payload.length === 8) {
      const stream = Buffer.from(message.payload.buffer, message.payload.byteOffset, 8).readBigUInt64BE(0);
      const pending = this.pending.get(stream);
      if (pending?.input === undefined) return;
      // The handler stopped reading: the input stops, the call goes on.
      const input = pending.input;
      pending.input = undefined;
      input.stop();
    }
  }

  private request$<T>(
    service: string,
    method: string,
    args: unknown,
    options: CallOptions | undefined,
    timed: boolean,
    toldMs?: number,
  ): Observable<Reply<T>> {
    if (isStreamSource(args)) return this.streamedCall$<T>(service, method, args, options, timed, toldMs);
    return new Observable<Reply<T>>((subscriber) => {
      if (this.closeError || !this.isOpen) {
        subscriber.error(this.closeError ?? this.closedError('the connection is closed'));
        return;
      }
      let prepared: ReturnType<Connection['prepare']>;
      try {
        prepared = this.prepare(service, method, args, options, toldMs);
      } catch (error) {
        subscriber.error(error);
        return;
      }
      const { codec, replyType, timeoutMs, raw, compressing } = prepared;
      let request = prepared.request;
      if (request.oneway) {
        const sent = (): void => {
          subscriber.next({ data: undefined as T, metadata: EMPTY_METADATA });
          subscriber.complete();
        };
        if (compressing === undefined) {
          this.send(request);
          sent();
          return;
        }
        compressing.then(
          (compressed) => {
            if (subscriber.closed) return;
            try {
              this.send({ ...request, ...compressed });
              sent();
            } catch (error) {
              subscriber.error(error);
            }
          },
          (error: unknown) => subscriber.error(RpcError.from(error)),
        );
        return;
      }
      const seq = request.seq;
      const pending: Pending = {
        call: true,
        settle: (message) => {
          const result = this.decodeReply(
            message,
            raw ? undefined : codec,
            replyType,
            service,
            method,
            request.payload.length,
          );
          if (result instanceof Promise) result.then(deliver);
          else deliver(result);
        },
        fail: (error) => subscriber.error(error),
      };
      const deliver = (result: Reply<unknown> | RpcError): void => {
        if (result instanceof RpcError) subscriber.error(result);
        else {
          subscriber.next(result as Reply<T>);
          subscriber.complete();
        }
      };
      this.pending.set(seq, pending);
      if (this.calls++ === 0) this.frames.ref();
      /** Whether the server may have the request: a cancel is sent only then. */
      let sent = false;
      const sendRequest = (): boolean => {
        try {
          this.send(request);
          sent = true;
          return true;
        } catch (error) {
          this.pending.delete(seq);
          this.callEnded();
          subscriber.error(error);
          return false;
        }
      };
      if (compressing === undefined) {
        if (!sendRequest()) return;
      } else {
        // Compressed on the thread pool: the call may end (unsubscribed, deadline, connection
        // closed) meanwhile.
        compressing.then(
          (compressed) => {
            if (this.pending.get(seq) !== pending) return;
            request = { ...request, ...compressed };
            sendRequest();
          },
          (error: unknown) => {
            if (this.pending.get(seq) !== pending) return;
            this.pending.delete(seq);
            this.callEnded();
            subscriber.error(RpcError.from(error));
          },
        );
      }
      let timer: Unsubscribable | undefined;
      if (timed && timeoutMs > 0) {
        const expire = (): void => {
          if (this.pending.get(seq) !== pending) return;
          this.pending.delete(seq);
          this.callEnded();
          subscriber.error(
            new DeadlineExceededError(`${service}.${method} did not answer within ${timeoutMs} ms`, {
              details: { service, method, timeoutMs, address: this.address },
            }),
          );
        };
        // Most calls have the default deadline: they share one timer.
        timer =
          timeoutMs === this.options.timeoutMs && this.defaultDeadlines !== undefined
            ? this.defaultDeadlines.add(expire)
            : this.options.scheduler.schedule(expire, timeoutMs);
      }
      return () => {
        timer?.unsubscribe();
        if (this.pending.get(seq) === pending) {
          this.pending.delete(seq);
          if (sent) this.sendCancel(seq);
          this.callEnded();
        }
      };
    });
  }

  /**
   * Sends one heartbeat and emits the round-trip time in ms when its echo arrives.
   *
   * Errors with {@link ConnectionClosedError} when the connection is or becomes closed.
   *
   * @example
   * ```ts
   * connection.ping$().subscribe((rttMs) => console.log(rttMs));
   * ```
   */
  ping$(): Observable<number> {
    return new Observable<number>((subscriber) => {
      if (!this.isOpen) {
        subscriber.error(this.closeError ?? this.closedError('the connection is closed'));
        return;
      }
      const seq = this.takeSeq();
      const sentAt = this.options.scheduler.now();
      const pending: Pending = {
        call: false,
        settle: () => {
          subscriber.next(this.options.scheduler.now() - sentAt);
          subscriber.complete();
        },
        fail: (error) => subscriber.error(error),
      };
      this.pending.set(seq, pending);
      this.send(this.heartbeatFrame(seq));
      return () => {
        if (this.pending.get(seq) === pending) this.pending.delete(seq);
      };
    });
  }

  /**
   * Pings every `intervalMs` (the first at once) and emits each round-trip time; errors with a
   * ConnectionError after `maxMisses` (default 3) intervals without an echo, and then closes the
   * connection unless `closeOnFailure` is false. Timed on the connection's scheduler unless the
   * options name one.
   *
   * @throws RangeError at call time for a bad interval or option.
   * @example
   * ```ts
   * connection.heartbeat$({ intervalMs: 1_000, maxMisses: 3 }).subscribe({ next: (rtt) => latency.set(rtt) });
   * ```
   */
  heartbeat$(options: HeartbeatOptions): Observable<number> {
    const o = optionsObject('heartbeat options', options);
    const closeOnFailure = booleanOption('closeOnFailure', o.closeOnFailure, true);
    const beats = heartbeat(() => this.ping$(), {
      ...(o as HeartbeatOptions),
      scheduler: o.scheduler ?? this.options.scheduler,
    });
    return new Observable<number>((subscriber) =>
      beats.subscribe({
        next: (rtt) => subscriber.next(rtt),
        complete: () => subscriber.complete(),
        error: (error: unknown) => {
          if (closeOnFailure && this.isOpen) this.frames.destroy(RpcError.from(error));
          subscriber.error(error);
        },
      }),
    );
  }

  /**
   * Closes the connection. Pending calls fail with {@link ConnectionClosedError}.
   *
   * @example
   * ```ts
   * connection.close();
   * ```
   */
  close(): void {
    if (!this.isOpen) return;
    this.closeError = this.closedError('the connection was closed locally');
    this.failPending(this.closeError);
    this.frames.destroy();
  }

  private prepare(
    service: string,
    method: string,
    args: unknown,
    options: CallOptions | undefined,
    told: number | undefined,
  ) {
    if (typeof service !== 'string' || service === '')
      throw new TypeError(`service must be a non-empty string, got ${describeValue(service)}`);
    if (typeof method !== 'string' || method === '')
      throw new TypeError(`method must be a non-empty string, got ${describeValue(method)}`);
    const o = optionsObject('call options', options);
    const defaults = this.options;
    const serializeType = integerOption('serializeType', o.serializeType, defaults.serializeType, 0, 15);
    const compress = booleanOption('compress', o.compress, defaults.compress);
    const timeoutMs = resolveTimeoutMs('timeoutMs', o.timeoutMs, defaults.timeoutMs);
    // The library's default deadline is the client's alone: the server is told only a given one.
    const toldMs = told ?? (o.timeoutMs === undefined && defaults.timeoutMsDefaulted ? 0 : timeoutMs);
    const oneway = booleanOption('oneway', o.oneway, false);
    const raw = booleanOption('raw', o.raw, false);
    const types = defaults.protobuf[`${service}.${method}`];
    const requestType = o.requestType ?? types?.requestType;
    const replyType = o.replyType ?? types?.replyType;
    const codec = defaults.codecs.get(serializeType);
    const encoded = encodePayload(
      args,
      raw ? undefined : codec,
      requestType,
      compress ? defaults.compressors.get(CompressType.Gzip) : undefined,
      defaults,
    );
    // A payload compressed on the thread pool replaces the empty one when ready.
    let payload: Uint8Array = EMPTY_PAYLOAD;
    let compressType: number = CompressType.None;
    let compressing: Promise<CompressedPayload> | undefined;
    if (encoded instanceof Uint8Array) payload = encoded;
    else if (encoded instanceof Promise) compressing = encoded;
    else ({ payload, compressType } = encoded);
    let metadata: Metadata;
    if (o.metadata === undefined) metadata = this.sharedMetadata(toldMs);
    else {
      const given = toMetadata('metadata', o.metadata);
      if (this.authMetadata) given.set(MetadataKey.Auth, this.authMetadata.get(MetadataKey.Auth) as string);
      if (toldMs > 0) given.set(MetadataKey.ServerTimeout, String(toldMs));
      metadata = given;
    }
    const request = requestMessage(
      defaults.dialect.magic,
      this.takeSeq(),
      service,
      method,
      metadata,
      payload,
      serializeType,
      compressType,
      oneway,
    );
    const compressor = compress ? defaults.compressors.get(CompressType.Gzip) : undefined;
    return { request, codec, replyType, requestType, compressor, timeoutMs, raw, compressing };
  }

  /**
   * The metadata of a call that gave none: the auth token and the deadline told to the server.
   * Calls of one client mostly tell the same deadline, so the map of the last one is kept and
   * shared (frames are encoded when sent, never kept): such calls build no metadata at all.
   */
  private sharedMetadata(timeoutMs: number): Metadata {
    if (timeoutMs === 0) return this.authMetadata ?? EMPTY_METADATA;
    if (this.deadlineMetadata === undefined || this.deadlineMetadataMs !== timeoutMs) {
      const metadata = new Map(this.authMetadata);
      metadata.set(MetadataKey.ServerTimeout, String(timeoutMs));
      this.deadlineMetadata = metadata;
      this.deadlineMetadataMs = timeoutMs;
    }
    return this.deadlineMetadata;
  }

  /** A call stopped waiting: the last one lets the process exit while the socket stays open. */
  private callEnded(): void {
    if (--this.calls === 0) this.frames.unref();
  }

  /**
   * Decodes a reply with `codec`, or hands over its (decompressed) payload without one; a promise
   * of that when the payload inflates off the event loop.
   */
  private decodeReply(
    message: Message,
    codec: Codec | undefined,
    replyType: ProtobufTypes['replyType'],
    service: string,
    method: string,
    sentBytes: number,
  ): Reply<unknown> | RpcError | Promise<Reply<unknown> | RpcError> {
    if (message.invalid) return message.invalid;
    if (message.status !== MessageStatus.Normal) {
      const text =
        message.metadata.get(this.options.dialect.errorKey) ??
        message.metadata.get(MetadataKey.PhobosError) ??
        message.metadata.get(MetadataKey.RpcxError) ??
        'the server replied with an error and no message';
      const options = { details: { service, method, address: this.address, metadata: message.metadata } };
      const code = message.metadata.get(MetadataKey.ErrorCode);
      if (code === 'UNAVAILABLE') return new ConnectionError(text, options);
      if (code === 'RESOURCE_EXHAUSTED') return new ResourceExhaustedError(text, options);
      if (code === 'DEADLINE_EXCEEDED') return new DeadlineExceededError(text, options);
      if (code === 'UNAUTHENTICATED') return new UnauthenticatedError(text, options);
      // The server's own reasons (no such method, arguments that do not decode).
      const reason = code === 'NOT_FOUND' || code === 'INVALID_ARGUMENT' ? code : undefined;
      return new ServiceError(text, reason ? { details: { ...options.details, reason } } : options);
    }
    let data: unknown;
    try {
      const replyCodec =
        codec === undefined || message.serializeType === codec.serializeType
          ? codec
          : this.options.codecs.get(message.serializeType);
      data = decodePayload(message.payload, message.compressType, replyCodec, replyType, this.options);
    } catch (error) {
      return this.undecodable(error, service, method);
    }
    const receivedBytes = message.payload.length;
    if (!(data instanceof Promise)) return { data, metadata: message.metadata, sentBytes, receivedBytes };
    // Inflated on the thread pool: only such replies pay for these closures.
    return data.then(
      (decoded): Reply<unknown> => ({ data: decoded, metadata: message.metadata, sentBytes, receivedBytes }),
      (error: unknown) => this.undecodable(error, service, method),
    );
  }

  /** An error inflating or decoding a reply, as a CodecError unless it already has a code. */
  private undecodable(error: unknown, service: string, method: string): RpcError {
    const wrapped = RpcError.from(error);
    return wrapped.code === 'UNKNOWN'
      ? new CodecError(`cannot decode the reply of ${service}.${method}: ${wrapped.message}`, {
          cause: error,
        })
      : wrapped;
  }

  private receive(message: Message): void {
    if (message.messageType === MessageType.Response) {
      const pending = this.pending.get(message.seq);
      if (pending?.stream) pending.settle(message);
      else if (pending) {
        this.pending.delete(message.seq);
        pending.settle(message);
        // After settling: a caller that sends its next call at once keeps the socket ref'd.
        if (pending.call) this.callEnded();
      }
      return;
    }
    if (message.heartbeat) {
      this.send(heartbeatReply(message));
      return;
    }
    if (message.oneway && message.servicePath === CANCEL_SERVICE_PATH) {
      this.control(message);
      return;
    }
    this.pushes.next(this.decodePush(message));
  }

  private decodePush(message: Message): ServerPush {
    const base = {
      service: message.servicePath,
      method: message.serviceMethod,
      metadata: message.metadata,
      serializeType: message.serializeType,
    };
    let payload = message.payload;
    try {
      if (message.invalid) throw message.invalid;
      payload = decompressPayload(payload, message.compressType, this.options);
      const data = decodeInflated(payload, this.options.codecs.get(message.serializeType), undefined);
      return { ...base, payload, data };
    } catch (error) {
      return { ...base, payload, data: undefined, error: RpcError.from(error) };
    }
  }

  /** A heartbeat request; it carries the `__AUTH` token when the connection has one. */
  private heartbeatFrame(seq: bigint): Message {
    return heartbeatMessage(this.options.dialect.magic, seq, this.authMetadata ?? EMPTY_METADATA);
  }

  private sendCancel(seq: bigint): void {
    if (!this.isOpen) return;
    this.send(cancelMessage(this.options.dialect.magic, this.takeSeq(), seq));
  }

  private send(message: Message): void {
    this.frames.send(message);
  }

  private takeSeq(): bigint {
    const seq = this.nextSeq;
    this.nextSeq = seq === 0xffff_ffff_ffff_ffffn ? 0n : seq + 1n;
    return seq;
  }

  private closedError(why: string, cause?: Error): ConnectionClosedError {
    return new ConnectionClosedError(`connection to ${this.address} closed: ${why}`, {
      ...(cause ? { cause } : {}),
      details: { address: this.address },
    });
  }

  private failPending(error: ConnectionClosedError): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    // The socket is closing: it holds the process no longer, ref'd or not.
    this.calls = 0;
    for (const call of pending) call.fail(error);
    this.defaultDeadlines?.stop();
  }

  private closed(error: Error | undefined): void {
    const local = this.closeError !== undefined;
    this.closeError ??= this.closedError(error ? error.message : 'the server closed it', error);
    this.failPending(this.closeError);
    this.state.next('closed');
    this.state.complete();
    this.pushes.complete();
    this.onClosed(local ? undefined : this.closeError);
  }
}
