import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { lastValueFrom, type Observable, Subject } from 'rxjs';
import type { ServiceRegistry } from '../discovery/service-registry.js';
import { describeThrown } from '../errors/describe-thrown.js';
import { ConnectionError, RpcError } from '../errors/index.js';
import type { Gateway } from '../gateway/gateway.js';
import { DeadlineQueues } from '../operators/deadline-queue.js';
import { parseAddress } from '../transport/address.js';
import type { ByteStream } from '../transport/memory-pipe.js';
import { socketEndpoint, transportOption } from '../transport/tcp-transport.js';
import type { Endpoint, Transport, TransportListener } from '../transport/transport.js';
import { describeValue, durationOption, optionsObject } from '../util/validate.js';
import type { ServerHandler, ServerInterceptor } from './interceptor.js';
import { invokeMethod, LIGHT_BYTES, ServerConnectionHandler, type ServerCore } from './server-connection.js';
import type { ServerEvent } from './server-event.js';
import {
  DEFAULT_SHUTDOWN_GRACE_MS,
  type ResolvedServerOptions,
  resolveServerOptions,
  type ServerOptions,
} from './server-options.js';
import { createService, type RegisterOptions, type Service, type ServiceMethod } from './service.js';
import { TurnQueue } from './turn-queue.js';

/** Heavy decodes run in slices of this much work (ms), with other I/O between two slices. */
const HEAVY_SLICE_MS = 10;

/** Past `maxBufferedBytes`, connections are closed until the server holds this share of it. */
const EVICT_DOWN_TO = 0.75;

/**
 * Options of {@link Server.listen}.
 *
 * @group Server
 */
export interface ListenAdvertiseOptions {
  /**
   * The address to publish in registries, when the bound one is not what clients should dial
   * (listening on `0.0.0.0`, behind NAT). Default: the bound address.
   */
  readonly advertiseAddress?: string;
  /**
   * How clients reach the server: `tcpTransport` (TCP, Unix sockets, TLS; the default), or the
   * `MemoryNetwork` of `phobos/testing` (`memory@name` addresses, in this process).
   */
  readonly transport?: Transport;
}

/**
 * Options of {@link Server.shutdown}.
 *
 * @group Server
 */
export interface ShutdownOptions {
  /** How long in-flight calls may take to finish before they are aborted. Default 10 s. */
  readonly graceMs?: number;
}

/**
 * A Phobos server: exposes plain objects as services over the Phobos (and rpcx) wire protocol.
 *
 * A method receives `(args, ctx)` and returns a value, a Promise, or an Observable (its first
 * value is the reply). A thrown or rejected error becomes an error reply with its message.
 * Unknown services and methods get an error reply naming what was asked for (and, with
 * `listMethodsInErrors`, what is registered). Heartbeats are echoed, oneway requests get no
 * reply, and `ctx.push` sends server pushes. One server accepts both magics (0x42 Phobos, 0x08
 * rpcx) and answers each connection in its own dialect.
 *
 * @example
 * ```ts
 * const server = new Server();
 * server.register('HelloWorld', {
 *   Greet(args: { First: string }) { return { Second: `Hello ${args.First}` }; },
 * });
 * const address = await server.listen('tcp@127.0.0.1:8972');
 * process.on('SIGTERM', () => server.shutdown({ graceMs: 5_000 }));
 * ```
 * @group Server
 */
export class Server {
  /** The resolved options. */
  readonly options: ResolvedServerOptions;
  private readonly services = new Map<string, Service>();
  private readonly interceptors: ServerInterceptor[] = [];
  private readonly connections = new Set<ServerConnectionHandler>();
  private readonly listeners: TransportListener[] = [];
  private handlers = new WeakMap<ServiceMethod, ServerHandler>();
  private readonly idleWaiters = new Set<() => void>();
  private readonly events = new Subject<ServerEvent>();
  private draining = false;
  private readonly advertised: string[] = [];
  private shutdownPromise: Promise<void> | undefined;
  private readonly core: ServerCore;
  /** Bytes held by every connection together (see `maxBufferedBytes`). */
  private bufferedBytesNow = 0;
  /** Heavy decodes, run in slices between turns of I/O (see `later` of ServerCore). */
  private readonly heavy: TurnQueue<ServerConnectionHandler>;
  /** With the `http` option: the gateway and the HTTP server the RPC port hands HTTP to. */
  private http: { gateway: Gateway; httpServer: HttpServer } | undefined;
  /** Sockets whose first bytes have not yet said which protocol they speak, and HTTP ones. */
  private readonly sniffing = new Set<Socket>();
  private readonly httpSockets = new Set<Socket>();

