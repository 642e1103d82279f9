import { describeValue } from '../util/validate.js';

/**
 * The metadata key of the W3C `traceparent`: version, trace id, parent (span) id and flags.
 *
 * @group Tracing
 */
export const TRACEPARENT_KEY = 'traceparent';

/**
 * The metadata key of the W3C `tracestate`: vendors' own `key=value` members.
 *
 * @group Tracing
 */
export const TRACESTATE_KEY = 'tracestate';

/**
 * The `sampled` bit of {@link TraceContext.flags}: the caller may have recorded its span.
 *
 * @group Tracing
 */
export const TRACE_FLAG_SAMPLED = 0x01;

/**
 * The most members a `tracestate` keeps (W3C): parsing keeps the first 32 valid ones.
 *
 * @group Tracing
 */
export const MAX_TRACESTATE_MEMBERS = 32;

/**
 * The longest `tracestate` this library writes or keeps, in characters: the length every
 * implementation must propagate (W3C). Longer states lose members by the W3C rule.
 * @group Tracing
 */
export const MAX_TRACESTATE_CHARS = 512;

/**
 * A position in a distributed trace, as W3C trace context carries it from caller to callee.
 *
 * @example
 * ```ts
 * const context: TraceContext = {
 *   traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
 *   spanId: '00f067aa0ba902b7',
 *   flags: TRACE_FLAG_SAMPLED,
 *   traceState: new Map([['congo', 't61rcWkgMzE']]),
 * };
 * ```
 * @group Tracing
 */
export interface TraceContext {
  /** The trace: 32 lowercase hex digits, not all zero. */
  readonly traceId: string;
  /** The caller's span (the callee's parent): 16 lowercase hex digits, not all zero. */
  readonly spanId: string;
  /** The trace flags, 0..255; bit 0 is {@link TRACE_FLAG_SAMPLED}. */
  readonly flags: number;
  /** The `tracestate` members, most recently updated first; absent when there are none. */
  readonly traceState?: ReadonlyMap<string, string>;
}

/**
 * The `traceparent` and `tracestate` metadata entries of a {@link TraceContext}.
 *
 * @group Tracing
 */
export interface TraceMetadata {
  /** The formatted `traceparent`. */
  readonly traceparent: string;
  /** The formatted `tracestate`; empty when the context has none. */
  readonly tracestate: string;
}

const TRACEPARENT_CHARS = 55;
const VERSION = /^[0-9a-f]{2}$/;
const TRACEPARENT_FIELDS = /^-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;
const ZEROS = /^0+$/;
const SIMPLE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const MULTI_TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;
// Printable ASCII but `,` and `=`; spaces inside, not at the end.
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
// W3C: when a state must shrink, members longer than this go first.
const LONG_MEMBER_CHARS = 128;

/**
 * Parses a W3C `traceparent`. Version `00` must be exactly `00-<trace id>-<span id>-<flags>`; a
 * later version is read the same way from its first 55 characters, followed by the end or a
 * `-` (the W3C rule for versions this parser does not know), keeping only its sampled flag.
 * Spaces and tabs around the value are ignored, as in an HTTP header.
 *
 * @returns the trace context, without a trace state; undefined, never a throw, for any string
 *   that is not a valid `traceparent`: version `ff`, uppercase hex, wrong lengths or separators,
 *   an all-zero trace id or span id.
 * @throws TypeError when `value` is not a string.
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
 * // { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 }
 * parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'); // undefined
 * ```
 * @group Tracing
 */
export function parseTraceparent(value: string): TraceContext | undefined {
  if (typeof value !== 'string')
    throw new TypeError(`traceparent must be a string, got ${describeValue(value)}`);
  const text = trimOws(value);
  if (text.length < TRACEPARENT_CHARS) return undefined;
  const version = text.slice(0, 2);
  if (!VERSION.test(version) || version === 'ff') return undefined;
  const known = version === '00';
  if (
    known
      ? text.length !== TRACEPARENT_CHARS
      : text.length > TRACEPARENT_CHARS && text[TRACEPARENT_CHARS] !== '-'
  )
    return undefined;
  const fields = TRACEPARENT_FIELDS.exec(text.slice(2, TRACEPARENT_CHARS));
  if (fields === null) return undefined;
  const [, traceId = '', spanId = '', flagsText = ''] = fields;
  if (ZEROS.test(traceId) || ZEROS.test(spanId)) return undefined;
  const flags = Number.parseInt(flagsText, 16);
  // What the other flag bits of a later version mean is that version's business.
  return { traceId, spanId, flags: known ? flags : flags & TRACE_FLAG_SAMPLED };
}

