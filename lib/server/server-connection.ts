import {
  AsyncSubject,
  defer,
  from,
  isObservable,
  merge,
  Observable,
  of,
  Subject,
  type Subscription,
  type Unsubscribable,
} from 'rxjs';
import { CompressType } from '../compress/index.js';
import { describeThrown } from '../errors/describe-thrown.js';
import {
  CancelledError,
  ConnectionClosedError,
  DeadlineExceededError,
  ProtocolError,
  RpcError,
  UnauthenticatedError,
} from '../errors/index.js';
import type { DeadlineQueues } from '../operators/deadline-queue.js';
import {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  CREDIT_METHOD,
  DEFAULT_STREAM_WINDOW,
  type Dialect,
  dialectOfMagic,
  MAX_STREAM_CREDIT,
  MessageStatus,
  MessageType,
  MetadataKey,
  PHOBOS,
  type ServerErrorCode,
  StreamSignal,
} from '../protocol/constants.js';
import { EMPTY_PAYLOAD, type Message } from '../protocol/message.js';
import {
  cancelMessage,
  creditMessage,
  errorReply,
  heartbeatReply,
  readCredit,
  replyMessage,
  requestMessage,
  streamCreditOf,
  streamMetadata,
} from '../protocol/messages.js';
import { decodePayload, type EncodedPayload, encodePayload } from '../protocol/payload.js';
import { StreamConsumer, type StreamValue } from '../protocol/stream-consumer.js';
import {
  isAsyncIterable,
  isStreamSource,
  StreamProducer,
  type StreamSource,
} from '../protocol/stream-producer.js';
import type { Endpoint, FrameTransport } from '../transport/transport.js';
import { MAX_TIMER_MS, toMetadata } from '../util/validate.js';
import type { CallContext, PushOptions, ServerConnection } from './call-context.js';
import { ConnectionWatchdog, type WatchdogExpiry } from './connection-watchdog.js';
import type { ServerHandler } from './interceptor.js';
import type { ProtocolErrorReason, ServerEvent } from './server-event.js';
import type { Authorize, ResolvedServerOptions } from './server-options.js';
import type { Service, ServiceMethod } from './service.js';

/**
 * A connection holding less than this (a frame still arriving, requests waiting, replies
 * unsent) is light: it is never closed to bring the server back within `maxBufferedBytes`. A
 * request whose payload may take this much or more to decode is heavy: it waits its turn in the
 * server's queue of heavy work, run in slices between turns of I/O, so that it cannot stall
 * other clients' calls.
 * @group Server
 */
export const LIGHT_BYTES = 64 * 1024;

/** What a connection needs from its server. @internal */
export interface ServerCore {
  readonly options: ResolvedServerOptions;
  /** Whether any interceptor is installed (else methods are called directly). */
  readonly intercepted: boolean;
  readonly draining: boolean;
  /** Whether the server holds more than `maxBufferedBytes`. */
  readonly overBudget: boolean;
  service(name: string): Service | undefined;
  serviceNames(): string[];
  handlerFor(method: ServiceMethod): ServerHandler;
  /** The bytes a connection holds changed by `delta`. */
  account(delta: number): void;
  /**
   * Runs a connection's heavy work later, in slices between turns of I/O, round robin across
   * connections.
   */
  later(connection: ServerConnectionHandler, task: () => void): void;
  connectionIdle(connection: ServerConnectionHandler): void;
  connectionClosed(connection: ServerConnectionHandler): void;
  /** Whether anyone watches `events$`: events are built only then. */
  readonly observed: boolean;
  /** Tells `events$`. */
  emit(event: ServerEvent): void;
  /** The deadlines callers told (`__ServerTimeout`), sharing a timer per length. */
  readonly deadlines: DeadlineQueues;
}

/** One call being served; its AbortController is made only if the handler asks for `ctx.signal`. */
class InflightCall {
  readonly request: Message;
  subscription: Subscription | undefined = undefined;
  /** When the call started (`performance.now()`), while `events$` is watched. */
  startedAt = 0;
  /** Whether its service and method are registered, found when it started (for `events$`). */
  known = false;
  timer: Unsubscribable | undefined = undefined;
  /** Its stream of replies, once a streaming handler started one. */
  stream: StreamProducer | undefined = undefined;
  /** The reader of the caller's input stream, while the handler reads it. */
  input: StreamConsumer | undefined = undefined;
  /** Fails the handler's input, while it reads it: the call ended first. */
  endInput: ((reason: RpcError) => void) | undefined = undefined;
  done = false;
  private controller: AbortController | undefined = undefined;
  private reason: RpcError | undefined = undefined;

  constructor(request: Message) {
    this.request = request;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: RpcError): void {
    if (this.reason) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.stop();
  }

  /**
   * Ends the handler's Observable and the deadline timer; a teardown that throws is ignored. An
   * input the handler still reads fails with why the call ended, so that it does not wait forever.
   */
  stop(): void {
    this.timer?.unsubscribe();
    try {
      this.subscription?.unsubscribe();
    } catch {
      // The handler's own teardown threw: the call is over all the same.
    }
    const endInput = this.endInput;
    this.endInput = undefined;
    endInput?.(this.endReason());
  }

  /** Why the call ended: the reason it was aborted with, else that it is over. */
  endReason(): RpcError {
    return this.reason ?? new CancelledError('the call is over: its input is no longer read');
  }
}

/** The context handed to a handler. */
class ServerCallContext implements CallContext {
  readonly replyMetadata = new Map<string, string>();
  readonly service: string;
  readonly method: string;
  readonly seq: bigint;
  readonly metadata: Message['metadata'];
  readonly serializeType: number;
  readonly deadline: number | undefined;
  readonly connection: ServerConnectionHandler;
  private readonly call: InflightCall;

