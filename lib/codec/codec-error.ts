import { describeThrown } from '../errors/describe-thrown.js';
import { CodecError } from '../errors/index.js';
import type { Codec } from './codec.js';

type CodecIdentity = Pick<Codec, 'serializeType' | 'name'>;

/**
 * Builds the `CodecError` a codec throws, with `details.serializeType` and `details.codec` set.
 * Internal to the codecs (not part of the public API).
 *
 * Never throws.
 *
 * @example
 * ```ts
 * throw createCodecError(jsonCodec, 'json codec cannot encode a function', error);
 * ```
 * @group Codecs
 */
export function createCodecError(codec: CodecIdentity, message: string, cause?: unknown): CodecError {
  const details = { serializeType: codec.serializeType, codec: codec.name };
  return new CodecError(message, cause === undefined ? { details } : { details, cause });
}

/**
 * Runs `action` and turns anything it throws into a `CodecError` whose message starts with
 * `what` (a `CodecError` passes through unchanged). Internal to the codecs.
 *
 * Throws only `CodecError`.
 *
 * @example
 * ```ts
 * return guard(jsonCodec, 'json codec cannot parse the payload', () => JSON.parse(text));
 * ```
 * @group Codecs
 */
export function guard<T>(codec: CodecIdentity, what: string | (() => string), action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof CodecError) throw error;
    const reason = describeThrown(error);
    // `what` may be a function so that a hot path builds no message unless it fails.
    throw createCodecError(codec, `${typeof what === 'function' ? what() : what}: ${reason}`, error);
  }
}

/**
 * Names the type of a value for error messages: `string`, `null`, `Array`, `ArrayBuffer`...
 * Internal to the codecs.
 *
 * Never throws.
 *
 * @example
 * ```ts
 * describeType(new ArrayBuffer(1)); // 'ArrayBuffer'
 * ```
 * @group Codecs
 */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  let name: unknown;
  try {
    name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  } catch {
    // A Proxy or a getter that throws: the type stays unnamed.
  }
  return typeof name === 'string' && name !== '' ? name : 'object';
}
