// Compress only what is worth it
export type { CompressedPayload } from './compress-payload.js';
export {
  compressPayload,
  compressPayloadOffloading,
  DEFAULT_COMPRESS_THRESHOLD_BYTES,
  DEFAULT_OFFLOAD_THRESHOLD_BYTES,
} from './compress-payload.js';
// Compressor contract and compress types
export type { Compressor } from './compressor.js';
export { CompressType } from './compressor.js';
// Registry
export { CompressorRegistry, createDefaultCompressors } from './compressor-registry.js';
export type { DecompressLimits, OffloadDecompressLimits } from './decompress-payload.js';
export {
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decompressPayload,
  decompressPayloadOffloading,
} from './decompress-payload.js';
// Built-in compressors
export type { GzipCompressorOptions } from './gzip-compressor.js';
export { createGzipCompressor, DEFAULT_GZIP_LEVEL, gzipCompressor } from './gzip-compressor.js';
export { noneCompressor } from './none-compressor.js';