  /**
   * @throws TypeError when `options` is not an object; RangeError naming an option that is out of
   *   range (`maxConcurrentRequests: 0`, `maxMessageBytes: -1`...).
   */
  constructor(options?: ServerOptions) {
    this.options = resolveServerOptions(options);
    this.heavy = new TurnQueue(HEAVY_SLICE_MS, (error) =>
      this.options.logger.warn(`internal error in a deferred call: ${describeThrown(error)}`),
    );
    const self = this;
    this.core = {
      options: this.options,
      get draining() {
        return self.draining;
      },
      get intercepted() {
        return self.interceptors.length > 0;
      },
      service: (name) => this.services.get(name),
      serviceNames: () => [...this.services.keys()],
      get overBudget() {
        return self.bufferedBytesNow > self.options.maxBufferedBytes;
      },
      handlerFor: (method) => this.handlerFor(method),
      account: (delta) => this.account(delta),
      later: (connection, task) => this.heavy.push(connection, task),
      connectionIdle: () => this.notifyIdle(),
      connectionClosed: (connection) => {
        this.connections.delete(connection);
        this.notifyIdle();
      },
      get observed() {
        return self.events.observed;
      },
      emit: (event) => this.events.next(event),
      deadlines: new DeadlineQueues(this.options.scheduler),
    };
  }

  /**
   * Exposes an object's methods as a service: the functions of the object and of the classes it
   * was built from, up to a built-in base class (never those of `Object.prototype`,
   * `EventEmitter`, streams or other platform classes); not the constructor; not names starting
   * with `_`. `options.methods` lists exactly what to expose instead; `options.exclude` hides
   * names.
   *
   * @param options - registry metadata (`weight=10&group=a` or a record), protobuf types per
   *   method, and the `methods` allow-list or `exclude` deny-list.
   * @throws TypeError when `implementation` is not an object; RangeError when the name is empty,
   *   reserved (`__phobos...`) or already registered, the object has no methods, or `methods`,
   *   `exclude` or `protobuf` name something that is not an exposed method.
   * @example
   * ```ts
   * class Arith {
   *   Mul(args: { A: number; B: number }) { return { C: args.A * args.B }; }
   * }
   * server.register('Arith', new Arith(), { metadata: 'weight=10' });
   * class Feed extends EventEmitter {
   *   Latest() { return 'news'; }   // exposed; emit, on... are not
   *   Reset() { this.emit('reset'); }
   * }
   * server.register('Feed', new Feed(), { exclude: ['Reset'] });   // Latest only
   * ```
   */
  register(name: string, implementation: object, options?: RegisterOptions): this {
    if (this.services.has(name))
      throw new RangeError(`service "${name}" is already registered; unregister it first`);
    const service = createService(name, implementation, optionsObject('register options', options));
    this.services.set(name, service);
    for (const address of this.advertised) this.publish(name, address, service.metadata);
    return this;
  }

  /**
   * Removes a service; calls to it get the unknown-service error reply.
   *
   * @returns whether the service was registered.
   * @example
   * ```ts
   * server.unregister('Arith');
   * ```
   */
  unregister(name: string): boolean {
    if (!this.services.delete(name)) return false;
    for (const address of this.advertised) this.withdraw(name, address);
    return true;
  }

  /**
   * The registered services, with their methods and registry metadata.
   *
   * @example
   * ```ts
   * for (const service of server.registered()) console.log(service.name, [...service.methods.keys()]);
   * ```
   */
  registered(): readonly Service[] {
    return [...this.services.values()];
  }

  /**
   * Adds an interceptor around every call. The first added is the outermost.
   *
   * @throws RangeError when `interceptor` is not a function.
   * @example
   * ```ts
   * server.use((next) => (call) => next(call).pipe(tap(() => metrics.calls.inc())));
   * ```
   */
  use(interceptor: ServerInterceptor): this {
    if (typeof interceptor !== 'function')
      throw new RangeError(`an interceptor must be a function, got ${describeValue(interceptor)}`);
    this.interceptors.push(interceptor);
    this.handlers = new WeakMap();
    return this;
  }

