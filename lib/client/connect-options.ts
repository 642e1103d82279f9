import type { ConnectionOptions } from 'node:tls';
import type { Type } from 'protobufjs';
import { SerializeType } from '../codec/index.js';
import { type Dialect, PHOBOS } from '../protocol/constants.js';
import {
  type PayloadOptions,
  type ResolvedPayloadOptions,
  resolvePayloadOptions,
} from '../util/payload-options.js';
import {
  booleanOption,
  describeValue,
  durationOption,
  integerOption,
  optionsObject,
} from '../util/validate.js';

/** Default of {@link ConnectOptions.connectTimeoutMs}: 5 seconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/** Protobuf message types of one method, on the client. */
export interface ProtobufTypes {
  /** Type of the request payload. */
  readonly requestType?: Type;
  /** Type of the reply payload. */
  readonly replyType?: Type;
}

/** Options of {@link connect} and of the {@link Client}. Every option is optional. */
export interface ConnectOptions extends PayloadOptions {
  /** Wire dialect: `PHOBOS` (magic 0x42, the default) or `RPCX` (magic 0x08). */
  readonly dialect?: Dialect;
  /** Connect with TLS using these options (ca, cert, key, servername...). Default plain TCP. */
  readonly tls?: ConnectionOptions;
  /** Give up dialing after this long. Default 5,000 ms. */
  readonly connectTimeoutMs?: number;
  /** Default serialize type of calls. Default MsgPack (3), as Go Phobos. */
  readonly serializeType?: number;
  /** Gzip request payloads above the threshold by default. Default false. */
  readonly compress?: boolean;
  /** Default deadline of calls in ms; 0 means none. Default 0. */
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

/** {@link ConnectOptions} with every default filled in. */
export interface ResolvedConnectOptions extends ResolvedPayloadOptions {
  /** Wire dialect. */
  readonly dialect: Dialect;
  /** TLS options, or undefined for plain TCP. */
  readonly tls: ConnectionOptions | undefined;
  /** Dial timeout in ms. */
  readonly connectTimeoutMs: number;
  /** Default serialize type. */
  readonly serializeType: number;
  /** Gzip requests by default. */
  readonly compress: boolean;
  /** Default deadline in ms (0: none). */
  readonly timeoutMs: number;
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
 * ```
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
    connectTimeoutMs: durationOption('connectTimeoutMs', o.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS, 1),
    serializeType,
    compress: booleanOption('compress', o.compress, false),
    timeoutMs: durationOption('timeoutMs', o.timeoutMs, 0, 0),
    auth: o.auth,
    protobuf: o.protobuf ?? {},
  };
}
