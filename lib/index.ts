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
  AttemptFailure,
  AttemptKind,
  BreakerEvent,
  CallOptions,
  ClientCall,
  ClientCallOptions,
  ClientHandler,
  ClientInterceptor,
  ClientStage,
  ClientUseOptions,
  ConnectionState,
  ConnectOptions,
  FailMode,
  HeartbeatEvent,
  HeartbeatOptions,
  InformResult,
  InstanceState,
  ProtobufTypes,
  Reply,
  ResolvedConnectOptions,
  RetryBudgetExhaustedEvent,
  ServerPush,
  ServiceProxy,
  StreamingMethods,
  StreamOptions,
  ValueOf,
  XClientEvent,
  XClientOptions,
} from './client/index.js';
export {
  Client,
  Connection,
  connect,
  DEFAULT_BACKUP_DELAY_MS,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FAIL_MODE,
  DEFAULT_HEARTBEAT_MAX_MISSES,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_SELECT_MODE,
  DEFAULT_STREAM_WINDOW,
  heartbeat,
  unrefScheduler,
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
  Compressor,
  DecompressLimits,
  GzipCompressorOptions,
} from './compress/index.js';
export {
  CompressorRegistry,
  CompressType,
  createDefaultCompressors,
  createGzipCompressor,
  DEFAULT_COMPRESS_THRESHOLD_BYTES,
  DEFAULT_GZIP_LEVEL,
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DEFAULT_OFFLOAD_THRESHOLD_BYTES,
  gzipCompressor,
  noneCompressor,
} from './compress/index.js';
// Discovery
export type {
  Discovery,
  DiscoveryState,
  MemoryDiscoveryOptions,
  MemoryRegistry,
  MultipleServersDiscovery,
  ServerPair,
  ServiceInstance,
  ServiceRegistry,
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
export type { ProtocolErrorOptions, RpcErrorCode, RpcErrorOptions } from './errors/index.js';
export {
  CancelledError,
  CircuitOpenError,
  CodecError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  NoInstanceError,
  ProtocolError,
  ResourceExhaustedError,
  RpcError,
  ServiceError,
  UnauthenticatedError,
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
  firstSuccess,
  isRetryable,
  retryBudget,
  selectInstance,
} from './operators/index.js';
// Protocol values that options and metadata refer to (the rest of the wire level: phobos/protocol)
export type { Dialect, Metadata } from './protocol/index.js';
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_MAX_METADATA_ENTRIES,
  DEFAULT_MAX_STREAM_BACKLOG,
  MetadataKey,
  PHOBOS,
  RPCX,
} from './protocol/index.js';
// Options shared by clients and servers
export type { PayloadOptions, ResolvedPayloadOptions } from './protocol/payload-options.js';
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
  CallFinishedEvent,
  CallStartedEvent,
  ConnectionClosedEvent,
  ConnectionOpenedEvent,
  ListenAdvertiseOptions,
  Logger,
  MethodTypes,
  ProtocolErrorEvent,
  ProtocolErrorReason,
  PushOptions,
  RegisterOptions,
  ResolvedServerOptions,
  ServeClusterOptions,
  ServerCall,
  ServerCluster,
  ServerConnection,
  ServerEvent,
  ServerHandler,
  ServerInterceptor,
  ServerOptions,
  Service,
  ServiceMethod,
  ShutdownOptions,
} from './server/index.js';
export {
  CLUSTER_EXIT_MARGIN_MS,
  consoleLogger,
  DEFAULT_AUTH_TIMEOUT_MS,
  DEFAULT_CLUSTER_MAX_RESTARTS_PER_MINUTE,
  DEFAULT_CLUSTER_RESTART_DELAY_MS,
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
  serveCluster,
  silentLogger,
} from './server/index.js';
// W3C trace context
export type { TraceContext, TraceMetadata } from './trace/index.js';
export {
  formatTraceparent,
  formatTracestate,
  MAX_TRACESTATE_CHARS,
  MAX_TRACESTATE_MEMBERS,
  parseTraceparent,
  parseTracestate,
  TRACE_FLAG_SAMPLED,
  TRACEPARENT_KEY,
  TRACESTATE_KEY,
  traceContextOf,
  traceMetadata,
} from './trace/index.js';
// Addresses and transports
export type { Address, Transport } from './transport/index.js';
export { formatAddress, parseAddress, tcpTransport } from './transport/index.js';
