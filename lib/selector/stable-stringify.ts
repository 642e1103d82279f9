const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * Writes a value as a string that is the same for equal values, whatever the order of their
 * object keys: the default hash key of {@link consistentHash}.
 *
 * JSON-like, with sorted keys, and more types than JSON: a `Uint8Array` (a `Buffer` too) as
 * `h'0a1b'` in hex, another binary view or an `ArrayBuffer` as its type name and its bytes
 * (`Int16Array h'0100'`), a bigint as `12n`, `undefined` (and a function or a symbol) as
 * `undefined`, `NaN` and the infinities by name, a `Map` or `Set` as `Map{...}` / `Set[...]`
 * with sorted entries. As in JSON, object properties whose value is `undefined`, a function or
 * a symbol are left out, and objects with `toJSON` (a `Date`) are written through it. A cycle is
 * written `[Circular]` instead of recursing forever.
 *
 * It throws only what the value itself throws (a getter, a `toJSON`).
 *
 * @example
 * ```ts
 * stableStringify({ b: 1n, a: new Uint8Array([1, 255]) }); // `{"a":h'01ff',"b":1n}`
 * ```
 * @group Governance
 */
export function stableStringify(value: unknown): string {
  return write(value, new Set());
}

function write(value: unknown, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (ancestors.has(value)) return '[Circular]';
      ancestors.add(value);
      try {
        return writeObject(value, ancestors);
      } finally {
        ancestors.delete(value);
      }
    default:
      return 'undefined';
  }
}

function writeObject(value: object, ancestors: Set<object>): string {
  if (value instanceof Uint8Array) return `h'${hex(value)}'`;
  if (ArrayBuffer.isView(value)) {
    return `${value.constructor.name} h'${hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))}'`;
  }
  if (value instanceof ArrayBuffer) return `ArrayBuffer h'${hex(new Uint8Array(value))}'`;
  if (Array.isArray(value)) return `[${value.map((item: unknown) => write(item, ancestors)).join(',')}]`;
  if (value instanceof Map) {
    const entries = [...value].map(([key, item]: [unknown, unknown]) => [
      write(key, ancestors),
      write(item, ancestors),
    ]);
    entries.sort(([a], [b]) => compare(a ?? '', b ?? ''));
    return `Map{${entries.map(([key, item]) => `${key}:${item}`).join(',')}}`;
  }
  if (value instanceof Set) {
    const items = [...value].map((item: unknown) => write(item, ancestors)).sort(compare);
    return `Set[${items.join(',')}]`;
  }
  const toJSON: unknown = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value), ancestors);
  const record = value as Record<string, unknown>;
  const fields: string[] = [];
  for (const key of Object.keys(record).sort(compare)) {
    const item = record[key];
    if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue;
    fields.push(`${JSON.stringify(key)}:${write(item, ancestors)}`);
  }
  return `{${fields.join(',')}}`;
}

function hex(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += HEX[byte];
  return text;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