/**
 * Formats the `traceparent` (version `00`) of a trace context; its trace state is not part of it.
 *
 * @throws RangeError naming the field when the trace id is not 32 lowercase hex digits or all
 *   zero, the span id not 16 or all zero, or the flags not an integer in 0..255; TypeError when
 *   `context` is not an object.
 * @example
 * ```ts
 * formatTraceparent({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 });
 * // '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
 * ```
 * @group Tracing
 */
export function formatTraceparent(context: TraceContext): string {
  if (typeof context !== 'object' || context === null)
    throw new TypeError(`a trace context must be an object, got ${describeValue(context)}`);
  const { traceId, spanId, flags } = context;
  if (typeof traceId !== 'string' || !TRACE_ID.test(traceId) || ZEROS.test(traceId))
    throw new RangeError(
      `traceId must be 32 lowercase hex digits, not all zero, got ${describeValue(traceId)}`,
    );
  if (typeof spanId !== 'string' || !SPAN_ID.test(spanId) || ZEROS.test(spanId))
    throw new RangeError(
      `spanId must be 16 lowercase hex digits, not all zero, got ${describeValue(spanId)}`,
    );
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xff)
    throw new RangeError(`flags must be an integer in 0..255, got ${describeValue(flags)}`);
  return `00-${traceId}-${spanId}-${flags.toString(16).padStart(2, '0')}`;
}

/**
 * Parses a W3C `tracestate`: a comma-separated list of `key=value` members, most recent first.
 * Invalid members, empty ones and repeats of a key already seen are dropped; the first 32 valid
 * members are kept, then members are dropped by the W3C rule (the longest first, then from the
 * end) until the state fits in 512 characters.
 *
 * @returns the members in order, keyed by their keys; empty, never a throw, when none is valid.
 * @throws TypeError when `value` is not a string.
 * @example
 * ```ts
 * parseTracestate('rojo=00f067aa0ba902b7, congo=t61rcWkgMzE, Bad=x'); // Map { rojo => ..., congo => ... }
 * ```
 * @group Tracing
 */
export function parseTracestate(value: string): ReadonlyMap<string, string> {
  if (typeof value !== 'string')
    throw new TypeError(`tracestate must be a string, got ${describeValue(value)}`);
  const members = new Map<string, string>();
  // Reads member by member, to stop at the 32nd valid one whatever the length of the rest.
  for (let start = 0; start <= value.length && members.size < MAX_TRACESTATE_MEMBERS; ) {
    const comma = value.indexOf(',', start);
    const end = comma < 0 ? value.length : comma;
    const member = trimOws(value.slice(start, end));
    start = end + 1;
    const equals = member.indexOf('=');
    if (equals < 0) continue;
    const key = member.slice(0, equals);
    const memberValue = member.slice(equals + 1);
    if (!members.has(key) && isTracestateKey(key) && isTracestateValue(memberValue))
      members.set(key, memberValue);
  }
  return withinBounds(members);
}

/**
 * Formats a trace state as a W3C `tracestate`. Past 32 members or 512 characters, members are
 * dropped by the W3C rule (the longest first, then from the end), so what it returns is always a
 * valid value that every implementation propagates.
 *
 * @throws RangeError naming the member when a key or a value is not valid in a `tracestate`;
 *   TypeError when `state` is not a Map.
 * @example
 * ```ts
 * formatTracestate(new Map([['rojo', '00f067aa0ba902b7'], ['congo', 't61rcWkgMzE']]));
 * // 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'
 * ```
 * @group Tracing
 */