  /**
   * Starts accepting connections on an address: `tcp@host:port` (port 0 picks a free port),
   * `host:port`, or `unix@/path`. May be called more than once to listen on several addresses.
   *
   * @returns the bound address, e.g. `tcp@127.0.0.1:40123`, once every registry has published the
   *   services (a registry that fails is logged, and the server listens all the same).
   * @throws RangeError or TypeError for a malformed address; rejects with ConnectionError when
   *   the address cannot be bound, or when the server is shutting down.
   * @example
   * ```ts
   * const address = await server.listen('tcp@127.0.0.1:0');
   * ```
   */
  async listen(address: string, options?: ListenAdvertiseOptions): Promise<string> {
    if (this.shutdownPromise) throw new ConnectionError('the server is shut down; create a new one');
    const { advertiseAddress, transport } = optionsObject('listen options', options);
    if (advertiseAddress !== undefined) parseAddress(advertiseAddress);
    const through = transportOption(transport);
    if (this.options.http && !this.http) {
      const { serveHttpInProcess } = await import('../gateway/in-process.js');
      this.http = serveHttpInProcess(
        (stream) => this.acceptInProcess(stream),
        this.options,
        this.options.http,
      );
    }
    const listener = await through.listen(
      address,
      this.options.tls ? { tls: this.options.tls } : {},
      (endpoint) => this.accept(endpoint),
    );
    const bound = listener.address;
    this.listeners.push(listener);
    const advertised = advertiseAddress ?? bound;
    this.advertised.push(advertised);
    // Resolve once the registries hold the services, so that clients can find the server.
    await Promise.all(
      [...this.services.values()].map((service) => this.publish(service.name, advertised, service.metadata)),
    );
    return bound;
  }

