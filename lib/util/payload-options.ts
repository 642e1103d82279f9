import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { type CodecRegistry, createDefaultCodecs } from '../codec/index.js';
import {
  type CompressorRegistry,
  createDefaultCompressors,
  DEFAULT_COMPRESS_THRESHOLD_BYTES,
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
} from '../compress/index.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_MAX_METADATA_ENTRIES,
} from '../protocol/constants.js';
import { finiteOption, integerOption } from './validate.js';

/**
 * Options that clients and servers share: limits, codecs, compression and the clock.
 *
 * @group Codecs
 */
export interface PayloadOptions {
  /** Largest frame sent or accepted, header included. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /**
   * Largest payload a compressed payload may inflate to, in bytes. Default 4 MiB: a small
   * compressed request cannot buy a large decode.
   */
  readonly maxDecompressedBytes?: number;
  /**
   * Most a compressed payload may inflate, as decompressed bytes over compressed bytes. Default
   * 200, as Apache's `DeflateInflateRatioLimit` (JSON typically compresses 5 to 20 times; a gzip
   * bomb, 1,000).
   */
  readonly maxCompressionRatio?: number;
  /** Most metadata entries one frame may carry; a frame past it gets an error. Default 128. */
  readonly maxMetadataEntries?: number;
  /**
   * Largest metadata section of one frame, keys and values with their length fields, in bytes;
   * so no key or value is larger either. A frame past it gets an error. Default 32 KiB.
   */
  readonly maxMetadataBytes?: number;
  /** Payloads larger than this are gzipped when compression is on. Default 1024. */
  readonly compressThresholdBytes?: number;
  /** Serializers by serialize type. Default raw, JSON, Protobuf, MsgPack. */
  readonly codecs?: CodecRegistry;
  /** Compressors by compress type. Default none and gzip. */
  readonly compressors?: CompressorRegistry;
  /** Clock and timers for deadlines and heartbeats. Default `asyncScheduler`. */
  readonly scheduler?: SchedulerLike;
}

/**
 * {@link PayloadOptions} with every default filled in.
 *
 * @group Codecs
 */
export interface ResolvedPayloadOptions {
  /** Largest frame in bytes. */
  readonly maxMessageBytes: number;
  /** Largest decompressed payload in bytes. */
  readonly maxDecompressedBytes: number;
  /** Most a compressed payload may inflate (decompressed over compressed bytes). */
  readonly maxCompressionRatio: number;
  /** Most metadata entries per frame. */
  readonly maxMetadataEntries: number;
  /** Largest metadata section per frame in bytes. */
  readonly maxMetadataBytes: number;
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
    maxDecompressedBytes: integerOption(
      'maxDecompressedBytes',
      o.maxDecompressedBytes,
      DEFAULT_MAX_DECOMPRESSED_BYTES,
      1,
    ),
    maxCompressionRatio: finiteOption(
      'maxCompressionRatio',
      o.maxCompressionRatio,
      DEFAULT_MAX_COMPRESSION_RATIO,
      1,
    ),
    maxMetadataEntries: integerOption(
      'maxMetadataEntries',
      o.maxMetadataEntries,
      DEFAULT_MAX_METADATA_ENTRIES,
      0,
    ),
    maxMetadataBytes: integerOption('maxMetadataBytes', o.maxMetadataBytes, DEFAULT_MAX_METADATA_BYTES, 0),
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