export function formatTracestate(state: ReadonlyMap<string, string>): string {
  if (!(state instanceof Map))
    throw new TypeError(`a trace state must be a Map, got ${describeValue(state)}`);
  const members = new Map<string, string>();
  for (const [key, value] of state as ReadonlyMap<unknown, unknown>) {
    if (typeof key !== 'string' || !isTracestateKey(key))
      throw new RangeError(`tracestate key ${describeValue(key)} is not a valid W3C tracestate key`);
    if (typeof value !== 'string' || !isTracestateValue(value))
      throw new RangeError(
        `tracestate value of ${key} is not a valid W3C tracestate value: ${describeValue(value)}`,
      );
    if (members.size < MAX_TRACESTATE_MEMBERS) members.set(key, value);
  }
  return joinTracestate(withinBounds(members));
}

/**
 * The trace context a request's metadata carries (`traceparent`, and `tracestate` with it).
 *
 * @returns undefined, never a throw, when there is no `traceparent` or it is not valid (its
 *   `tracestate` is then ignored, as W3C requires); the context without `traceState` when
 *   `tracestate` is absent or holds no valid member.
 * @throws TypeError when `metadata` is not a Map.
 * @example
 * ```ts
 * server.register('Echo', {
 *   Say(text: string, ctx: CallContext) {
 *     console.log(traceContextOf(ctx.metadata)?.traceId);
 *     return text;
 *   },
 * });
 * ```
 * @group Tracing
 */
export function traceContextOf(metadata: ReadonlyMap<string, string>): TraceContext | undefined {
  if (!(metadata instanceof Map))
    throw new TypeError(`metadata must be a Map, got ${describeValue(metadata)}`);
  const traceparent: unknown = metadata.get(TRACEPARENT_KEY);
  if (typeof traceparent !== 'string') return undefined;
  const parent = parseTraceparent(traceparent);
  if (parent === undefined) return undefined;
  const tracestate: unknown = metadata.get(TRACESTATE_KEY);
  const traceState = typeof tracestate === 'string' ? parseTracestate(tracestate) : undefined;
  return traceState === undefined || traceState.size === 0 ? parent : { ...parent, traceState };
}

/**
 * The `traceparent` and `tracestate` metadata entries that carry `context` to the callee. Both
 * are always given, `tracestate` empty when there is no state, so that they replace a stale pair
 * when merged into a call's metadata.
 *
 * @throws RangeError as {@link formatTraceparent} and {@link formatTracestate} do for an
 *   invalid context.
 * @example
 * ```ts
 * client.use((next) => (call) => next(withMetadata(call, traceMetadata(current))), { stage: 'attempt' });
 * ```
 * @group Tracing
 */
export function traceMetadata(context: TraceContext): TraceMetadata {
  return {
    traceparent: formatTraceparent(context),
    tracestate: context.traceState === undefined ? '' : formatTracestate(context.traceState),
  };
}

function isTracestateKey(key: string): boolean {
  return key.length <= 256 && (SIMPLE_KEY.test(key) || MULTI_TENANT_KEY.test(key));
}

function isTracestateValue(value: string): boolean {
  return value.length <= 256 && VALUE.test(value);
}

function joinTracestate(members: ReadonlyMap<string, string>): string {
  return [...members].map(([key, value]) => `${key}=${value}`).join(',');
}

/** `members` shrunk by the W3C rule until they fit in {@link MAX_TRACESTATE_CHARS}. */
function withinBounds(members: Map<string, string>): Map<string, string> {
  const entryChars = (key: string, value: string): number => key.length + 1 + value.length;
  let chars = members.size - 1;
  for (const [key, value] of members) chars += entryChars(key, value);
  if (chars <= MAX_TRACESTATE_CHARS) return members;
  const fromEnd = [...members].reverse();
  for (const long of [true, false]) {
    for (const [key, value] of fromEnd) {
      if (chars <= MAX_TRACESTATE_CHARS) return members;
      if (!members.has(key) || (long && entryChars(key, value) <= LONG_MEMBER_CHARS)) continue;
      members.delete(key);
      chars -= entryChars(key, value) + 1;
    }
  }
  return members;
}

/** `text` without the spaces and tabs around it (a loop: a regular expression would backtrack). */
function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start++;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}
