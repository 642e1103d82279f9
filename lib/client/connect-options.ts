import type { ConnectionOptions } from 'node:tls';
import type { Type } from 'protobufjs';
import { SerializeType } from '../codec/index.js';
import { type Dialect, PHOBOS } from '../protocol/constants.js';
import {
  type PayloadOptions,
  type ResolvedPayloadOptions,
  resolvePayloadOptions,
} from '../protocol/payload-options.js';
import { transportOption } from '../transport/tcp-transport.js';
import type { Transport } from '../transport/transport.js';
import {
  booleanOption,
  describeValue,
  durationOption,
  integerOption,
  optionsObject,
} from '../util/validate.js';

/**
 * Default of {@link ConnectOptions.connectTimeoutMs}: 5 seconds.
 *
 * @group Client
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Default of {@link ConnectOptions.timeoutMs}: the deadline of a call that names none, 30
 * seconds. A call to a server that never answers fails with `DeadlineExceededError` after it
 * (and an XClient call whose discovery never found a server, with `NoInstanceError`), instead of
 * waiting forever. The client keeps this default deadline alone: servers are told
 * (`__ServerTimeout`) only a deadline that was given.
 *
 * @example
 * ```ts
 * new Client(address);                                   // calls time out after DEFAULT_CALL_TIMEOUT_MS
 * new Client(address, { timeoutMs: 2_000 });             // after 2 s
 * await client.call('Jobs', 'Run', {}, { timeoutMs: Infinity }); // this call: no deadline
 * ```
 * @group Client
 */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/**
 * Resolves a deadline option in ms: `fallback` when undefined, 0 (no deadline) for `0` or
 * `Infinity`, else an integer in 1..2^31-1 (what a timer can wait).
 *
 * @throws RangeError naming the option for anything else (a negative number, a fraction, NaN, a
 *   duration past what a timer can wait, a string).
 * @example
 * ```ts
 * resolveTimeoutMs('timeoutMs', undefined, DEFAULT_CALL_TIMEOUT_MS); // 30000
 * resolveTimeoutMs('timeoutMs', Infinity, DEFAULT_CALL_TIMEOUT_MS);  // 0: no deadline
 * ```
 * @internal
 */
export function resolveTimeoutMs(name: string, value: unknown, fallback: number): number {
  if (value === Number.POSITIVE_INFINITY) return 0;
  try {
    return durationOption(name, value, fallback, 0);
  } catch (error) {
    throw new RangeError(`${(error as Error).message} (ms; 0 or Infinity: no deadline)`, { cause: error });
  }
}

/**
 * Protobuf message types of one method, on the client.
 *
 * @group Client
 */
export interface ProtobufTypes {
  /** Type of the request payload. */
  readonly requestType?: Type;
  /** Type of the reply payload. */
  readonly replyType?: Type;
}

/**
 * Options of {@link connect} and of the {@link Client}. Every option is optional.
 *
 * @group Client
 */
export interface ConnectOptions extends PayloadOptions {
  /** Wire dialect: `PHOBOS` (magic 0x42, the default) or `RPCX` (magic 0x08). */
  readonly dialect?: Dialect;
  /** Connect with TLS using these options (ca, cert, key, servername...). Default plain TCP. */
  readonly tls?: ConnectionOptions;
  /**
   * How servers are reached: `tcpTransport` (TCP, Unix sockets, TLS; the default), or the
   * `MemoryNetwork` of `phobos/testing` for servers in this process (`memory@name`).
   */
  readonly transport?: Transport;
  /** Give up dialing after this long. Default 5,000 ms. */
  readonly connectTimeoutMs?: number;
  /** Default serialize type of calls. Default MsgPack (3), as Go Phobos. */
  readonly serializeType?: number;
  /** Gzip request payloads above the threshold by default. Default false. */
  readonly compress?: boolean;
  /**
   * Deadline of every call that names none, in ms: past it the call fails with
   * `DeadlineExceededError` (an XClient's: all attempts together). `0` or `Infinity` means no
   * deadline. Default 30,000 ({@link DEFAULT_CALL_TIMEOUT_MS}); a call's own `timeoutMs`
   * overrides it.
   *
   * A deadline you give (here or in a call) is sent to the server (`__ServerTimeout`), which
   * gives up too; the default one is kept by the client alone, so that calls that name no
   * deadline cost the server no timer and send the same frames as before there was a default.
   *
   * @throws RangeError at construction for a negative, fractional or non-number value, or one
   *   past 2^31-1 ms (what a timer can wait).
   */
  readonly timeoutMs?: number;
  /**
   * Auth token sent as `__AUTH` with every call and every heartbeat; a heartbeat carrying it is
   * sent as soon as the connection opens, so that a server's `authTimeoutMs` sees it even before
   * the first call. Default none.
   */
  readonly auth?: string;
  /** Protobuf types per `Service.Method`, for calls with serialize type 2. */
  readonly protobuf?: Readonly<Record<string, ProtobufTypes>>;
}

