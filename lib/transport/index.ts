export type { Address } from './address.js';
export { formatAddress, parseAddress } from './address.js';
export type { DialOptions, Listening, ListenOptions } from './dial.js';
export { dial, listen } from './dial.js';
export type { FrameSocketHandlers, FrameSocketOptions } from './frame-socket.js';
export { FrameSocket } from './frame-socket.js';
export type { ByteStream } from './memory-pipe.js';
export { remoteAddressOf, socketEndpoint, tcpTransport } from './tcp-transport.js';
export type {
  Endpoint,
  FrameTransport,
  Transport,
  TransportDialOptions,
  TransportListener,
} from './transport.js';
