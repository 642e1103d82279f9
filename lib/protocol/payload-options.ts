import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { type CodecRegistry, createDefaultCodecs } from '../codec/index.js';
import {
  CompressorRegistry,
  createDefaultCompressors,
  createGzipCompressor,
  DEFAULT_COMPRESS_THRESHOLD_BYTES,
  DEFAULT_GZIP_LEVEL,
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DEFAULT_OFFLOAD_THRESHOLD_BYTES,
  type GzipCompressorOptions,
  noneCompressor,
} from '../compress/index.js';
import { finiteOption, integerOption } from '../util/validate.js';
import {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_MAX_METADATA_ENTRIES,
} from './constants.js';

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
  /**
   * Payloads larger than this many bytes (before compression, or as they inflate) are
   * compressed and decompressed off the event loop, on libuv's thread pool, so that one large
   * payload does not hold up the other calls. Default 64 KiB
   * ({@link DEFAULT_OFFLOAD_THRESHOLD_BYTES}); `Infinity` does all of it on the event loop, `0`
   * sends every compressed payload to the pool. Applies to compressors that have async forms
   * (gzip does).
   */
  readonly offloadThresholdBytes?: number;
  /**
   * gzip compression level, 0 (store) to 9 (smallest). Default 1 ({@link DEFAULT_GZIP_LEVEL}),
   * zlib's fastest. Only with the default compressors: refused together with `compressors`
   * (give that registry a `createGzipCompressor({ level })` instead).
   */
  readonly gzipLevel?: GzipCompressorOptions['level'];
  /** Serializers by serialize type. Default raw, JSON, Protobuf, MsgPack. */
  readonly codecs?: CodecRegistry;
  /** Compressors by compress type. Default none and gzip (at `gzipLevel`). */
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
  /** (De)compress payloads larger than this off the event loop (bytes, or `Infinity`). */
  readonly offloadThresholdBytes: number;
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
 * @throws RangeError naming an option that is out of range, or `gzipLevel` given with
 *   `compressors`.
 * @internal
 */
export function resolvePayloadOptions(o: PayloadOptions): ResolvedPayloadOptions {
  const offload = o.offloadThresholdBytes;
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
    offloadThresholdBytes:
      offload === Number.POSITIVE_INFINITY
        ? offload
        : integerOption('offloadThresholdBytes', offload, DEFAULT_OFFLOAD_THRESHOLD_BYTES, 0),
    codecs: o.codecs ?? createDefaultCodecs(),
    compressors: compressorsOption(o),
    scheduler: o.scheduler ?? asyncScheduler,
  };
}

/** The given compressors, or none and gzip at `gzipLevel`. */
function compressorsOption(o: PayloadOptions): CompressorRegistry {
  const level = o.gzipLevel;
  if (level === undefined) return o.compressors ?? createDefaultCompressors();
  if (o.compressors !== undefined) {
    throw new RangeError(
      'gzipLevel applies to the default compressors: with compressors given, register ' +
        'createGzipCompressor({ level }) in that registry instead',
    );
  }
  integerOption('gzipLevel', level, DEFAULT_GZIP_LEVEL, 0, 9);
  return new CompressorRegistry().register(noneCompressor).register(createGzipCompressor({ level }));
}
