/**
 * How the command line writes bytes: in a JSON string, as base64 (the default) or hex.
 *
 * @example
 * ```ts
 * const encoding: BytesEncoding = 'hex';
 * ```
 */
export type BytesEncoding = 'base64' | 'hex';

/**
 * The byte encodings `--bytes` accepts.
 *
 * @example
 * ```ts
 * new Option('--bytes <encoding>').choices(BYTES_ENCODINGS);
 * ```
 */
export const BYTES_ENCODINGS: readonly BytesEncoding[] = ['base64', 'hex'];

/**
 * Options of {@link toJson}.
 *
 * @example
 * ```ts
 * toJson(reply, { bytes: 'hex', indent: 2 });
 * ```
 */
export interface ToJsonOptions {
  /** How bytes are written in strings. Default `base64`. */
  readonly bytes?: BytesEncoding;
  /** Indentation, as `JSON.stringify` takes it; 0 for one line. Default 0. */
  readonly indent?: number;
}

/**
 * Writes a decoded payload as JSON text, whatever a codec produced: bytes (`Uint8Array`,
 * `Buffer`) as a base64 or hex string, BigInts (MsgPack int64 past 2^53) as decimal strings,
 * `Map`s as objects, protobufjs messages in their canonical JSON form (through their `toJSON`).
 * `undefined` (an empty payload) is written `null`.
 *
 * Never throws for what a codec decodes; a value JSON cannot hold at all (a cycle) throws the
 * `TypeError` of `JSON.stringify`.
 *
 * @example
 * ```ts
 * toJson({ id: 2n ** 60n, raw: Uint8Array.of(1, 2) }); // '{"id":"1152921504606846976","raw":"AQI="}'
 * toJson(Uint8Array.of(0xca, 0xfe), { bytes: 'hex' });  // '"cafe"'
 * ```
 */
export function toJson(value: unknown, options: ToJsonOptions = {}): string {
  const bytes = options.bytes ?? 'base64';
  const text = JSON.stringify(
    value === undefined ? null : prepare(value, bytes),
    (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item),
    options.indent ?? 0,
  );
  return text;
}

/** Turns what JSON.stringify would mangle (bytes, Maps) into what it writes well. */
function prepare(value: unknown, bytes: BytesEncoding): unknown {
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.length).toString(bytes);
  if (typeof value !== 'object' || value === null) return value;
  // protobufjs messages and Dates know their JSON form.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  if (value instanceof Map) {
    const record: Record<string, unknown> = {};
    for (const [key, item] of value) record[String(key)] = prepare(item, bytes);
    return record;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => prepare(item, bytes));
  const record: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) record[key] = prepare(item, bytes);
  return record;
}
