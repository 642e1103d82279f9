import type { Socket } from 'node:net';
import { AsyncSubject, defer, from, isObservable, type Observable, of, type Subscription, take } from 'rxjs';
import { CompressType, compressPayload } from '../compress/index.js';
import { describeThrown } from '../errors/describe-thrown.js';
import { CancelledError, ConnectionClosedError, DeadlineExceededError, RpcError } from '../errors/index.js';
import {
  CANCEL_SERVICE_PATH,
  type Dialect,
  dialectOfMagic,
  MessageType,
  MetadataKey,
  PHOBOS,
} from '../protocol/constants.js';
import { EMPTY_PAYLOAD, type Message } from '../protocol/message.js';
import { formatAddress } from '../transport/address.js';
import { FrameSocket } from '../transport/frame-socket.js';
import { MAX_TIMER_MS, toMetadata } from '../util/validate.js';
import type { CallContext, PushOptions, ServerConnection } from './call-context.js';
import type { ServerHandler } from './interceptor.js';
import type { ResolvedServerOptions } from './server-options.js';
import type { Service, ServiceMethod } from './service.js';

/** What a connection needs from its server. @internal */
export interface ServerCore {
  readonly options: ResolvedServerOptions;
  /** Whether any interceptor is installed (else methods are called directly). */
  readonly intercepted: boolean;
  readonly draining: boolean;
  service(name: string): Service | undefined;
  serviceNames(): string[];
  handlerFor(method: ServiceMethod): ServerHandler;
  connectionIdle(connection: ServerConnectionHandler): void;
  connectionClosed(connection: ServerConnectionHandler): void;
}

/** One call being served; its AbortController is made only if the handler asks for `ctx.signal`. */
class InflightCall {
  readonly request: Message;
  subscription: Subscription | undefined = undefined;
  timer: Subscription | undefined = undefined;
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