  constructor(
    request: Message,
    call: InflightCall,
    connection: ServerConnectionHandler,
    deadline: number | undefined,
  ) {
    this.service = request.servicePath;
    this.method = request.serviceMethod;
    this.seq = request.seq;
    this.metadata = request.metadata;
    this.serializeType = request.serializeType;
    this.deadline = deadline;
    this.connection = connection;
    this.call = call;
  }

  get signal(): AbortSignal {
    return this.call.signal;
  }

  get remoteAddress(): string {
    return this.connection.remoteAddress;
  }

  push(service: string, method: string, data: unknown, options?: PushOptions): boolean {
    return this.connection.push(service, method, data, options);
  }
}

/**
 * The server's side of one connection: decodes requests, runs them within the concurrency
 * limit, writes replies, and enforces the connection's timeouts and limits.
 *
 * It reads the socket except while replies are not leaving (the peer does not read, which
 * `frameTimeoutMs` bounds): never merely because calls are many, so that cancel notices,
 * heartbeats and the peer's close are always seen.
 *
 * @internal
 */
export class ServerConnectionHandler implements ServerConnection {
  readonly remoteAddress: string;
  readonly closed$: Observable<void>;
  private readonly core: ServerCore;
  private readonly options: ResolvedServerOptions;
  private readonly inProcess: boolean;
  private readonly frames: FrameTransport;
  private readonly watchdog: ConnectionWatchdog;
  private readonly inflight = new Map<bigint, InflightCall>();
  /** Streams holding their values until the socket drains. */
  private readonly stalledStreams = new Set<StreamProducer>();
  /** Credit granted to calls that asked for a stream before it started, by seq. */
  private readonly earlyCredit = new Map<bigint, number>();
  private readonly backlog: Message[] = [];
  private readonly closed = new AsyncSubject<void>();
  /** Fires when the socket drains, so that waiting pushes go. */
  private readonly drained = new Subject<void>();
  private dialect: Dialect = PHOBOS;
  private pushSeq = 0n;
  private lastSerializeType = 3;
  private refusing = false;
  /** The echo of the last heartbeat that came while replies were not leaving. */
  private heldEcho: Message | undefined = undefined;
  /** Payload bytes of waiting requests: the backlog and the heavy ones not yet decoded. */
  private waitingBytes = 0;
  /** What this connection last told the server it holds. */
  private accounted = 0;
  /** When input last arrived or output last drained: a connection not moving is evicted first. */
  private progressAt: number;
  private evicted = false;

  /**
   * @param inProcess - the peer is in this process (a gateway serving HTTP on the RPC port): it
   *   carries the calls of many HTTP clients, so an auth refusal refuses the call but not the
   *   connection, and there is no auth clock.
   */
  constructor(endpoint: Endpoint, core: ServerCore, inProcess = false) {
    this.core = core;
    this.options = core.options;
    this.inProcess = inProcess;
    this.remoteAddress = inProcess ? 'in-process@' : endpoint.remoteAddress;
    this.closed$ = this.closed.asObservable();
    this.progressAt = this.options.scheduler.now();
    const { maxMessageBytes, maxMetadataEntries, maxMetadataBytes, scheduler } = this.options;
    this.frames = endpoint.frames(
      { maxMessageBytes, maxMetadataEntries, maxMetadataBytes, scheduler },
      {
        onMessage: (message) => this.receive(message),
        onChunk: (completed) => this.chunkDone(completed),
        onClose: (error) => this.onClose(error),
        onDrain: () => this.onDrain(),
      },
    );
    const timeouts = inProcess ? { ...this.options, authTimeoutMs: 0 } : this.options;
    this.watchdog = new ConnectionWatchdog(timeouts, this.options.scheduler, (why) => this.expire(why));
    if (core.observed) core.emit({ type: 'connection-opened', remoteAddress: this.remoteAddress });
  }

  /** True until the connection closes. */
  get isOpen(): boolean {
    return this.frames.open;
  }

  /** Calls being served (the backlog excluded). */
  get inflightCount(): number {
    return this.inflight.size;
  }

  /** True when no call is being served or waiting. */
  get idle(): boolean {
    return this.inflight.size === 0 && this.backlog.length === 0;
  }

  push(service: string, method: string, data: unknown, options: PushOptions = {}): boolean {
    if (!this.frames.open || this.frames.queuedBytes > this.options.maxPushQueueBytes) return false;
    this.sendPush(service, method, data, options);
    return true;
  }

  push$(service: string, method: string, data: unknown, options: PushOptions = {}): Observable<void> {
    return new Observable<void>((subscriber) => {
      const attempt = (): boolean => {
        if (!this.frames.open) {
          subscriber.error(
            new ConnectionClosedError('the client connection closed before the push was sent', {
              details: { remoteAddress: this.remoteAddress },
            }),
          );
          return true;
        }
        if (!this.frames.writable) return false;
        try {
          this.sendPush(service, method, data, options);
        } catch (error) {
          subscriber.error(error);
          return true;
        }
        subscriber.complete();
        return true;
      };
      if (attempt()) return;
      // The subscriber ends in attempt(), which runs this subscription's teardown.
      let settled = false;
      return merge(this.drained, this.closed).subscribe(() => {
        if (!settled) settled = attempt();
      });
    });
  }

