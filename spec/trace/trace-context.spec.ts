import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatTraceparent,
  formatTracestate,
  MAX_TRACESTATE_CHARS,
  MAX_TRACESTATE_MEMBERS,
  parseTraceparent,
  parseTracestate,
  type TraceContext,
  traceContextOf,
  traceMetadata,
} from '../../lib/trace/index.js';
import { thrown } from '../support/thrown.js';

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const nonZeroHex = (length: number) => hex(length).filter((id) => /[^0]/.test(id));

const traceContexts: fc.Arbitrary<TraceContext> = fc.record({
  traceId: nonZeroHex(32),
  spanId: nonZeroHex(16),
  flags: fc.integer({ min: 0, max: 255 }),
});

const traceparents = traceContexts.map(formatTraceparent);

const lcalpha = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz');
const keyChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_-*/');
const simpleKeys = fc
  .tuple(lcalpha, fc.string({ unit: keyChar, maxLength: 20 }))
  .map(([first, rest]) => first + rest);
const multiTenantKeys = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
    fc.string({ unit: keyChar, maxLength: 10 }),
    lcalpha,
    fc.string({ unit: keyChar, maxLength: 13 }),
  )
  .map(([first, tenant, system, rest]) => `${first}${tenant}@${system}${rest}`);
const tracestateKeys = fc.oneof(simpleKeys, multiTenantKeys);
const valueChar = fc.constantFrom(
  ...Array.from({ length: 0x7e - 0x20 + 1 }, (_, i) => String.fromCharCode(0x20 + i)).filter(
    (char) => char !== ',' && char !== '=',
  ),
);
const tracestateValues = fc
  .tuple(
    fc.string({ unit: valueChar, maxLength: 30 }),
    valueChar.filter((char) => char !== ' '),
  )
  .map(([body, last]) => body + last);
/** Valid states that need no shrinking: unique keys, few and short enough. */
const tracestates = fc
  .uniqueArray(fc.tuple(tracestateKeys, tracestateValues), { selector: ([key]) => key, maxLength: 8 })
  .map((members) => new Map(members));

/** Valid values under another version, with something after them. */
const nearlyTraceparents = fc
  .tuple(hex(2), traceparents, fc.string({ maxLength: 6 }))
  .map(([version, value, suffix]) => version + value.slice(2) + suffix);

/** A string of the characters a header is made of, or any string at all. */
const headerish = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF-fz ,=@\t'), maxLength: 70 }),
  fc.string({ maxLength: 70 }),
  fc.string({ unit: 'binary', maxLength: 70 }),
);

describe('parseTraceparent', () => {
  it('parseTraceparent - reads the W3C example', () => {
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: 1,
    });
  });

  it('parseTraceparent - parse after format gives the context back', () => {
    fc.assert(
      fc.property(traceContexts, (context) => {
        expect(parseTraceparent(formatTraceparent(context))).toEqual(context);
      }),
    );
  });

  it('parseTraceparent - format after parse gives a valid version 00 value back', () => {
    fc.assert(
      fc.property(traceparents, (value) => {
        const parsed = parseTraceparent(value);
        expect(parsed).toBeDefined();
        expect(formatTraceparent(parsed as TraceContext)).toBe(value);
      }),
    );
  });

  it('parseTraceparent - never throws on a string: undefined, or a valid context that formats and parses back', () => {
    fc.assert(
      fc.property(fc.oneof(headerish, traceparents, nearlyTraceparents), (value) => {
        const parsed = parseTraceparent(value);
        if (parsed === undefined) return;
        expect(parsed.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(parsed.spanId).toMatch(/^[0-9a-f]{16}$/);
        expect(parsed.traceId).not.toMatch(/^0+$/);
        expect(parsed.spanId).not.toMatch(/^0+$/);
        expect(Number.isInteger(parsed.flags) && parsed.flags >= 0 && parsed.flags <= 255).toBe(true);
        expect(parseTraceparent(formatTraceparent(parsed))).toEqual(parsed);
      }),
    );
  });

  it('parseTraceparent - rejects a valid value with any one character changed to one a traceparent may not hold there', () => {
    fc.assert(
      fc.property(traceparents, fc.nat(54), fc.constantFrom(...'ABCDEFGxz-_ +.'), (value, at, char) => {
        const separator = at === 2 || at === 35 || at === 52;
        fc.pre(separator ? char !== '-' : true);
        const changed = value.slice(0, at) + char + value.slice(at + 1);
        expect(parseTraceparent(changed)).toBeUndefined();
      }),
    );
  });

  it('parseTraceparent - rejects uppercase hex, all-zero ids, version ff and every wrong length of version 00', () => {
    fc.assert(
      fc.property(traceContexts, fc.integer({ min: 1, max: 10 }), (context, cut) => {
        const value = formatTraceparent(context);
        if (/[a-f]/.test(value)) expect(parseTraceparent(value.toUpperCase())).toBeUndefined();
        expect(parseTraceparent(formatTraceparent(context).replace(/^00/, 'ff'))).toBeUndefined();
        expect(parseTraceparent(`00-${'0'.repeat(32)}-${context.spanId}-01`)).toBeUndefined();
        expect(parseTraceparent(`00-${context.traceId}-${'0'.repeat(16)}-01`)).toBeUndefined();
        expect(parseTraceparent(value.slice(0, 55 - cut))).toBeUndefined();
        expect(parseTraceparent(value + '0'.repeat(cut))).toBeUndefined();
        expect(parseTraceparent(`${value}-${'0'.repeat(cut)}`)).toBeUndefined();
      }),
    );
  });

  it('parseTraceparent - reads a later version by the W3C rule: its first 55 characters, then the end or a dash; only the sampled flag', () => {
    const ids = '4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7';
    const expected = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1 };
    expect(parseTraceparent(`cc-${ids}-09`)).toEqual(expected);
    expect(parseTraceparent(`cc-${ids}-09-what-the-future-holds`)).toEqual(expected);
    expect(parseTraceparent(`01-${ids}-fe`)).toEqual({ ...expected, flags: 0 });
    expect(parseTraceparent(`cc-${ids}-09x`)).toBeUndefined();
    expect(parseTraceparent(`cc-${ids}-9`)).toBeUndefined();
    expect(parseTraceparent(`ff-${ids}-01`)).toBeUndefined();
    expect(parseTraceparent(`Cc-${ids}-01`)).toBeUndefined();
  });

  it('parseTraceparent - ignores spaces and tabs around the value, as in an HTTP header, and nothing else', () => {
    const value = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(parseTraceparent(` \t${value}\t `)).toEqual(parseTraceparent(value));
    expect(parseTraceparent(`\n${value}`)).toBeUndefined();
    expect(parseTraceparent(`${value}\u00a0`)).toBeUndefined();
  });

  it('parseTraceparent - refuses a value that is not a string', () => {
    expect(() => parseTraceparent(42 as unknown as string)).toThrow(
      new TypeError('traceparent must be a string, got 42'),
    );
  });
});