  /**
   * Connections opening and closing, every call started and finished (outcome, duration, sizes)
   * and peers breaking the protocol, as they happen (see {@link ServerEvent}). Hot: subscribe
   * before `listen` to see everything. Nothing is built for it while nobody subscribes. It
   * completes when the server has shut down.
   *
   * @example
   * ```ts
   * server.events$.pipe(filter((event) => event.type === 'protocol-error')).subscribe((event) => log(event));
   * ```
   */
  get events$(): Observable<ServerEvent> {
    return this.events.asObservable();
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Bytes the server holds now in frames still arriving, requests waiting their turn and replies
   * the peers have not read: what `maxBufferedBytes` bounds (output under a socket's own
   * high-water mark is not counted).
   */
  get bufferedBytes(): number {
    return this.bufferedBytesNow;
  }

  /**
   * Shuts down gracefully: stops accepting connections, answers new calls with a "shutting
   * down" error, lets calls in flight finish for up to `graceMs`, aborts the rest (their
   * `ctx.signal` fires), then closes every connection. Calling it again returns the same promise.
   *
   * @throws RangeError when `graceMs` is not an integer >= 0.
   * @example
   * ```ts
   * process.on('SIGTERM', () => void server.shutdown({ graceMs: 5_000 }));
   * ```
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    const graceMs = durationOption(
      'graceMs',
      optionsObject('shutdown options', options).graceMs,
      DEFAULT_SHUTDOWN_GRACE_MS,
      0,
    );
    this.shutdownPromise ??= this.drain(graceMs);
    return this.shutdownPromise;
  }

  /**
   * Shuts down gracefully with the default grace (10 s), as {@link Server.shutdown}: what
   * `await using` calls at the end of the scope. The listening socket keeps the process alive
   * until then, as a server should.
   *
   * @example
   * ```ts
   * {
   *   await using server = new Server();
   *   server.register('Arith', new Arith());
   *   await server.listen('tcp@127.0.0.1:0');
   *   // ... serve
   * } // shut down here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  private async drain(graceMs: number): Promise<void> {
    this.draining = true;
    // Withdraw from registries first, so clients stop picking this server while it drains.
    const withdrawn = this.advertised.flatMap((address) =>
      [...this.services.keys()].map((name) => this.withdraw(name, address)),
    );
    this.advertised.length = 0;
    await Promise.all(withdrawn);
    const closed = Promise.all(this.listeners.map((listener) => listener.close()));
    for (const socket of this.sniffing) socket.destroy();
    // HTTP requests in flight drain with the calls they carry.
    const http = this.http;
    await Promise.all([this.whenIdle(graceMs), http?.gateway.close({ graceMs })]);
    // Never listening, it closes only to stop its timeout checks.
    http?.httpServer.close(() => {});
    http?.httpServer.closeAllConnections();
    for (const socket of this.httpSockets) socket.destroy();
    const reason = new ConnectionError(`the server shut down before the call finished (grace ${graceMs} ms)`);
    const connections = [...this.connections];
    for (const connection of connections) connection.close(reason);
    await Promise.all([
      closed,
      ...connections.map((connection) => lastValueFrom(connection.closed$, { defaultValue: undefined })),
    ]);
    this.events.complete();
  }

  /**
   * Serves a connection from this process (the HTTP side of the RPC port) like any other.
   *
   * @internal
   */
  acceptInProcess(stream: ByteStream): void {
    if (this.draining) {
      stream.destroy();
      return;
    }
    this.connections.add(new ServerConnectionHandler(socketEndpoint(stream), this.core, true));
  }

  /** Serves a link a listener accepted, unless the server is draining or full. */
  private accept(endpoint: Endpoint): void {
    if (this.draining) {
      endpoint.destroy();
      return;
    }
    const open = this.connections.size + this.sniffing.size + this.httpSockets.size;
    if (open >= this.options.maxConnections) {
      this.options.logger.warn(`connection refused: ${open} connections are open (maxConnections)`, {
        remoteAddress: endpoint.remoteAddress,
      });
      endpoint.destroy();
      return;
    }
    if (this.http && endpoint.stream) this.sniff(endpoint, endpoint.stream as Socket, this.http.httpServer);
    else this.connections.add(new ServerConnectionHandler(endpoint, this.core));
  }

  /**
   * Reads a connection's first bytes: a Phobos or rpcx frame (magic 0x42 or 0x08, then version 0)
   * is served as RPC; anything else goes to the HTTP server. A peer that sends nothing within
   * `frameTimeoutMs` (or `idleTimeoutMs` when that is off) is closed.
   */
  private sniff(endpoint: Endpoint, socket: Socket, httpServer: HttpServer): void {
    this.sniffing.add(socket);
    const waitMs = this.options.frameTimeoutMs || this.options.idleTimeoutMs;
    const timer = waitMs > 0 ? this.options.scheduler.schedule(() => socket.destroy(), waitMs) : undefined;
    const forget = (): void => {
      timer?.unsubscribe();
      this.sniffing.delete(socket);
      socket.off('data', first);
      socket.off('close', forget);
    };
    const first = (chunk: Buffer): void => {
      forget();
      socket.pause();
      socket.unshift(chunk);
      const rpc = (chunk[0] === 0x42 || chunk[0] === 0x08) && (chunk.length < 2 || chunk[1] === 0);
      if (rpc) this.connections.add(new ServerConnectionHandler(endpoint, this.core));
      else {
        this.httpSockets.add(socket);
        socket.once('close', () => this.httpSockets.delete(socket));
        httpServer.emit('connection', socket);
      }
      socket.resume();
    };
    socket.on('data', first);
    socket.once('close', forget);
    socket.on('error', () => {});
  }

  private whenIdle(graceMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        timer.unsubscribe();
        this.idleWaiters.delete(check);
        resolve();
      };
      const check = (): void => {
        if ([...this.connections].every((connection) => connection.idle)) done();
      };
      const timer = this.options.scheduler.schedule(done, graceMs);
      this.idleWaiters.add(check);
      check();
    });
  }

  private publish(service: string, address: string, metadata: string): Promise<void> {
    return this.tellRegistries('register', service, address, (registry) =>
      registry.register(service, address, metadata),
    );
  }

  private withdraw(service: string, address: string): Promise<void> {
    return this.tellRegistries('unregister', service, address, (registry) =>
      registry.unregister(service, address),
    );
  }

  private async tellRegistries(
    what: string,
    service: string,
    address: string,
    tell: (registry: ServiceRegistry) => void | Promise<void>,
  ): Promise<void> {
    await Promise.all(
      this.options.registries.map(async (registry) => {
        try {
          await tell(registry);
        } catch (error) {
          this.options.logger.warn(
            `could not ${what} ${service} at ${address}: ${RpcError.from(error).message}`,
            {
              service,
              address,
            },
          );
        }
      }),
    );
  }

  private account(delta: number): void {
    this.bufferedBytesNow += delta;
    if (delta > 0 && this.bufferedBytesNow > this.options.maxBufferedBytes) this.evict();
  }

  /**
   * Past `maxBufferedBytes`: closes connections that hold 64 KiB or more until the server holds
   * three quarters of it (so that a flood does not make it sort its connections on every chunk),
   * those that have not moved (no input arrived, no output drained) for the longest first, the
   * heaviest first among equals. A stalled sender or a peer that does not read goes before one
   * whose frame is still arriving.
   */
  private evict(): void {
    const max = this.options.maxBufferedBytes;
    const target = max * EVICT_DOWN_TO;
    const heavy = [...this.connections]
      .filter((connection) => connection.heldBytes >= LIGHT_BYTES)
      .sort((a, b) => a.lastProgress - b.lastProgress || b.heldBytes - a.heldBytes);
    const now = this.options.scheduler.now();
    for (const connection of heavy) {
      if (this.bufferedBytesNow <= target) return;
      connection.evict(
        `the server holds ${this.bufferedBytesNow} bytes, past maxBufferedBytes (${max}), and this connection held ${connection.heldBytes} with no progress for ${now - connection.lastProgress} ms`,
      );
    }
  }

  private notifyIdle(): void {
    for (const check of this.idleWaiters) check();
  }

  private handlerFor(method: ServiceMethod): ServerHandler {
    let handler = this.handlers.get(method);
    if (!handler) {
      handler = this.interceptors.reduceRight<ServerHandler>(
        (next, interceptor) => interceptor(next),
        invokeMethod(method),
      );
      this.handlers.set(method, handler);
    }
    return handler;
  }
}