  /**
   * Aborts every call in flight with `reason` (each gets an error reply saying so) and closes the
   * connection once the replies are sent.
   */
  close(reason: RpcError): void {
    this.dropBacklog();
    for (const [seq, call] of [...this.inflight]) {
      call.abort(reason);
      this.finish(
        seq,
        call,
        this.errorReply(
          call.request,
          reason.message,
          undefined,
          reason.code === 'UNAVAILABLE' || reason.code === 'UNAUTHENTICATED' ? reason.code : undefined,
        ),
      );
    }
    this.frames.end();
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.frames.destroy();
  }

  /** Bytes this connection holds, as the server last heard. */
  get heldBytes(): number {
    return this.accounted;
  }

  /** When input last arrived or output last drained (scheduler time). */
  get lastProgress(): number {
    return this.progressAt;
  }

  /**
   * Closes the connection to bring the server back within `maxBufferedBytes`; what it held is
   * released from the server's count at once.
   */
  evict(why: string): void {
    if (this.evicted) return;
    this.evicted = true;
    this.account();
    this.cut(why, { evicted: true });
  }

  private sendPush(service: string, method: string, data: unknown, options: PushOptions): void {
    const serializeType = options.serializeType ?? this.lastSerializeType;
    const codec = this.options.codecs.get(serializeType);
    const payload = encodePayload(data, codec, undefined);
    const seq = this.controlSeq();
    const metadata = toMetadata('push metadata', options.metadata);
    this.frames.send(
      requestMessage(
        this.dialect.magic,
        seq,
        service,
        method,
        metadata,
        payload,
        serializeType,
        CompressType.None,
        true,
      ),
    );
    this.watchdog.sent();
    if (!this.frames.writable) this.updateReading();
  }

  private receive(message: Message): void {
    this.dialect = dialectOfMagic(message.magic) ?? PHOBOS;
    if (message.messageType !== MessageType.Request) return;
    if (message.heartbeat) {
      this.heartbeat(message);
      return;
    }
    if (message.invalid) {
      // Within the frame's lengths but past a limit: answered, and the connection goes on.
      this.protocolError('over-limit');
      if (!message.oneway)
        this.send(this.errorReply(message, message.invalid.message, undefined, 'INVALID_ARGUMENT'));
      return;
    }
    if (message.oneway && message.servicePath === CANCEL_SERVICE_PATH) {
      if (message.serviceMethod === CANCEL_METHOD) this.cancel(message);
      else if (message.serviceMethod === CREDIT_METHOD) this.credit(message);
      return;
    }
    if (message.oneway && message.metadata.size > 0 && message.metadata.has(MetadataKey.Stream)) {
      // A value (or the end) of a caller's input stream; one for a call that no longer reads
      // its input, or never did, is dropped.
      this.inflight.get(message.seq)?.input?.receive(message);
      return;
    }
    if (this.refusing) return;
    if (this.backlog.length === 0 && this.hasRoom()) {
      this.start(message);
      return;
    }
    if (this.backlog.length < this.options.maxQueuedRequests && !this.core.overBudget) {
      // Past the concurrency limit, or replies are not leaving: the request waits its turn.
      this.backlog.push(message);
      this.waitingBytes += message.payload.length;
      this.watchdog.busy(true);
      return;
    }
    this.refuseBusy(message);
  }

  /** Answers a request that can neither run nor wait: the caller may retry elsewhere. */
  private refuseBusy(request: Message): void {
    if (request.oneway) {
      this.options.logger.warn('server busy: a oneway request was dropped', {
        remoteAddress: this.remoteAddress,
        service: request.servicePath,
        method: request.serviceMethod,
      });
      return;
    }
    const reply = this.busyReply(request);
    if (this.core.observed) {
      const call = new InflightCall(request);
      this.callStarted(call);
      this.callFinished(call, reply);
    }
    this.send(reply);
  }

  /** The `RESOURCE_EXHAUSTED` error reply of a request the server has no room for, saying why. */
  private busyReply(request: Message): Message {
    const { maxConcurrentRequests, maxQueuedRequests } = this.options;
    const why = this.core.overBudget
      ? 'the server holds more than maxBufferedBytes'
      : `${this.inflight.size} calls run (maxConcurrentRequests ${maxConcurrentRequests}) and ${this.backlog.length} wait (maxQueuedRequests ${maxQueuedRequests}) on this connection`;
    return this.errorReply(
      request,
      `server busy: ${why}; retry later or call another server`,
      undefined,
      'RESOURCE_EXHAUSTED',
    );
  }

  /**
   * Echoes a heartbeat, keeping at most one echo back while replies are not leaving (a newer
   * heartbeat replaces it). One that carries a token `authorize` accepts authenticates the
   * connection; a refused one is only echoed.
   */
  private heartbeat(message: Message): void {
    const authorize = this.options.authorize;
    if (
      authorize &&
      !this.watchdog.isAuthenticated &&
      !message.invalid &&
      message.metadata.has(MetadataKey.Auth)
    ) {
      this.askAuthorize(authorize, message, (granted) => {
        if (granted) this.watchdog.authenticated();
      });
    }
    const echo = heartbeatReply(message);
    if (this.frames.writable) this.send(echo);
    else this.heldEcho = echo;
  }

  /**
   * Asks `authorize` about a frame's `__AUTH` token and tells `settle` whether it was granted
   * (with what it threw or rejected with, if anything). Only `true` grants; a verdict that is a
   * thenable is adopted by a promise, so nothing it does can throw here.
   */
  private askAuthorize(
    authorize: Authorize,
    frame: Message,
    settle: (granted: boolean, error?: unknown) => void,
  ): void {
    let verdict: unknown;
    try {
      verdict = authorize(frame.metadata.get(MetadataKey.Auth), {
        service: frame.servicePath,
        method: frame.serviceMethod,
        metadata: frame.metadata,
        remoteAddress: this.remoteAddress,
      });
    } catch (error) {
      settle(false, error);
      return;
    }
    if (typeof verdict === 'boolean') settle(verdict);
    else {
      adopt(verdict).then(
        (ok) => settle(ok === true),
        (error: unknown) => settle(false, error),
      );
    }
  }

