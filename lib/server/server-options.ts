import type { TlsOptions } from 'node:tls';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { type CodecRegistry, createDefaultCodecs } from '../codec/index.js';
import {
  type CompressorRegistry,
  createDefaultCompressors,
  DEFAULT_COMPRESS_THRESHOLD_BYTES,
} from '../compress/index.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/constants.js';
import type { Metadata } from '../protocol/message.js';
import { functionOption, integerOption, optionsObject } from '../util/validate.js';
import { consoleLogger, type Logger } from './logger.js';

/** Default of {@link ServerOptions.maxConcurrentRequests}: 1,000 calls per connection. */
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 1_000;
/** Default of the `graceMs` of `Server.shutdown`: 10 seconds. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

/**
 * What `authorize` is told about the call it checks.
 *
 * @example
 * ```ts
 * const authorize = (token: string | undefined, info: AuthInfo) => token === tokens.get(info.service);
 * ```
 */
export interface AuthInfo {
  /** The service called. */
  readonly service: string;
  /** The method called. */
  readonly method: string;
  /** The request's metadata. */
  readonly metadata: Metadata;
  /** The peer's address. */
  readonly remoteAddress: string;
}

/**
 * Decides whether a call may run, from its `__AUTH` token (undefined when the client sent none).
 * Return (or resolve) false to refuse: the client gets an error reply and the connection closes.
 * A thrown error refuses too, with its message.
 */
export type Authorize = (token: string | undefined, info: AuthInfo) => boolean | Promise<boolean>;

/** Options of a {@link Server}. Every option is optional. */
export interface ServerOptions {
  /** Checks the `__AUTH` token of every call (heartbeats excepted). Default: no check. */
  readonly authorize?: Authorize;
  /** Serve TLS with these options (key, cert, ca, requestCert...). Default: plain TCP. */
  readonly tls?: TlsOptions;
  /** Largest frame accepted or sent, header included. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /** Largest decompressed request payload. Default equal to `maxMessageBytes`. */
  readonly maxDecompressedBytes?: number;
  /** A compressed request's reply is compressed when its payload exceeds this. Default 1024. */
  readonly compressThresholdBytes?: number;
  /** Calls served at once per connection; past it the server stops reading. Default 1,000. */
  readonly maxConcurrentRequests?: number;
  /** Serializers by serialize type. Default raw, JSON, Protobuf, MsgPack. */
  readonly codecs?: CodecRegistry;
  /** Compressors by compress type. Default gzip. */
  readonly compressors?: CompressorRegistry;
  /** Where connection-level problems are reported. Default: the console. */
  readonly logger?: Logger;
  /** Clock and timers for deadlines. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** {@link ServerOptions} with every default filled in. */
export interface ResolvedServerOptions {
  /** The auth check, if any. */
  readonly authorize: Authorize | undefined;
  /** TLS options, or undefined for plain TCP. */
  readonly tls: TlsOptions | undefined;
  /** Largest frame in bytes. */
  readonly maxMessageBytes: number;
  /** Largest decompressed payload in bytes. */
  readonly maxDecompressedBytes: number;
  /** Gzip replies larger than this (bytes). */
  readonly compressThresholdBytes: number;
  /** Calls served at once per connection. */
  readonly maxConcurrentRequests: number;
  /** Serializers. */
  readonly codecs: CodecRegistry;
  /** Compressors. */
  readonly compressors: CompressorRegistry;
  /** Where problems are reported. */
  readonly logger: Logger;
  /** Clock and timers. */
  readonly scheduler: SchedulerLike;
}

/**
 * Fills in the defaults of server options and validates them.
 *
 * @throws TypeError when `options` is not an object; RangeError naming the option that is out
 *   of range or of the wrong type.
 * @example
 * ```ts
 * resolveServerOptions({ maxConcurrentRequests: 100 }).maxMessageBytes; // 16777216
 * ```
 */
export function resolveServerOptions(options: ServerOptions | undefined): ResolvedServerOptions {
  const o = optionsObject('server options', options);
  const maxMessageBytes = integerOption('maxMessageBytes', o.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 32);
  if (o.tls !== undefined && (typeof o.tls !== 'object' || o.tls === null)) {
    throw new RangeError('tls must be an object of node:tls server options');
  }
  if (o.logger !== undefined && typeof o.logger?.warn !== 'function') {
    throw new RangeError('logger must have a warn(message, details) method');
  }
  return {
    authorize: functionOption('authorize', o.authorize),
    tls: o.tls,
    maxMessageBytes,
    maxDecompressedBytes: integerOption('maxDecompressedBytes', o.maxDecompressedBytes, maxMessageBytes, 1),
    compressThresholdBytes: integerOption(
      'compressThresholdBytes',
      o.compressThresholdBytes,
      DEFAULT_COMPRESS_THRESHOLD_BYTES,
      0,
    ),
    maxConcurrentRequests: integerOption(
      'maxConcurrentRequests',
      o.maxConcurrentRequests,
      DEFAULT_MAX_CONCURRENT_REQUESTS,
      1,
    ),
    codecs: o.codecs ?? createDefaultCodecs(),
    compressors: o.compressors ?? createDefaultCompressors(),
    logger: o.logger ?? consoleLogger,
    scheduler: o.scheduler ?? asyncScheduler,
  };
}
