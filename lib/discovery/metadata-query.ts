import { describeValue, toMetadata } from '../util/validate.js';

/**
 * Parses registry metadata written in URL query format (`weight=10&group=a`), as Go Phobos and
 * rpcx registries store it: pairs split on `&`, key and value on the first `=`, `+` read as a
 * space, percent-escapes decoded as UTF-8. A pair without `=` has an empty value, empty pairs are
 * skipped, and when a key repeats the last value wins.
 *
 * The result has a null prototype, so keys such as `__proto__` or `constructor` are ordinary
 * entries.
 *
 * @throws TypeError when `query` is not a string; RangeError naming the pair when it holds a
 *   malformed percent-escape (`%zz`, a truncated `%4`) or escapes bytes that are not UTF-8.
 * @example
 * ```ts
 * parseMetadata('weight=10&group=a%2Cb&note=hello+world');
 * // { weight: '10', group: 'a,b', note: 'hello world' }
 * ```
 * @group Discovery
 */
export function parseMetadata(query: string): Record<string, string> {
  if (typeof query !== 'string')
    throw new TypeError(`metadata must be a string, got ${describeValue(query)}`);
  const record: Record<string, string> = Object.create(null);
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const key = equals < 0 ? pair : pair.slice(0, equals);
    const value = equals < 0 ? '' : pair.slice(equals + 1);
    record[unescapeQuery(key, pair)] = unescapeQuery(value, pair);
  }
  return record;
}

/**
 * Writes metadata in URL query format, byte for byte as Go's `url.Values.Encode`: keys sorted,
 * everything but `A-Z a-z 0-9 - _ . ~` percent-escaped as UTF-8, a space written `+`.
 * `parseMetadata(formatMetadata(record))` gives the record back.
 *
 * @throws TypeError when `metadata` is not an object or a Map, or a key or value is not a
 *   string; RangeError naming the entry when a string holds a lone surrogate (it has no UTF-8).
 * @example
 * ```ts
 * formatMetadata({ weight: '10', group: 'a,b' }); // 'group=a%2Cb&weight=10'
 * ```
 * @group Discovery
 */
export function formatMetadata(
  metadata: Readonly<Record<string, string>> | ReadonlyMap<string, string>,
): string {
  const entries = [...toMetadata('metadata', metadata)];
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([key, value]) => `${escapeQuery(key, key)}=${escapeQuery(value, key)}`).join('&');
}

function unescapeQuery(text: string, pair: string): string {
  const spaced = text.replaceAll('+', ' ');
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch (error) {
    throw new RangeError(
      `metadata pair ${JSON.stringify(pair)} has a malformed percent-escape or escapes bytes that are not UTF-8`,
      { cause: error },
    );
  }
}

function escapeQuery(text: string, key: string): string {
  let escaped: string;
  try {
    escaped = encodeURIComponent(text);
  } catch (error) {
    throw new RangeError(
      `metadata entry ${JSON.stringify(key)} holds a lone surrogate, which has no UTF-8 encoding`,
      { cause: error },
    );
  }
  // encodeURIComponent leaves ! ' ( ) * alone; Go's QueryEscape escapes them.
  return escaped
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll('%20', '+');
}