  private cancel(message: Message): void {
    if (message.payload.length !== 8) return;
    const seq = Buffer.from(message.payload.buffer, message.payload.byteOffset, 8).readBigUInt64BE(0);
    const call = this.inflight.get(seq);
    if (call) {
      call.abort(new CancelledError('the caller cancelled the call', { details: { seq: String(seq) } }));
      this.finish(seq, call, undefined);
      return;
    }
    const waiting = this.backlog.findIndex((request) => request.seq === seq);
    if (waiting >= 0) {
      const [request] = this.backlog.splice(waiting, 1);
      this.earlyCredit.delete(seq);
      this.waitingBytes -= request?.payload.length ?? 0;
      this.next();
    }
  }

  /** A caller grants a stream more credit; a grant for a stream that ended meanwhile is dropped. */
  private credit(message: Message): void {
    const grant = readCredit(message.payload);
    if (grant === undefined) {
      this.protocolError('bad-stream');
      return;
    }
    const call = this.inflight.get(grant.stream);
    if (call?.stream !== undefined) {
      if (call.stream.grant(grant.credit) !== undefined) this.protocolError('bad-stream');
      return;
    }
    // A grant may come before its stream starts (the call waits for authorize, a heavy payload's
    // turn or room on the connection): it is kept for it, within the most a stream may have.
    const waiting = call ?? this.backlog.find((request) => request.seq === grant.stream);
    if (waiting === undefined) return;
    const early = (this.earlyCredit.get(grant.stream) ?? 0) + grant.credit;
    if (early > MAX_STREAM_CREDIT) this.protocolError('bad-stream');
    else this.earlyCredit.set(grant.stream, early);
  }

  private start(request: Message): void {
    const seq = request.seq;
    if (this.inflight.has(seq)) {
      this.reply(
        request,
        this.errorReply(request, `seq ${seq} is already in flight on this connection`, undefined),
      );
      return;
    }
    const call = new InflightCall(request);
    this.inflight.set(seq, call);
    if (this.core.observed) this.callStarted(call);
    this.watchdog.busy(true);
    this.lastSerializeType = request.serializeType;
    if (this.core.draining) {
      this.finish(
        seq,
        call,
        this.errorReply(request, 'server is shutting down; call another instance', undefined, 'UNAVAILABLE'),
      );
      return;
    }
    const authorize = this.options.authorize;
    if (authorize) {
      this.askAuthorize(authorize, request, (granted, error) => {
        if (call.done) return;
        if (granted) this.authorized(request, call);
        else this.refuse(request, call, error);
      });
      return;
    }
    this.dispatch(request, call);
  }

  private authorized(request: Message, call: InflightCall): void {
    this.watchdog.authenticated();
    this.dispatch(request, call);
  }

  /**
   * Runs a call now, or in its turn when its payload is heavy to decode; a heavy one that finds
   * the server past its budget is answered busy rather than held.
   */
  private dispatch(request: Message, call: InflightCall): void {
    if (this.decodeBound(request) < LIGHT_BYTES) {
      this.run(request, call);
      return;
    }
    if (this.core.overBudget) {
      this.finish(request.seq, call, this.busyReply(request));
      return;
    }
    const bytes = request.payload.length;
    this.waitingBytes += bytes;
    this.account();
    this.core.later(this, () => {
      this.waitingBytes -= bytes;
      this.account();
      if (!call.done) this.run(request, call);
    });
  }

  /** The most bytes decoding the request's payload may take: a compressed one may inflate. */
  private decodeBound(request: Message): number {
    const bytes = request.payload.length;
    if (request.compressType === CompressType.None) return bytes;
    return Math.min(this.options.maxDecompressedBytes, bytes * this.options.maxCompressionRatio);
  }

  private refuse(request: Message, call: InflightCall, error: unknown): void {
    this.protocolError('auth-refused');
    const why =
      error === undefined ? 'the __AUTH token was refused' : `authorization failed: ${describeThrown(error)}`;
    this.finish(
      request.seq,
      call,
      this.errorReply(request, `unauthorized: ${why}`, undefined, 'UNAUTHENTICATED'),
    );
    if (this.inProcess) return;
    this.refusing = true;
    this.options.logger.warn('closing connection: call refused by authorize', {
      remoteAddress: this.remoteAddress,
      service: request.servicePath,
      method: request.serviceMethod,
    });
    this.close(new UnauthenticatedError('connection closed: unauthorized'));
  }

