/**
 * The payload formats of `--codec`.
 *
 * @example
 * ```ts
 * const codec: CodecName = 'msgpack';
 * ```
 */
export type CodecName = 'json' | 'msgpack' | 'protobuf' | 'raw';

/**
 * Every `--codec` value, the default first.
 *
 * @example
 * ```ts
 * new Option('--codec <name>').choices(CODEC_NAMES);
 * ```
 */
export const CODEC_NAMES: readonly CodecName[] = ['json', 'msgpack', 'protobuf', 'raw'];
