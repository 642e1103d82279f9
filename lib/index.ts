/**
 * The core: protocol, codecs, server, client, discovery, selection, governance operators.
 *
 * @module phobos
 */
// Errors

// Circuit breakers
export type {
  BreakerConfig,
  BreakerFactory,
  BreakerOption,
  BreakerPolicyOptions,
  BreakerState,
  BreakerStrategy,
  BreakerTransition,
  CircuitBreaker,
  Clock,
  ConsecutiveFailuresBreakerOptions,
  FailureRateBreakerOptions,
  ResettableBreaker,
  ResolvedBreakerPolicyOptions,
  ResolvedConsecutiveFailuresBreakerOptions,
  ResolvedFailureRateBreakerOptions,
} from './breaker/index.js';
export {
  breakerFor,
  consecutiveFailuresBreaker,
  DEFAULT_BREAKER_BUCKETS,
  DEFAULT_BREAKER_FAILURE_RATE_THRESHOLD,
  DEFAULT_BREAKER_FAILURE_THRESHOLD,
  DEFAULT_BREAKER_HALF_OPEN_PROBES,
  DEFAULT_BREAKER_MINIMUM_REQUESTS,
  DEFAULT_BREAKER_OPEN_MS,
  DEFAULT_BREAKER_WINDOW_MS,
  failureRateBreaker,
  policyBreaker,
  resolveBreakerPolicyOptions,
  resolveConsecutiveFailuresBreakerOptions,
  resolveFailureRateBreakerOptions,
} from './breaker/index.js';
// Client: single connection, promise facade, XClient
export type {
  AttemptKind,
  CallOptions,
  ClientCall,
  ClientCallOptions,
  ClientHandler,
  ClientInterceptor,
  ClientStage,
  ClientUseOptions,
  ConnectionHeartbeatOptions,
  ConnectionState,
  ConnectOptions,
  FailMode,
  HeartbeatOptions,
  HeartbeatSettings,
  InformResult,
  PoolHeartbeat,
  ProtobufTypes,
  Reply,
  ResolvedConnectOptions,
  ServerPush,
  ServiceProxy,
  XClientOptions,
} from './client/index.js';
export {
  Client,
  Connection,
  connect,
  DEFAULT_BACKUP_DELAY_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FAIL_MODE,
  DEFAULT_HEARTBEAT_MAX_MISSES,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_SELECT_MODE,
  heartbeat,
  resolveConnectOptions,
  withMetadata,
  XClient,
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
export type {
  CompressedPayload,
  Compressor,
  DecompressLimits,
  GzipCompressorOptions,
} from './compress/index.js';
export {
  CompressorRegistry,
  CompressType,
  compressPayload,
  createDefaultCompressors,
  createGzipCompressor,
  DEFAULT_COMPRESS_THRESHOLD_BYTES,
  DEFAULT_GZIP_LEVEL,
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decompressPayload,
  gzipCompressor,
  noneCompressor,
} from './compress/index.js';
// Discovery
export type {
  Discovery,
  MemoryDiscoveryOptions,
  MemoryRegistry,
  MultipleServersDiscovery,
  ServerPair,
  ServiceInstance,
  UsableInstancesOptions,
} from './discovery/index.js';
export {
  formatMetadata,
  inGroup,
  isActive,
  memoryRegistry,
  multipleServersDiscovery,
  p2pDiscovery,
  parseMetadata,
  sameInstances,
  usableInstances,
} from './discovery/index.js';
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
// Governance operators
export type {
  Backoff,
  CallTimeoutOptions,
  CircuitBreakOptions,
  ExponentialBackoffOptions,
  FailbackupOptions,
  FailoverOptions,
  FailtryOptions,
  Jitter,
  RetryBudget,
  RetryBudgetOptions,
  RetryOptions,
  RetryPredicate,
  SelectInstanceOptions,
} from './operators/index.js';
export {
  callTimeout,
  circuitBreak,
  constantBackoff,
  DEFAULT_BACKOFF_INITIAL_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_BACKOFF_MULTIPLIER,
  DEFAULT_RETRIES,
  DEFAULT_RETRY_BUDGET_MIN_RETRIES_PER_SECOND,
  DEFAULT_RETRY_BUDGET_RATIO,
  DEFAULT_RETRY_BUDGET_TTL_MS,
  exponentialBackoff,
  failbackup,
  failfast,
  failover,
  failtry,
  isRetryable,
  retryBudget,
  selectInstance,
} from './operators/index.js';
// Wire protocol
export type {
  Dialect,
  FrameDecoderOptions,
  FrameLimits,
  Message,
  Metadata,
  ServerErrorCode,
} from './protocol/index.js';
export {
  CANCEL_METHOD,
  CANCEL_SERVICE_PATH,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_MAX_METADATA_ENTRIES,
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
// Selectors
export type {
  CallInfo,
  ClosestOptions,
  ConsistentHashOptions,
  GeoOptions,
  GeoPoint,
  RandomOptions,
  SelectFunction,
  SelectMode,
  SelectModeOptions,
  Selector,
} from './selector/index.js';
export {
  closest,
  consistentHash,
  DEFAULT_CLOSEST_ALPHA,
  DEFAULT_CLOSEST_PROBE_EVERY,
  DEFAULT_WEIGHT,
  defaultHashKey,
  EARTH_RADIUS_METERS,
  fromFunction,
  GEO_TIE_METERS,
  geo,
  geoPointOf,
  haversineMeters,
  MAX_WEIGHT,
  random,
  rendezvousScore,
  roundRobin,
  SELECT_MODES,
  selectorFor,
  stableStringify,
  weightedRoundRobin,
  weightOf,
} from './selector/index.js';
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
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_PUSH_QUEUE_BYTES,
  DEFAULT_MAX_QUEUED_REQUESTS,
  DEFAULT_SERVER_IDLE_TIMEOUT_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  resolveServerOptions,
  Server,
  silentLogger,
} from './server/index.js';
// Transport
export type {
  Address,
  ByteStream,
  DialOptions,
  FrameSocketHandlers,
  FrameSocketOptions,
  Listening,
  ListenOptions,
} from './transport/index.js';
export { dial, FrameSocket, formatAddress, listen, parseAddress } from './transport/index.js';
// Options shared by clients and servers
export type { PayloadOptions, ResolvedPayloadOptions } from './util/payload-options.js';