  private run(request: Message, call: InflightCall): void {
    const seq = request.seq;
    const service = this.core.service(request.servicePath);
    if (!service) {
      const known = this.core.serviceNames();
      const listed = this.options.listMethodsInErrors
        ? `; registered: ${known.length ? known.join(', ') : '(none)'}`
        : '';
      this.finish(
        seq,
        call,
        this.errorReply(
          request,
          `can not find service "${request.servicePath}"${listed}`,
          undefined,
          'NOT_FOUND',
        ),
      );
      return;
    }
    const method = service.methods.get(request.serviceMethod);
    if (!method) {
      const listed = this.options.listMethodsInErrors
        ? `; methods: ${[...service.methods.keys()].join(', ')}`
        : '';
      const message = `can not find method "${request.serviceMethod}" of service "${service.name}"${listed}`;
      this.finish(seq, call, this.errorReply(request, message, undefined, 'NOT_FOUND'));
      return;
    }
    let codec: ReturnType<ResolvedServerOptions['codecs']['get']>;
    let args: unknown;
    try {
      codec = this.options.codecs.get(request.serializeType);
      if (request.metadata.size > 0 && request.metadata.get(MetadataKey.StreamInput) === 'stream') {
        // The arguments come as a stream: the handler gets an Observable of them.
        this.invoke(request, call, service, method, codec, this.inputOf(request, call, codec, method));
        return;
      }
      args = decodePayload(
        request.payload,
        request.compressType,
        codec,
        method.types.requestType,
        this.options,
      );
    } catch (error) {
      this.badPayload(request, call, error);
      return;
    }
    if (args instanceof Promise) {
      // Inflated on the thread pool: the call may be cancelled, or its connection closed, meanwhile.
      args.then(
        (decoded) => {
          if (!call.done) this.invoke(request, call, service, method, codec, decoded);
        },
        (error: unknown) => {
          if (!call.done) this.badPayload(request, call, error);
        },
      );
      return;
    }
    this.invoke(request, call, service, method, codec, args);
  }

  private badPayload(request: Message, call: InflightCall, error: unknown): void {
    this.protocolError(isBomb(error) ? 'bomb' : 'bad-payload');
    this.finish(
      request.seq,
      call,
      this.errorReply(request, describeThrown(error), undefined, 'INVALID_ARGUMENT'),
    );
  }

  /**
   * The caller's input stream as the handler's argument: an Observable, subscribed once. At
   * subscription the server grants a window of credit (and half a window again as values reach
   * the handler); unsubscribing before the end tells the caller to stop (a cancel notice of the
   * call's seq). Values past the credit fail it with a ProtocolError (`bad-stream`).
   */
  private inputOf(
    request: Message,
    call: InflightCall,
    codec: ReturnType<ResolvedServerOptions['codecs']['get']>,
    method: ServiceMethod,
  ): Observable<unknown> {
    const seq = request.seq;
    let taken = false;
    return new Observable<unknown>((subscriber) => {
      if (taken) {
        subscriber.error(new TypeError("a call's input stream can be subscribed once"));
        return undefined;
      }
      taken = true;
      if (call.done) {
        subscriber.error(call.endReason());
        return undefined;
      }
      const consumer = new StreamConsumer(
        {
          decode: (frame) => this.decodeInput(frame, codec, method),
          grant: (credit) => {
            if (!call.done && this.frames.open)
              this.send(creditMessage(this.dialect.magic, this.controlSeq(), seq, credit));
          },
          leave: (cancel) => {
            if (call.input === consumer) call.input = undefined;
            if (cancel && !call.done && this.frames.open)
              this.send(cancelMessage(this.dialect.magic, this.controlSeq(), seq));
          },
          next: (value) => subscriber.next(value.data),
          complete: () => subscriber.complete(),
          error: (error) => {
            if (error instanceof ProtocolError) this.protocolError('bad-stream');
            subscriber.error(error);
          },
        },
        DEFAULT_STREAM_WINDOW,
        0,
      );
      call.input = consumer;
      call.endInput = (reason) => {
        if (call.input !== consumer) return;
        consumer.cancel();
        subscriber.error(reason);
      };
      consumer.grant(DEFAULT_STREAM_WINDOW);
      return () => consumer.cancel();
    });
  }

  /** One value of a caller's input stream, decoded; its error frame as the error to raise. */
  private decodeInput(
    frame: Message,
    codec: ReturnType<ResolvedServerOptions['codecs']['get']>,
    method: ServiceMethod,
  ): StreamValue | RpcError | Promise<StreamValue | RpcError> {
    if (frame.invalid) return frame.invalid;
    if (frame.status !== MessageStatus.Normal) {
      const text = frame.metadata.get(this.dialect.errorKey) ?? 'no message';
      return new RpcError(`the caller's input stream failed: ${text}`);
    }
    try {
      const data = decodePayload(
        frame.payload,
        frame.compressType,
        codec,
        method.types.requestType,
        this.options,
      );
      if (!(data instanceof Promise)) return { data, metadata: frame.metadata };
      return data.then(
        (decoded) => ({ data: decoded, metadata: frame.metadata }),
        (error: unknown) => RpcError.from(error),
      );
    } catch (error) {
      return RpcError.from(error);
    }
  }

  /** The seq of a frame the server sends on its own (pushes, credit and cancel notices). */
  private controlSeq(): bigint {
    this.pushSeq += 1n;
    return this.pushSeq;
  }

  /** Calls the handler with the decoded arguments. */
  private invoke(
    request: Message,
    call: InflightCall,
    service: Service,
    method: ServiceMethod,
    codec: ReturnType<ResolvedServerOptions['codecs']['get']>,
    args: unknown,
  ): void {
    const seq = request.seq;
    const timeoutMs = serverTimeoutMs(request.metadata.get(MetadataKey.ServerTimeout));
    const ctx = this.context(request, call, timeoutMs);
    if (timeoutMs > 0) {
      call.timer = this.core.deadlines.add(timeoutMs, () => {
        const reason = new DeadlineExceededError(
          `deadline exceeded: the caller allowed ${timeoutMs} ms (__ServerTimeout)`,
          {
            details: { timeoutMs },
          },
        );
        call.abort(reason);
        this.finish(seq, call, this.errorReply(request, reason.message, ctx, 'DEADLINE_EXCEEDED'));
      });
    }
    const replyType = method.types.replyType;
    const reply = (value: unknown): void => {
      const message = this.okReply(request, value, codec, replyType, ctx);
      // Compressed on the thread pool: the deadline or a cancel may end the call meanwhile.
      if (message instanceof Promise) message.then((ready) => this.finish(seq, call, ready));
      else this.finish(seq, call, message);
    };
    const fail = (error: unknown): void =>
      this.finish(seq, call, this.errorReply(request, describeThrown(error), ctx));
    // A caller of ours that takes a stream of replies says so, with its first credit.
    const credit = request.metadata.size === 0 ? undefined : streamCreditOf(request.metadata);
    let result: unknown;
    try {
      // Without interceptors the method is called directly: most handlers return a value or a
      // Promise, and need no Observable around them.
      result = this.core.intercepted
        ? this.core.handlerFor(method)({ service: service.name, method: method.name, args, ctx })
        : method.invoke(args, ctx);
      if (credit !== undefined && isStreamSource(result))
        this.stream(request, call, result, credit, codec, replyType, ctx);
      else this.settle(call, result, reply, fail);
    } catch (error) {
      // Thrown by the handler, or by what it returned when looked at (a getter, a Proxy).
      fail(error);
    }
  }