  /** Ends the handler's Observable and the deadline timer; a teardown that throws is ignored. */
  stop(): void {
    this.timer?.unsubscribe();
    try {
      this.subscription?.unsubscribe();
    } catch {
      // The handler's own teardown threw: the call is over all the same.
    }
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
 * limit, and writes replies.
 *
 * @internal
 */
export class ServerConnectionHandler implements ServerConnection {
  readonly remoteAddress: string;
  readonly closed$: Observable<void>;
  private readonly core: ServerCore;
  private readonly options: ResolvedServerOptions;
  private readonly frames: FrameSocket;
  private readonly inflight = new Map<bigint, InflightCall>();
  private readonly backlog: Message[] = [];
  private readonly closed = new AsyncSubject<void>();
  private dialect: Dialect = PHOBOS;
  private pushSeq = 0n;
  private lastSerializeType = 3;
  private refusing = false;

  constructor(socket: Socket, core: ServerCore) {
    this.core = core;
    this.options = core.options;
    this.remoteAddress = socket.remoteAddress
      ? formatAddress({ network: 'tcp', host: socket.remoteAddress, port: socket.remotePort ?? 0 })
      : 'unix@';
    this.closed$ = this.closed.asObservable();
    this.frames = new FrameSocket(
      socket,
      { maxMessageBytes: this.options.maxMessageBytes },
      {
        onMessage: (message) => this.receive(message),
        onClose: (error) => this.onClose(error),
        onDrain: () => this.next(),
      },
    );
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
    if (!this.frames.open) return false;
    const serializeType = options.serializeType ?? this.lastSerializeType;
    const codec = this.options.codecs.get(serializeType);
    const payload = data === undefined ? EMPTY_PAYLOAD : codec.encode(data);
    this.pushSeq += 1n;
    return this.frames.send({
      magic: this.dialect.magic,
      messageType: MessageType.Request,
      heartbeat: false,
      oneway: true,
      compressType: CompressType.None,
      status: 0,
      serializeType,
      seq: this.pushSeq,
      servicePath: service,
      serviceMethod: method,
      metadata: toMetadata('push metadata', options.metadata),
      payload,
    });
  }

  /**
   * Aborts every call in flight with `reason` (each gets an error reply saying so) and closes the
   * connection once the replies are sent.
   */
  close(reason: RpcError): void {
    this.backlog.length = 0;
    for (const [seq, call] of [...this.inflight]) {
      call.abort(reason);
      this.finish(
        seq,
        call,
        this.errorReply(
          call.request,
          reason.message,
          undefined,
          reason.code === 'UNAVAILABLE' ? 'UNAVAILABLE' : undefined,
        ),
      );
    }
    this.frames.end();
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.frames.destroy();
  }

  private receive(message: Message): void {
    this.dialect = dialectOfMagic(message.magic) ?? PHOBOS;
    if (message.messageType !== MessageType.Request) return;
    if (message.heartbeat) {
      this.frames.send({ ...message, messageType: MessageType.Response });
      return;
    }
    if (message.oneway && message.servicePath === CANCEL_SERVICE_PATH) {
      this.cancel(message);
      return;
    }
    if (this.refusing) return;
    if (this.backlog.length > 0 || !this.hasRoom()) {
      // Past the concurrency limit, or replies are not leaving: hold the request and stop reading.
      this.backlog.push(message);
      this.updateReading();
      return;
    }
    this.start(message);
  }

  private cancel(message: Message): void {
    if (message.payload.length !== 8) return;
    const seq = Buffer.from(message.payload.buffer, message.payload.byteOffset, 8).readBigUInt64BE(0);
    const call = this.inflight.get(seq);
    if (call) {
      call.abort(new CancelledError('the caller cancelled the call', { details: { seq: String(seq) } }));
      this.finish(seq, call, undefined);
    }
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
    if (authorize && request.servicePath !== CANCEL_SERVICE_PATH) {
      let verdict: boolean | Promise<boolean>;
      try {
        verdict = authorize(request.metadata.get(MetadataKey.Auth), {
          service: request.servicePath,
          method: request.serviceMethod,
          metadata: request.metadata,
          remoteAddress: this.remoteAddress,
        });
      } catch (error) {
        this.refuse(request, call, error);
        return;
      }
      if (typeof verdict === 'boolean') {
        if (verdict) this.run(request, call);
        else this.refuse(request, call, undefined);
      } else {
        adopt(verdict).then(
          (ok) => {
            if (call.done) return;
            if (ok === true) this.run(request, call);
            else this.refuse(request, call, undefined);
          },
          (error: unknown) => {
            if (!call.done) this.refuse(request, call, error);
          },
        );
      }
      return;
    }
    this.run(request, call);
  }

  private refuse(request: Message, call: InflightCall, error: unknown): void {
    const why =
      error === undefined ? 'the __AUTH token was refused' : `authorization failed: ${describeThrown(error)}`;
    this.finish(request.seq, call, this.errorReply(request, `unauthorized: ${why}`, undefined));
    this.refusing = true;
    this.options.logger.warn('closing connection: call refused by authorize', {
      remoteAddress: this.remoteAddress,
      service: request.servicePath,
      method: request.serviceMethod,
    });
    this.close(new CancelledError('connection closed: unauthorized'));
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
        this.errorReply(request, `can not find service "${request.servicePath}"${listed}`, undefined),
      );
      return;
    }
    const method = service.methods.get(request.serviceMethod);
    if (!method) {
      const listed = this.options.listMethodsInErrors
        ? `; methods: ${[...service.methods.keys()].join(', ')}`
        : '';
      const message = `can not find method "${request.serviceMethod}" of service "${service.name}"${listed}`;
      this.finish(seq, call, this.errorReply(request, message, undefined));
      return;
    }
    let args: unknown;
    let codec: ReturnType<ResolvedServerOptions['codecs']['get']>;
    try {
      codec = this.options.codecs.get(request.serializeType);
      let payload = request.payload;
      if (request.compressType !== CompressType.None) {
        payload = this.options.compressors
          .get(request.compressType)
          .decompress(payload, this.options.maxDecompressedBytes);
      }
      args =
        payload.length === 0
          ? undefined
          : codec.decode(payload, method.types.requestType ? { type: method.types.requestType } : {});
    } catch (error) {
      this.finish(seq, call, this.errorReply(request, describeThrown(error), undefined));
      return;
    }
    const timeoutMs = serverTimeoutMs(request.metadata.get(MetadataKey.ServerTimeout));
    const ctx = this.context(request, call, timeoutMs);
    if (timeoutMs > 0) {
      call.timer = this.options.scheduler.schedule(() => {
        const reason = new DeadlineExceededError(
          `deadline exceeded: the caller allowed ${timeoutMs} ms (__ServerTimeout)`,
          {
            details: { timeoutMs },
          },
        );
        call.abort(reason);
        this.finish(seq, call, this.errorReply(request, reason.message, ctx, 'DEADLINE_EXCEEDED'));
      }, timeoutMs);
    }
    const replyType = method.types.replyType;
    const reply = (value: unknown): void =>
      this.finish(seq, call, this.okReply(request, value, codec, replyType, ctx));
    const fail = (error: unknown): void =>
      this.finish(seq, call, this.errorReply(request, describeThrown(error), ctx));
    let result: unknown;
    try {
      // Without interceptors the method is called directly: most handlers return a value or a
      // Promise, and need no Observable around them.
      result = this.core.intercepted
        ? this.core.handlerFor(method)({ service: service.name, method: method.name, args, ctx })
        : method.invoke(args, ctx);
      this.settle(call, result, reply, fail);
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
      let replied = false;
      call.subscription = result.pipe(take(1)).subscribe({
        next: (value) => {
          replied = true;
          reply(value);
        },
        error: fail,
        complete: () => {
          if (!replied) reply(undefined);
        },
      });
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
  ): Message {
    try {
      let payload =
        value === undefined ? EMPTY_PAYLOAD : codec.encode(value, replyType ? { type: replyType } : {});
      let compressType: number = CompressType.None;
      if (request.compressType !== CompressType.None) {
        ({ payload, compressType } = compressPayload(
          payload,
          this.options.compressors.get(request.compressType),
          this.options.compressThresholdBytes,
        ));
      }
      return {
        ...request,
        messageType: MessageType.Response,
        compressType,
        status: 0,
        metadata: ctx.replyMetadata,
        payload,
      };
    } catch (error) {
      return this.errorReply(request, `cannot encode the reply: ${describeThrown(error)}`, ctx);
    }
  }

  private errorReply(
    request: Message,
    message: string,
    ctx: CallContext | undefined,
    code?: 'UNAVAILABLE' | 'DEADLINE_EXCEEDED',
  ): Message {
    const metadata = replyMetadataOf(ctx);
    metadata.set(this.dialect.errorKey, boundedMessage(message));
    if (code) metadata.set(MetadataKey.ErrorCode, code);
    return {
      ...request,
      magic: this.dialect.magic,
      messageType: MessageType.Response,
      compressType: CompressType.None,
      status: 1,
      metadata,
      payload: EMPTY_PAYLOAD,
    };
  }

  private finish(seq: bigint, call: InflightCall, reply: Message | undefined): void {
    if (call.done) return;
    call.done = true;
    call.stop();
    this.inflight.delete(seq);
    if (reply && !reply.oneway) this.send(reply);
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
      this.start(this.backlog.shift() as Message);
    }
    this.updateReading();
    if (this.idle) this.core.connectionIdle(this);
  }

  private hasRoom(): boolean {
    return this.inflight.size < this.options.maxConcurrentRequests && this.frames.writable;
  }

  private updateReading(): void {
    if (this.backlog.length > 0 || !this.hasRoom()) this.frames.pause();
    else this.frames.resume();
  }

  private onClose(error: Error | undefined): void {
    if (error) {
      this.options.logger.warn(`connection closed: ${error.message}`, {
        remoteAddress: this.remoteAddress,
        ...(error instanceof RpcError ? { code: error.code, ...error.details } : {}),
      });
    }
    const reason = new ConnectionClosedError('the client connection closed', {
      details: { remoteAddress: this.remoteAddress },
    });
    for (const [seq, call] of this.inflight) {
      call.abort(reason);
      call.done = true;
      call.timer?.unsubscribe();
      this.inflight.delete(seq);
    }
    this.backlog.length = 0;
    this.closed.next();
    this.closed.complete();
    this.core.connectionClosed(this);
  }
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
