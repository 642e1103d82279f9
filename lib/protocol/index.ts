/**
 * The wire level, for tools, proxies and peers that speak the protocol themselves: frames and
 * their header, the streaming decoder and the encoder, protocol constants, the payload
 * compression step, the transport seam (endpoints and frame transports) and the framed socket
 * and its dial/listen. Programs that call and serve
 * services need none of it: `phobos` is their entry point.
 *
 * @module phobos/protocol
 */

export type { CompressedPayload } from '../compress/compress-payload.js';
export { compressPayload } from '../compress/compress-payload.js';
export { decompressPayload } from '../compress/decompress-payload.js';
export type { DialOptions, Listening, ListenOptions } from '../transport/dial.js';
export { dial, listen } from '../transport/dial.js';
export type { FrameSocketHandlers, FrameSocketOptions } from '../transport/frame-socket.js';
export { FrameSocket } from '../transport/frame-socket.js';
export type { ByteStream } from '../transport/memory-pipe.js';
export { remoteAddressOf, socketEndpoint } from '../transport/tcp-transport.js';
export type {
  Endpoint,
  FrameTransport,
  TransportDialOptions,
  TransportListener,
} from '../transport/transport.js';
export type { Dialect, ServerErrorCode } from './constants.js';
export {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  CREDIT_METHOD,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_MAX_METADATA_ENTRIES,
  DEFAULT_MAX_STREAM_BACKLOG,
  DEFAULT_STREAM_WINDOW,
  dialectOfMagic,
  FRAME_PREFIX_BYTES,
  MAGIC_PHOBOS,
  MAGIC_RPCX,
  MAX_STREAM_CREDIT,
  MessageStatus,
  MessageType,
  MetadataKey,
  PHOBOS,
  PROTOCOL_VERSION,
  RPCX,
  StreamSignal,
} from './constants.js';
export type { FrameDecoderOptions, FrameLimits } from './decoder.js';
export { decodeFrame, FrameDecoder } from './decoder.js';
export { encodeFrame, encodeMessage, metadataByteLength } from './encode.js';
export { HEADER_BYTES, Header } from './header.js';
export type { Message, Metadata } from './message.js';
export { EMPTY_METADATA, EMPTY_PAYLOAD } from './message.js';