  /**
   * Replies with what a handler returned: the first value of an Observable, what a thenable
   * settles to, or the value itself. Reading the result may throw (a `then` getter, a Proxy):
   * the caller turns that into an error reply.
   */
  private settle(
    call: InflightCall,
    result: unknown,
    reply: (value: unknown) => void,
    fail: (error: unknown) => void,
  ): void {
    if (isObservable(result)) {
      // The first value is the reply: the subscription ends there, whether the value came while
      // subscribing (an `of`) or later.
      let replied = false;
      let subscription: Subscription | undefined;
      subscription = result.subscribe({
        next: (value) => {
          if (replied) return;
          replied = true;
          reply(value);
          subscription?.unsubscribe();
        },
        error: fail,
        complete: () => {
          if (!replied) reply(undefined);
        },
      });
      if (replied) subscription.unsubscribe();
      else call.subscription = subscription;
    } else if (isAsyncIterable(result)) {
      // Asked for one reply: an async iterable's first value, as an Observable's.
      this.settle(call, from(result), reply, fail);
    } else if (isThenable(result)) {
      // A thenable is adopted by a promise, which catches a `then` that throws. A late settlement
      // after a cancel or a deadline finds the call done and is dropped.
      adopt(result).then(reply, fail);
    } else {
      reply(result);
    }
  }

  private context(request: Message, call: InflightCall, timeoutMs: number): CallContext {
    const deadline = timeoutMs > 0 ? this.options.scheduler.now() + timeoutMs : undefined;
    return new ServerCallContext(request, call, this, deadline);
  }

  private okReply(
    request: Message,
    value: unknown,
    codec: ReturnType<ResolvedServerOptions['codecs']['get']>,
    replyType: ServiceMethod['types']['replyType'],
    ctx: CallContext,
  ): Message | Promise<Message> {
    let reply: Message | Promise<Message>;
    try {
      reply = this.encodeReply(request, value, codec, replyType, ctx.replyMetadata);
    } catch (error) {
      return this.cannotEncode(request, error, ctx);
    }
    if (!(reply instanceof Promise)) return reply;
    return reply.catch((error: unknown) => this.cannotEncode(request, error, ctx));
  }

  /**
   * The normal reply (or stream frame) carrying `value`: a promise of it when the payload is
   * compressed on the thread pool. Throws (or rejects) when the value does not encode.
   */
  private encodeReply(
    request: Message,
    value: unknown,
    codec: ReturnType<ResolvedServerOptions['codecs']['get']>,
    replyType: ServiceMethod['types']['replyType'],
    metadata: Message['metadata'],
  ): Message | Promise<Message> {
    // A reply mirrors its request's compress type.
    const compressType = request.compressType;
    const compressor =
      compressType === CompressType.None ? undefined : this.options.compressors.get(compressType);
    const encoded: EncodedPayload = encodePayload(value, codec, replyType, compressor, this.options);
    if (encoded instanceof Uint8Array) return replyMessage(request, metadata, encoded);
    if (!(encoded instanceof Promise))
      return replyMessage(request, metadata, encoded.payload, encoded.compressType);
    // Compressed on the thread pool: only such replies pay for this closure.
    return encoded.then(({ payload, compressType }) =>
      replyMessage(request, metadata, payload, compressType),
    );
  }

  /**
   * Streams what a handler returned to a caller that asked for a stream: a `next` frame per
   * value as the caller's credit allows, then a `complete` frame, or an error reply marked
   * `error`. Cancelling the call (or its connection closing) stops the source.
   */
  private stream(
    request: Message,
    call: InflightCall,
    source: StreamSource,
    credit: number,
    codec: ReturnType<ResolvedServerOptions['codecs']['get']>,
    replyType: ServiceMethod['types']['replyType'],
    ctx: CallContext,
  ): void {
    const seq = request.seq;
    const early = this.earlyCredit.get(seq) ?? 0;
    this.earlyCredit.delete(seq);
    const stream = new StreamProducer(
      Math.min(credit + early, MAX_STREAM_CREDIT),
      this.options.maxStreamBacklog,
      {
        next: (value) =>
          this.encodeReply(
            request,
            value,
            codec,
            replyType,
            streamMetadata(StreamSignal.Next, ctx.replyMetadata),
          ),
        send: (frame) => {
          this.send(frame);
          if (this.frames.writable) return true;
          // The socket takes no more for now: the stream holds its values until it drains.
          this.stalledStreams.add(stream);
          return false;
        },
        complete: () =>
          this.finish(
            seq,
            call,
            replyMessage(request, streamMetadata(StreamSignal.Complete, ctx.replyMetadata), EMPTY_PAYLOAD),
          ),
        fail: (error, code) =>
          this.finish(seq, call, this.errorReply(request, describeThrown(error), ctx, code)),
      },
    );
    call.stream = stream;
    const subscription = stream.start(source);
    if (call.done) subscription.unsubscribe();
    else call.subscription = subscription;
  }

