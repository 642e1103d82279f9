import type { Socket } from 'node:net';
import { describeValue } from '../util/validate.js';
import { formatAddress } from './address.js';
import { dial, listen } from './dial.js';
import { FrameSocket, type FrameSocketHandlers, type FrameSocketOptions } from './frame-socket.js';
import type { ByteStream } from './memory-pipe.js';
import type { Endpoint, FrameTransport, Transport, TransportListener } from './transport.js';

/**
 * The endpoint of a byte stream (a socket, or one end of a memory pipe): frames over it go
 * through a {@link FrameSocket}.
 *
 * @example
 * ```ts
 * const frames = socketEndpoint(socket).frames({ maxMessageBytes: 1 << 20 }, handlers);
 * ```
 * @group Protocol
 */
export function socketEndpoint(stream: ByteStream): Endpoint {
  let started = false;
  return {
    remoteAddress: remoteAddressOf(stream),
    stream,
    frames(options: FrameSocketOptions, handlers: FrameSocketHandlers): FrameTransport {
      if (started) throw new Error('this endpoint already speaks frames');
      started = true;
      return new FrameSocket(stream, options, handlers);
    },
    destroy() {
      stream.destroy();
    },
  };
}

/**
 * The peer's address of a byte stream, as logs and `ctx.remoteAddress` give it: `tcp@host:port`,
 * or `unix@` for a stream without one (a Unix socket's peer).
 *
 * @example
 * ```ts
 * remoteAddressOf(socket); // 'tcp@127.0.0.1:51234'
 * ```
 * @group Protocol
 */
export function remoteAddressOf(stream: ByteStream): string {
  return stream.remoteAddress
    ? formatAddress({ network: 'tcp', host: stream.remoteAddress, port: stream.remotePort ?? 0 })
    : 'unix@';
}

/**
 * The default {@link Transport}: TCP (`tcp@host:port`), Unix sockets (`unix@/path`), each with
 * TLS when options carry `tls`. Frames are coalesced per tick into few writes (see
 * {@link FrameSocket}).
 *
 * @example
 * ```ts
 * const client = new Client('tcp@127.0.0.1:8972', { transport: tcpTransport }); // the default
 * ```
 * @group Protocol
 */
export const tcpTransport: Transport = {
  dial(address, options, callback) {
    return dial(address, options, (error, socket) =>
      callback(error, socket === undefined ? undefined : socketEndpoint(socket)),
    );
  },
  async listen(address, options, accept): Promise<TransportListener> {
    const { server, address: bound } = await listen(address, options, (socket: Socket) =>
      accept(socketEndpoint(socket)),
    );
    return {
      address: bound,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
};

/**
 * The transport an option names: a {@link Transport}, or {@link tcpTransport} when absent.
 *
 * @throws TypeError when `value` is neither undefined nor an object with `dial` and `listen`.
 * @internal
 */
export function transportOption(value: unknown): Transport {
  if (value === undefined) return tcpTransport;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as Transport).dial !== 'function' ||
    typeof (value as Transport).listen !== 'function'
  ) {
    throw new TypeError(`transport must be a Transport (with dial and listen), got ${describeValue(value)}`);
  }
  return value as Transport;
}
