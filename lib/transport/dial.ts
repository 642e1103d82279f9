import { createServer, type Server as NetServer, connect as netConnect, type Socket } from 'node:net';
import {
  type ConnectionOptions,
  createServer as createTlsServer,
  type TlsOptions,
  connect as tlsConnect,
} from 'node:tls';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { ConnectionError } from '../errors/index.js';
import { formatAddress, parseSocketAddress } from './address.js';

/**
 * Options of {@link dial}.
 *
 * @group Protocol
 */
export interface DialOptions {
  /** TLS options (certificate authority, client certificate, servername...); plain TCP when omitted. */
  readonly tls?: ConnectionOptions;
  /** Give up connecting after this long. */
  readonly connectTimeoutMs: number;
  /** Where the connect timeout is scheduled. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * What {@link listen} resolves to.
 *
 * @group Protocol
 */
export interface Listening {
  /** The listening server. */
  readonly server: NetServer;
  /** The bound address. */
  readonly address: string;
}

/**
 * Options of {@link listen}.
 *
 * @group Protocol
 */
export interface ListenOptions {
  /** TLS options (key, cert, client-certificate checks...); plain TCP when omitted. */
  readonly tls?: TlsOptions;
}

/**
 * Opens a socket to an address and calls back once it is ready (after the TLS handshake when
 * TLS is on).
 *
 * @returns a function that aborts the attempt (destroys the socket) if it has not succeeded yet.
 * @throws RangeError or TypeError for a malformed address or a `memory@` one, before anything is
 *   opened.
 * @example
 * ```ts
 * dial('tcp@127.0.0.1:8972', { connectTimeoutMs: 5_000 }, (error, socket) => { ... });
 * ```
 * @group Protocol
 */
export function dial(
  address: string,
  options: DialOptions,
  callback: (error: ConnectionError | undefined, socket: Socket | undefined) => void,
): () => void {
  const parsed = parseSocketAddress(address);
  const target = parsed.network === 'unix' ? { path: parsed.path } : { host: parsed.host, port: parsed.port };
  const socket: Socket = options.tls
    ? tlsConnect({
        ...options.tls,
        ...target,
        ...(parsed.network === 'tcp' && !options.tls.servername ? servername(parsed.host) : {}),
      })
    : netConnect(target);
  let settled = false;
  const finish = (error: ConnectionError | undefined): void => {
    if (settled) return;
    settled = true;
    timer.unsubscribe();
    socket.removeListener('error', onError);
    if (error) {
      socket.destroy();
      callback(error, undefined);
    } else {
      callback(undefined, socket);
    }
  };
  const onError = (error: Error): void =>
    finish(
      new ConnectionError(`cannot connect to ${address}: ${error.message}`, {
        cause: error,
        details: { address },
      }),
    );
  const timer = (options.scheduler ?? asyncScheduler).schedule(
    () =>
      finish(
        new ConnectionError(`cannot connect to ${address}: no answer within ${options.connectTimeoutMs} ms`, {
          details: { address, connectTimeoutMs: options.connectTimeoutMs },
        }),
      ),
    options.connectTimeoutMs,
  );
  socket.once(options.tls ? 'secureConnect' : 'connect', () => finish(undefined));
  socket.on('error', onError);
  return () => {
    if (settled) return;
    settled = true;
    timer.unsubscribe();
    socket.destroy();
  };
}

/**
 * Listens on an address and hands every accepted socket (after the TLS handshake when TLS is
 * on) to `onSocket`.
 *
 * @returns the server and the bound address (`tcp@127.0.0.1:40123` when port 0 was asked).
 * @throws RangeError or TypeError for a malformed address; rejects with {@link ConnectionError}
 *   when the address cannot be bound (in use, no permission).
 * @example
 * ```ts
 * const { server, address } = await listen('tcp@127.0.0.1:0', {}, (socket) => serve(socket));
 * ```
 * @group Protocol
 */
export function listen(
  address: string,
  options: ListenOptions,
  onSocket: (socket: Socket) => void,
): Promise<Listening> {
  const parsed = parseSocketAddress(address);
  const server = options.tls ? createTlsServer(options.tls, onSocket) : createServer(onSocket);
  if (options.tls) {
    // A failed handshake is the peer's problem, never the server's.
    server.on('tlsClientError', (_error, socket) => socket.destroy());
  }
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(
        new ConnectionError(`cannot listen on ${address}: ${error.message}`, {
          cause: error,
          details: { address },
        }),
      );
    };
    server.once('error', onError);
    const onListening = (): void => {
      server.removeListener('error', onError);
      const bound = server.address();
      const formatted =
        parsed.network === 'unix' || bound === null || typeof bound === 'string'
          ? address.startsWith('unix@')
            ? address
            : `unix@${String(bound)}`
          : formatAddress({ network: 'tcp', host: bound.address, port: bound.port });
      resolve({ server, address: formatted });
    };
    if (parsed.network === 'unix') server.listen(parsed.path, onListening);
    else server.listen(parsed.port, parsed.host, onListening);
  });
}

function servername(host: string): { servername?: string } {
  // SNI takes host names only, never IP addresses.
  return /^[\d.]+$/.test(host) || host.includes(':') ? {} : { servername: host };
}