  private cannotEncode(request: Message, error: unknown, ctx: CallContext): Message {
    return this.errorReply(request, `cannot encode the reply: ${describeThrown(error)}`, ctx);
  }

  private errorReply(
    request: Message,
    message: string,
    ctx: CallContext | undefined,
    code?: ServerErrorCode,
  ): Message {
    return errorReply(request, this.dialect, boundedMessage(message), code, replyMetadataOf(ctx));
  }

  private finish(seq: bigint, call: InflightCall, reply: Message | undefined): void {
    if (call.done) return;
    call.done = true;
    call.stop();
    this.inflight.delete(seq);
    if (this.earlyCredit.size > 0) this.earlyCredit.delete(seq);
    if (call.startedAt > 0) this.callFinished(call, reply);
    if (reply && !reply.oneway) {
      // The error that ends a stream (the handler's, the deadline's...) says so.
      const last =
        call.stream !== undefined && reply.status === MessageStatus.Error
          ? { ...reply, metadata: streamMetadata(StreamSignal.Error, reply.metadata) }
          : reply;
      this.send(last);
    }
    this.next();
  }

  private send(reply: Message): void {
    try {
      this.frames.send(reply);
    } catch (error) {
      // The reply did not fit in a frame (maxMessageBytes), or the handler put something other
      // than strings in its reply metadata: say so instead.
      const why = `cannot send the reply: ${describeThrown(error)}`;
      try {
        this.frames.send(this.errorReply(reply, why, undefined));
      } catch (again) {
        this.options.logger.warn(`${why}; nor the error reply: ${describeThrown(again)}`, {
          remoteAddress: this.remoteAddress,
        });
      }
    }
    if (!this.frames.writable) this.updateReading();
  }

  private reply(request: Message, reply: Message): void {
    if (!request.oneway) this.send(reply);
  }

  /** Starts waiting requests while there is room, then decides whether to read more. */
  private next(): void {
    while (this.backlog.length > 0 && this.hasRoom()) {
      const request = this.backlog.shift() as Message;
      this.waitingBytes -= request.payload.length;
      this.start(request);
    }
    this.updateReading();
    if (this.idle) {
      this.watchdog.busy(false);
      this.core.connectionIdle(this);
    }
  }

  private hasRoom(): boolean {
    return this.inflight.size < this.options.maxConcurrentRequests && this.frames.writable;
  }

  /**
   * Reads unless replies are not leaving; tells the watchdog whether output is stalled, and the
   * server what is held.
   */
  private updateReading(): void {
    const stalled = !this.frames.writable;
    this.watchdog.writeStalled(stalled);
    if (stalled) this.frames.pause();
    else this.frames.resume();
    this.account();
  }

  /** A chunk of input was handled: the clocks, and what the connection holds. */
  private chunkDone(completed: number): void {
    this.watchdog.chunk(completed, this.frames.bufferedBytes > 0);
    this.progressAt = this.options.scheduler.now();
    this.account();
  }

  private onDrain(): void {
    this.progressAt = this.options.scheduler.now();
    if (this.stalledStreams.size > 0) {
      const stalled = [...this.stalledStreams];
      this.stalledStreams.clear();
      for (const stream of stalled) stream.resume();
    }
    const echo = this.heldEcho;
    this.heldEcho = undefined;
    if (echo) this.send(echo);
    this.next();
    this.drained.next();
  }

  /** Bytes this connection holds: a frame arriving, requests waiting, output stuck in the socket. */
  private held(): number {
    const output = this.frames.writable ? 0 : this.frames.queuedBytes;
    return this.frames.bufferedBytes + this.waitingBytes + output;
  }

  /** Tells the server what this connection holds now, if that changed. */
  private account(): void {
    const open = this.frames.open && !this.evicted;
    if (!open && this.accounted === 0) return;
    const held = open ? this.held() : 0;
    if (held === this.accounted) return;
    const delta = held - this.accounted;
    this.accounted = held;
    this.core.account(delta);
  }

  private expire(why: WatchdogExpiry): void {
    const { frameTimeoutMs, authTimeoutMs } = this.options;
    switch (why) {
      case 'idle':
        // Nothing in flight: a quiet close, nothing to report.
        this.frames.end();
        return;
      case 'frame':
        this.cut(`a frame did not arrive whole within frameTimeoutMs (${frameTimeoutMs} ms)`, {
          timeout: why,
        });
        return;
      case 'write':
        this.cut(`the peer read none of its replies for frameTimeoutMs (${frameTimeoutMs} ms)`, {
          timeout: why,
        });
        return;
      case 'auth':
        this.cut(`no token authorize accepted within authTimeoutMs (${authTimeoutMs} ms)`, { timeout: why });
        return;
    }
  }

  /** Closes the connection at once, the reason logged with the peer's address and `details`. */
  private cut(why: string, details: Readonly<Record<string, unknown>>): void {
    this.frames.destroy(
      new ConnectionClosedError(`closing the connection: ${why}`, {
        details: { remoteAddress: this.remoteAddress, ...details },
      }),
    );
  }

  private dropBacklog(): void {
    this.backlog.length = 0;
    this.waitingBytes = 0;
    this.earlyCredit.clear();
  }

