import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { type CodecRegistry, createDefaultCodecs } from '../codec/index.js';
import {
  type CompressorRegistry,
  createDefaultCompressors,
  DEFAULT_COMPRESS_THRESHOLD_BYTES,
} from '../compress/index.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../protocol/constants.js';
import { integerOption } from './validate.js';

/** Options that clients and servers share: limits, codecs, compression and the clock. */
export interface PayloadOptions {
  /** Largest frame sent or accepted, header included. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /** Largest payload a gzip payload may decompress to. Default equal to `maxMessageBytes`. */
  readonly maxDecompressedBytes?: number;
  /** Payloads larger than this are gzipped when compression is on. Default 1024. */
  readonly compressThresholdBytes?: number;
  /** Serializers by serialize type. Default raw, JSON, Protobuf, MsgPack. */
  readonly codecs?: CodecRegistry;
  /** Compressors by compress type. Default none and gzip. */
  readonly compressors?: CompressorRegistry;
  /** Clock and timers for deadlines and heartbeats. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/** {@link PayloadOptions} with every default filled in. */
export interface ResolvedPayloadOptions {
  /** Largest frame in bytes. */
  readonly maxMessageBytes: number;
  /** Largest decompressed payload in bytes. */
  readonly maxDecompressedBytes: number;
  /** Gzip payloads larger than this (bytes). */
  readonly compressThresholdBytes: number;
  /** Serializers. */
  readonly codecs: CodecRegistry;
  /** Compressors. */
  readonly compressors: CompressorRegistry;
  /** Clock and timers. */
  readonly scheduler: SchedulerLike;
}

/**
 * Fills in the defaults of the shared options and validates them.
 *
 * @throws RangeError naming an option that is out of range.
 * @internal
 */
export function resolvePayloadOptions(o: PayloadOptions): ResolvedPayloadOptions {
  const maxMessageBytes = integerOption('maxMessageBytes', o.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES, 32);
  const threshold = o.compressThresholdBytes;
  return {
    maxMessageBytes,
    maxDecompressedBytes: integerOption('maxDecompressedBytes', o.maxDecompressedBytes, maxMessageBytes, 1),
    compressThresholdBytes: integerOption(
      'compressThresholdBytes',
      threshold,
      DEFAULT_COMPRESS_THRESHOLD_BYTES,
      0,
    ),
    codecs: o.codecs ?? createDefaultCodecs(),
    compressors: o.compressors ?? createDefaultCompressors(),
    scheduler: o.scheduler ?? asyncScheduler,
  };
}
