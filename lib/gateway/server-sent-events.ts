// The text of a Server-Sent Events stream (the `text/event-stream` format of the HTML standard),
// as the gateway writes it: a `data:` event per value, `event: error` and `event: end` at the
// end, and keepalive comments.

/** The Content-Type of a Server-Sent Events response. @internal */
export const EVENT_STREAM_TYPE = 'text/event-stream';

/** A comment line: ignored by every reader, it keeps proxies from closing a quiet stream. @internal */
export const SSE_KEEPALIVE = ': keepalive\n\n';

const DATA = Buffer.from('data: ');
const LINE = Buffer.from('\ndata: ');
const END = Buffer.from('\n\n');
const NULL = Buffer.from('data: null\n\n');

/**
 * One `data:` event carrying a JSON value (its bytes as they are; `null` for none). JSON has line
 * breaks only between tokens, never inside a string, so a value that has some is split over
 * several `data:` lines, which the reader joins with `\n` into the same JSON.
 *
 * @example
 * ```ts
 * sseData(Buffer.from('{"n":1}')); // 'data: {"n":1}\n\n'
 * ```
 * @internal
 */
export function sseData(json: Uint8Array | undefined): Buffer {
  if (json === undefined || json.length === 0) return NULL;
  if (json.indexOf(0x0a) < 0 && json.indexOf(0x0d) < 0) return Buffer.concat([DATA, json, END]);
  const parts: Uint8Array[] = [DATA];
  let start = 0;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (byte !== 0x0a && byte !== 0x0d) continue;
    parts.push(json.subarray(start, i), LINE);
    // CR LF is one line break.
    if (byte === 0x0d && json[i + 1] === 0x0a) i++;
    start = i + 1;
  }
  parts.push(json.subarray(start), END);
  return Buffer.concat(parts);
}

/**
 * A named event whose data is `value` as JSON on one line (`JSON.stringify` never writes a line
 * break).
 *
 * @example
 * ```ts
 * sseEvent('error', { code: 'not_found', message: 'no such method' });
 * // 'event: error\ndata: {"code":"not_found","message":"no such method"}\n\n'
 * ```
 * @internal
 */
export function sseEvent(name: string, value: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(value)}\n\n`;
}

/**
 * Whether an `Accept` header asks for `text/event-stream` (with a q-value above 0).
 *
 * @example
 * ```ts
 * acceptsEventStream('text/event-stream'); // true
 * acceptsEventStream('application/json'); // false: a stream is asked for by name
 * ```
 * @internal
 */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  for (const part of accept.split(',')) {
    const [type, ...params] = part.split(';');
    if (type?.trim().toLowerCase() !== EVENT_STREAM_TYPE) continue;
    const q = params.map((param) => param.trim().toLowerCase()).find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}