  private onClose(error: Error | undefined): void {
    const reason = error === undefined ? undefined : closeReasonOf(error);
    if (reason) this.protocolError(reason);
    if (error) {
      this.options.logger.warn(`connection closed: ${error.message}`, {
        remoteAddress: this.remoteAddress,
        ...(error instanceof RpcError ? { code: error.code, ...error.details } : {}),
      });
    }
    this.watchdog.stop();
    const closed = new ConnectionClosedError('the client connection closed', {
      details: { remoteAddress: this.remoteAddress },
    });
    for (const [seq, call] of this.inflight) {
      call.abort(closed);
      call.done = true;
      this.inflight.delete(seq);
      if (call.startedAt > 0) this.callFinished(call, undefined, 'CANCELLED');
    }
    this.dropBacklog();
    this.heldEcho = undefined;
    this.account();
    this.closed.next();
    this.closed.complete();
    this.drained.complete();
    if (this.core.observed) this.core.emit({ type: 'connection-closed', remoteAddress: this.remoteAddress });
    this.core.connectionClosed(this);
  }

  private protocolError(reason: ProtocolErrorReason): void {
    if (this.core.observed)
      this.core.emit({ type: 'protocol-error', remoteAddress: this.remoteAddress, reason });
  }

  private callStarted(call: InflightCall): void {
    const request = call.request;
    call.startedAt = performance.now();
    call.known = this.core.service(request.servicePath)?.methods.has(request.serviceMethod) === true;
    this.core.emit({
      type: 'call-started',
      service: request.servicePath,
      method: request.serviceMethod,
      known: call.known,
      requestBytes: request.payload.length,
    });
  }

  /** Tells `events$` how a started call ended: `code` when no reply says it (a cut connection). */
  private callFinished(call: InflightCall, reply: Message | undefined, code?: string): void {
    const request = call.request;
    this.core.emit({
      type: 'call-finished',
      service: request.servicePath,
      method: request.serviceMethod,
      known: call.known,
      code: code ?? replyCodeOf(reply),
      durationMs: performance.now() - call.startedAt,
      replyBytes: reply?.payload.length ?? 0,
    });
  }
}

/** The outcome a reply says: `OK`, its error code, `UNKNOWN` for a handler's error; `CANCELLED` for none. */
function replyCodeOf(reply: Message | undefined): string {
  if (reply === undefined) return 'CANCELLED';
  if (reply.status === 0) return 'OK';
  return reply.metadata.get(MetadataKey.ErrorCode) ?? 'UNKNOWN';
}

/** Whether a decode error is a payload that would inflate past the limits. */
function isBomb(error: unknown): boolean {
  return (
    error instanceof ProtocolError &&
    (error.details.maxCompressionRatio !== undefined || error.details.maxDecompressedBytes !== undefined)
  );
}

/** The protocol error a connection closed for, if it closed for one. */
function closeReasonOf(error: Error): ProtocolErrorReason | undefined {
  if (error instanceof ProtocolError)
    return error.field === 'length' && /maxMessageBytes/.test(error.message) ? 'too-large' : 'malformed';
  if (!(error instanceof RpcError)) return undefined;
  const timeout = error.details.timeout;
  if (timeout === 'frame') return 'frame-timeout';
  if (timeout === 'write') return 'write-timeout';
  if (timeout === 'auth') return 'auth-timeout';
  if (error.details.evicted === true) return 'evicted';
  return undefined;
}

/**
 * Turns what a method returned into an observable: its first value is the reply.
 *
 * @internal
 */
export function toObservable(result: unknown): Observable<unknown> {
  if (isObservable(result)) return result;
  if (isThenable(result)) return from(adopt(result));
  return of(result);
}

/**
 * The handler that calls a method.
 *
 * @internal
 */
export function invokeMethod(method: ServiceMethod): ServerHandler {
  return (call) => defer(() => toObservable(method.invoke(call.args, call.ctx)));
}

/**
 * The caller's deadline from `__ServerTimeout`: 0 (none) when absent or not a positive number,
 * and at most what a timer can wait (a longer deadline is as good as none, not one that passes
 * at once).
 */
function serverTimeoutMs(value: string | undefined): number {
  if (value === undefined) return 0;
  const ms = Number(value);
  return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
}

/** Error messages longer than this (in UTF-16 units) are cut before they go on the wire. */
const MAX_ERROR_MESSAGE_LENGTH = 8 * 1024;

/** An error message of at most {@link MAX_ERROR_MESSAGE_LENGTH}, saying when it was cut. */
function boundedMessage(message: string): string {
  if (message.length <= MAX_ERROR_MESSAGE_LENGTH) return message;
  return `${message.slice(0, MAX_ERROR_MESSAGE_LENGTH)}... (${message.length - MAX_ERROR_MESSAGE_LENGTH} more characters cut)`;
}

/**
 * The string entries of a handler's reply metadata, for an error reply: the handler may have put
 * anything in the map, and building an error reply must not fail.
 */
function replyMetadataOf(ctx: CallContext | undefined): Map<string, string> {
  const metadata = new Map<string, string>();
  if (ctx === undefined) return metadata;
  try {
    for (const [key, value] of ctx.replyMetadata) {
      if (typeof key === 'string' && typeof value === 'string') metadata.set(key, value);
    }
  } catch {
    // An iterator replaced by the handler threw: the error reply goes without its metadata.
  }
  return metadata;
}

/**
 * A promise that settles as `value` does. Unlike `Promise.resolve`, it never throws: a `then` or
 * `constructor` that throws when read or called rejects the promise instead.
 */
function adopt(value: unknown): Promise<unknown> {
  return new Promise((resolve) => resolve(value));
}

/** Whether a value has a `then` method; throws when reading `then` throws. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