/**
 * {@link ConnectOptions} with every default filled in.
 *
 * @group Client
 */
export interface ResolvedConnectOptions extends ResolvedPayloadOptions {
  /** Wire dialect. */
  readonly dialect: Dialect;
  /** TLS options, or undefined for plain TCP. */
  readonly tls: ConnectionOptions | undefined;
  /** How servers are reached. */
  readonly transport: Transport;
  /** Dial timeout in ms. */
  readonly connectTimeoutMs: number;
  /** Default serialize type. */
  readonly serializeType: number;
  /** Gzip requests by default. */
  readonly compress: boolean;
  /** Default deadline in ms (0: none; `Infinity` was given as 0). */
  readonly timeoutMs: number;
  /**
   * True when no `timeoutMs` was given (it is {@link DEFAULT_CALL_TIMEOUT_MS}): calls that name
   * none keep that deadline on the client alone and do not send it to the server.
   */
  readonly timeoutMsDefaulted: boolean;
  /** The `__AUTH` token, if any. */
  readonly auth: string | undefined;
  /** Protobuf types by `Service.Method`. */
  readonly protobuf: Readonly<Record<string, ProtobufTypes>>;
}

/**
 * Fills in the defaults of connect options and validates them.
 *
 * @throws TypeError when `options` is not an object; RangeError naming the option that is out
 *   of range or of the wrong type (including a serialize type no codec is registered for).
 * @example
 * ```ts
 * resolveConnectOptions({ timeoutMs: 500 }).serializeType; // 3 (MsgPack)
 * resolveConnectOptions({}).timeoutMs;                     // 30000 (DEFAULT_CALL_TIMEOUT_MS)
 * ```
 * @group Client
 */
export function resolveConnectOptions(options: ConnectOptions | undefined): ResolvedConnectOptions {
  const o = optionsObject('connect options', options);
  const payload = resolvePayloadOptions(o);
  const codecs = payload.codecs;
  const serializeType = integerOption('serializeType', o.serializeType, SerializeType.MsgPack, 0, 15);
  if (!codecs.has(serializeType))
    throw new RangeError(`serializeType ${serializeType} has no registered codec`);
  if (o.dialect !== undefined && (typeof o.dialect !== 'object' || typeof o.dialect.magic !== 'number')) {
    throw new RangeError(`dialect must be PHOBOS or RPCX, got ${describeValue(o.dialect)}`);
  }
  if (o.auth !== undefined && typeof o.auth !== 'string')
    throw new RangeError(`auth must be a string, got ${describeValue(o.auth)}`);
  if (o.tls !== undefined && (typeof o.tls !== 'object' || o.tls === null))
    throw new RangeError('tls must be an object of node:tls options');
  if (o.protobuf !== undefined && (typeof o.protobuf !== 'object' || o.protobuf === null)) {
    throw new RangeError('protobuf must be a record of { requestType, replyType } by "Service.Method"');
  }
  return {
    ...payload,
    dialect: o.dialect ?? PHOBOS,
    tls: o.tls,
    transport: transportOption(o.transport),
    connectTimeoutMs: durationOption('connectTimeoutMs', o.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    serializeType,
    compress: booleanOption('compress', o.compress, false),
    timeoutMs: resolveTimeoutMs('timeoutMs', o.timeoutMs, DEFAULT_CALL_TIMEOUT_MS),
    timeoutMsDefaulted: o.timeoutMs === undefined,
    auth: o.auth,
    protobuf: o.protobuf ?? {},
  };
}
