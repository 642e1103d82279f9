/**
 * The compress types of the wire protocol (bits 4-2 of header byte 2). Numbers 2..7 are free for
 * custom compressors registered in a {@link CompressorRegistry}.
 *
 * A frame naming a type nothing is registered for fails at {@link CompressorRegistry.get} with
 * a `ProtocolError`.
 *
 * @example
 * ```ts
 * const { payload, compressType } = compressPayload(bytes, gzipCompressor, 1024);
 * if (compressType === CompressType.Gzip) console.log('compressed to', payload.length);
 * ```
 * @group Codecs
 */
export const CompressType = {
  /** The payload is not compressed. */
  None: 0,
  /** The payload is gzip (RFC 1952). */
  Gzip: 1,
} as const;

/**
 * A compress type: 0 none, 1 gzip, or 2..7 for a custom compressor. The field is 3 bits wide.
 *
 * @example
 * ```ts
 * const zstd: CompressType = 2;
 * ```
 * @group Codecs
 */
export type CompressType = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/**
 * Compresses and decompresses payloads for one compress type.
 *
 * `decompress` must never produce more than `maxBytes` (a gzip bomb is normal input for a
 * server): it throws a `ProtocolError` with `field: 'payload'` as soon as the output would pass
 * the limit, and the same error for data that is corrupt or truncated.
 *
 * @example
 * ```ts
 * const bytes = gzipCompressor.compress(payload);
 * const again = gzipCompressor.decompress(bytes, 16 * 1024 * 1024);
 * ```
 * @group Codecs
 */
export interface Compressor {
  /** The compress type this compressor answers to, 0..7. */
  readonly compressType: number;
  /** A short name for messages and logs (`gzip`). */
  readonly name: string;
  /** Compresses `data`. */
  compress(data: Uint8Array): Uint8Array;
  /** Decompresses `data`, failing with a `ProtocolError` past `maxBytes` of output. */
  decompress(data: Uint8Array, maxBytes: number): Uint8Array;
  /**
   * Compresses `data` off the event loop (the built-in gzip uses zlib on libuv's thread pool).
   * Optional: without it, every payload is compressed with `compress`. Used for payloads larger
   * than the `offloadThresholdBytes` option.
   */
  compressAsync?(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Decompresses `data` off the event loop, with the limit and the errors of `decompress`
   * (rejecting instead of throwing). Optional, as `compressAsync`.
   */
  decompressAsync?(data: Uint8Array, maxBytes: number): Promise<Uint8Array>;
  /**
   * The size `data` says it inflates to, when its format tells (gzip's trailer), else
   * `undefined`. A hint for choosing where to decompress, never trusted as a limit.
   */
  inflatedSizeHint?(data: Uint8Array): number | undefined;
}