describe('formatTraceparent', () => {
  it.each([
    [{ traceId: 'ABCDEF0123456789abcdef0123456789', spanId: '00f067aa0ba902b7', flags: 1 }, /traceId/],
    [{ traceId: '0'.repeat(32), spanId: '00f067aa0ba902b7', flags: 1 }, /traceId/],
    [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '0'.repeat(16), flags: 1 }, /spanId/],
    [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b', flags: 1 }, /spanId/],
    [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 256 }, /flags/],
    [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 1.5 }, /flags/],
  ])('formatTraceparent - refuses %j, naming the field', (context, field) => {
    const error = thrown(() => formatTraceparent(context));
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(field);
  });
});

describe('parseTracestate', () => {
  it('parseTracestate - reads members in order, around spaces and tabs, and drops empty and invalid ones', () => {
    expect(
      parseTracestate(' rojo=00f067aa0ba902b7 ,,\tcongo=t61rcWkgMzE, Bad=x, novalue=, =x, a@b=1, t@=2'),
    ).toEqual(
      new Map([
        ['rojo', '00f067aa0ba902b7'],
        ['congo', 't61rcWkgMzE'],
        ['a@b', '1'],
      ]),
    );
  });

  it('parseTracestate - keeps the first of a repeated key', () => {
    expect(parseTracestate('a=1,b=2,a=3')).toEqual(
      new Map([
        ['a', '1'],
        ['b', '2'],
      ]),
    );
  });

  it('parseTracestate - format after parse gives a valid state back', () => {
    fc.assert(
      fc.property(tracestates, (state) => {
        expect(parseTracestate(formatTracestate(state))).toEqual(state);
      }),
    );
  });

  it('parseTracestate - keeps the valid members among invalid ones, in order', () => {
    const invalid = fc.oneof(
      fc.constant(''),
      fc.constant('Upper=x'),
      fc.constant('k=a=b'),
      fc.constant('=v'),
      fc.constant('novalue'),
      fc.constant('k@=x'),
      fc.constant(`k=${'v'.repeat(257)}`),
      fc.string({ unit: fc.constantFrom(...'=@ \t'), maxLength: 4 }),
    );
    fc.assert(
      fc.property(tracestates, fc.array(fc.tuple(fc.nat(8), invalid), { maxLength: 5 }), (state, noise) => {
        const members = [...state].map(([key, value]) => `${key}=${value}`);
        for (const [at, member] of noise) members.splice(Math.min(at, members.length), 0, member);
        expect(parseTracestate(members.join(','))).toEqual(state);
      }),
    );
  });

  it('parseTracestate - never throws on a string: at most 32 valid members within 512 characters, a fixed point of format and parse', () => {
    const longStates = fc
      .array(fc.tuple(tracestateKeys, fc.oneof(tracestateValues, fc.constant('v'.repeat(200)))), {
        maxLength: 60,
      })
      .map((members) => members.map(([key, value]) => `${key}=${value}`).join(','));
    fc.assert(
      fc.property(fc.oneof(headerish, longStates), (value) => {
        const state = parseTracestate(value);
        expect(state.size).toBeLessThanOrEqual(MAX_TRACESTATE_MEMBERS);
        const formatted = formatTracestate(state);
        expect(formatted.length).toBeLessThanOrEqual(MAX_TRACESTATE_CHARS);
        expect(parseTracestate(formatted)).toEqual(state);
      }),
    );
  });

  it('parseTracestate - keeps the first 32 valid members', () => {
    const members = Array.from({ length: 40 }, (_, i) => `k${i}=${i}`);
    expect([...parseTracestate(members.join(',')).keys()]).toEqual(
      members.slice(0, 32).map((m) => m.split('=')[0]),
    );
  });

  it('parseTracestate - past 512 characters drops members longer than 128 first, from the end, then from the end', () => {
    const long = (key: string) => `${key}=${'x'.repeat(150)}`;
    const short = (key: string) => `${key}=${'y'.repeat(90)}`;
    // 153 * 2 + 93 * 3 + 4 commas = 589 characters: dropping l2 (and its comma) leaves 435.
    const state = parseTracestate([long('l1'), short('s1'), long('l2'), short('s2'), short('s3')].join(','));
    expect([...state.keys()]).toEqual(['l1', 's1', 's2', 's3']);
    const shorts = Array.from({ length: 7 }, (_, i) => short(`s${i}`));
    expect([...parseTracestate(shorts.join(',')).keys()]).toEqual(['s0', 's1', 's2', 's3', 's4']);
  });

  it('parseTracestate - refuses a value that is not a string', () => {
    expect(() => parseTracestate(null as unknown as string)).toThrow(TypeError);
  });
});

