// Errors

// Client
export type {
  CallOptions,
  ClientCallOptions,
  ConnectionHeartbeatOptions,
  ConnectionState,
  ConnectOptions,
  HeartbeatOptions,
  ProtobufTypes,
  Reply,
  ResolvedConnectOptions,
  ServerPush,
} from './client/index.js';
export {
  Client,
  Connection,
  connect,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MAX_MISSES,
  heartbeat,
  resolveConnectOptions,
} from './client/index.js';
// Codecs
export type { Codec, CodecHint, MsgpackCodecOptions } from './codec/index.js';
export {
  CodecRegistry,
  createDefaultCodecs,
  createMsgpackCodec,
  jsonCodec,
  msgpackCodec,
  protobufCodec,
  rawCodec,
  SerializeType,
} from './codec/index.js';
// Compression
export type { CompressedPayload, Compressor, GzipCompressorOptions } from './compress/index.js';
export {
  CompressorRegistry,
  CompressType,
  compressPayload,
  createDefaultCompressors,
  createGzipCompressor,
  DEFAULT_COMPRESS_THRESHOLD_BYTES,
  gzipCompressor,
  noneCompressor,
} from './compress/index.js';
export type { RpcErrorCode, RpcErrorOptions } from './errors/index.js';
export {
  CancelledError,
  CircuitOpenError,
  CodecError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  NoInstanceError,
  ProtocolError,
  RpcError,
  ServiceError,
} from './errors/index.js';
// Wire protocol
export type { Dialect, FrameDecoderOptions, Message, Metadata } from './protocol/index.js';
export {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  DEFAULT_MAX_MESSAGE_BYTES,
  decodeFrame,
  dialectOfMagic,
  EMPTY_METADATA,
  EMPTY_PAYLOAD,
  encodeFrame,
  encodeMessage,
  FRAME_PREFIX_BYTES,
  FrameDecoder,
  HEADER_BYTES,
  Header,
  MAGIC_PHOBOS,
  MAGIC_RPCX,
  MessageStatus,
  MessageType,
  MetadataKey,
  metadataByteLength,
  PHOBOS,
  PROTOCOL_VERSION,
  RPCX,
} from './protocol/index.js';

// Server
export type {
  AuthInfo,
  Authorize,
  CallContext,
  ListenAdvertiseOptions,
  Logger,
  MethodTypes,
  PushOptions,
  RegisterOptions,
  ResolvedServerOptions,
  ServerCall,
  ServerConnection,
  ServerHandler,
  ServerInterceptor,
  ServerOptions,
  Service,
  ServiceMethod,
  ServiceRegistry,
  ShutdownOptions,
} from './server/index.js';
export {
  consoleLogger,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  resolveServerOptions,
  Server,
  silentLogger,
} from './server/index.js';
// Transport
export type {
  Address,
  DialOptions,
  FrameSocketHandlers,
  FrameSocketOptions,
  Listening,
  ListenOptions,
} from './transport/index.js';
export { dial, FrameSocket, formatAddress, listen, parseAddress } from './transport/index.js';
// Options shared by clients and servers
export type { PayloadOptions, ResolvedPayloadOptions } from './util/payload-options.js';