describe('formatTracestate', () => {
  it('formatTracestate - refuses an invalid key or value, naming it', () => {
    expect(() => formatTracestate(new Map([['Bad', 'x']]))).toThrow(/tracestate key "Bad"/);
    expect(() => formatTracestate(new Map([['ok', 'a,b']]))).toThrow(/tracestate value of ok/);
    expect(() => formatTracestate(new Map([['ok', '']]))).toThrow(RangeError);
  });

  it('formatTracestate - writes at most 32 members within 512 characters, dropping from the end', () => {
    const many = new Map(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'.repeat(20)] as const));
    const formatted = formatTracestate(many);
    // k0..k9 take 23 characters, k10 and on 24: 20 members and 19 commas make 489, a 21st 514.
    expect(formatted.length).toBe(489);
    expect([...parseTracestate(formatted).keys()]).toEqual([...many.keys()].slice(0, 20));
  });
});

describe('traceContextOf and traceMetadata', () => {
  it('traceContextOf - reads back what traceMetadata wrote', () => {
    fc.assert(
      fc.property(
        traceContexts,
        fc.option(
          tracestates.filter((state) => state.size > 0),
          { nil: undefined },
        ),
        (parent, traceState) => {
          const context: TraceContext = traceState === undefined ? parent : { ...parent, traceState };
          expect(traceContextOf(new Map(Object.entries(traceMetadata(context))))).toEqual(context);
        },
      ),
    );
  });

  it('traceMetadata - gives both entries, tracestate empty when there is no state', () => {
    expect(
      traceMetadata({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: 0 }),
    ).toEqual({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
      tracestate: '',
    });
  });

  it('traceContextOf - ignores tracestate without a valid traceparent, and an empty or invalid tracestate', () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expect(traceContextOf(new Map([['tracestate', 'a=1']]))).toBeUndefined();
    expect(
      traceContextOf(
        new Map([
          ['traceparent', 'x'],
          ['tracestate', 'a=1'],
        ]),
      ),
    ).toBeUndefined();
    expect(
      traceContextOf(
        new Map([
          ['traceparent', traceparent],
          ['tracestate', 'A=1'],
        ]),
      ),
    ).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: 1,
    });
  });

  it('traceContextOf - never throws on any metadata map: undefined or a context that formats', () => {
    fc.assert(
      fc.property(
        fc.option(fc.oneof(headerish, traceparents)),
        fc.option(headerish),
        (traceparent, tracestate) => {
          const metadata = new Map<string, string>();
          if (traceparent !== null) metadata.set('traceparent', traceparent);
          if (tracestate !== null) metadata.set('tracestate', tracestate);
          const context = traceContextOf(metadata);
          if (context !== undefined)
            expect(traceContextOf(new Map(Object.entries(traceMetadata(context))))).toEqual(context);
        },
      ),
    );
  });

  it('traceContextOf - refuses metadata that is not a Map', () => {
    expect(() => traceContextOf({ traceparent: 'x' } as unknown as Map<string, string>)).toThrow(
      new TypeError('metadata must be a Map, got an object'),
    );
  });
});
