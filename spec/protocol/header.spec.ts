import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, Header } from '../../lib/protocol/index.js';
import { thrown } from '../support/thrown.js';
import { expectProtocolError, fromHex, MAX_UINT64 } from './arbitraries.js';

type FieldName =
  | 'magic'
  | 'version'
  | 'messageType'
  | 'heartbeat'
  | 'oneway'
  | 'compressType'
  | 'status'
  | 'serializeType'
  | 'seq';

type FieldValue = number | boolean | bigint;

/** For each field: the bits it owns in each of the 12 bytes, and its valid values. */
const FIELDS: Record<
  FieldName,
  { readonly masks: readonly number[]; readonly valid: fc.Arbitrary<FieldValue> }
> = {
  magic: { masks: ownBits(0, 0xff), valid: fc.integer({ min: 0, max: 0xff }) },
  version: { masks: ownBits(1, 0xff), valid: fc.integer({ min: 0, max: 0xff }) },
  messageType: { masks: ownBits(2, 0x80), valid: fc.integer({ min: 0, max: 1 }) },
  heartbeat: { masks: ownBits(2, 0x40), valid: fc.boolean() },
  oneway: { masks: ownBits(2, 0x20), valid: fc.boolean() },
  compressType: { masks: ownBits(2, 0x1c), valid: fc.integer({ min: 0, max: 7 }) },
  status: { masks: ownBits(2, 0x03), valid: fc.integer({ min: 0, max: 3 }) },
  serializeType: { masks: ownBits(3, 0xf0), valid: fc.integer({ min: 0, max: 15 }) },
  seq: {
    masks: [0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    valid: fc.bigInt({ min: 0n, max: MAX_UINT64 }),
  },
};

const FIELD_NAMES = Object.keys(FIELDS) as FieldName[];

function ownBits(index: number, mask: number): number[] {
  const masks = new Array<number>(HEADER_BYTES).fill(0);
  masks[index] = mask;
  return masks;
}

function readAll(header: Header): Record<FieldName, FieldValue> {
  return {
    magic: header.magic,
    version: header.version,
    messageType: header.messageType,
    heartbeat: header.heartbeat,
    oneway: header.oneway,
    compressType: header.compressType,
    status: header.status,
    serializeType: header.serializeType,
    seq: header.seq,
  };
}

/** Assigns through the field's setter, bypassing the setter's static type (to pass bad values). */
function assign(header: Header, field: FieldName, value: unknown): void {
  (header as unknown as Record<FieldName, unknown>)[field] = value;
}

/** A header over 12 bytes in the middle of a larger buffer, with guard bytes on both sides. */
function guardedHeader(initial: Uint8Array, offset: number): { header: Header; backing: Uint8Array } {
  const backing = new Uint8Array(offset + HEADER_BYTES + 5).fill(0xa5);
  backing.set(initial, offset);
  return { header: new Header(backing.subarray(offset, offset + HEADER_BYTES)), backing };
}

function bigEndian64(value: bigint): number[] {
  const bytes: number[] = [];
  for (let shift = 56n; shift >= 0n; shift -= 8n) bytes.push(Number((value >> shift) & 0xffn));
  return bytes;
}

describe('Header', () => {
  it('Header - a new header has the Phobos magic and every other byte zero', () => {
    const header = new Header();
    expect([...header.bytes]).toEqual([0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(readAll(header)).toEqual({
      magic: 0x42,
      version: 0,
      messageType: 0,
      heartbeat: false,
      oneway: false,
      compressType: 0,
      status: 0,
      serializeType: 0,
      seq: 0n,
    });
  });

  it('Header - a heartbeat with seq 7 is 42 00 40 00 00 00 00 00 00 00 00 07', () => {
    const header = new Header();
    header.heartbeat = true;
    header.seq = 7n;
    expect(Buffer.from(header.bytes)).toEqual(fromHex('42 00 40 00 00 00 00 00 00 00 00 07'));
  });

  it('Header - rejects a byte array shorter than 12 bytes with RangeError', () => {
    expect(() => new Header(new Uint8Array(HEADER_BYTES - 1))).toThrow(RangeError);
  });

  it('Header - sets and reads back every combination of type, heartbeat, oneway, compress, status and serialize type', () => {
    const failures: string[] = [];
    let combinations = 0;
    for (const messageType of [0, 1] as const) {
      for (const heartbeat of [false, true]) {
        for (const oneway of [false, true]) {
          for (let compressType = 0; compressType <= 7; compressType++) {
            for (let status = 0; status <= 3; status++) {
              for (let serializeType = 0; serializeType <= 15; serializeType++) {
                combinations++;
                // From all-zero and all-one bytes, so that both setting and clearing bits are seen.
                for (const fill of [0x00, 0xff]) {
                  const header = new Header(new Uint8Array(HEADER_BYTES).fill(fill));
                  header.messageType = messageType;
                  header.heartbeat = heartbeat;
                  header.oneway = oneway;
                  header.compressType = compressType;
                  header.status = status;
                  header.serializeType = serializeType;
                  const read = readAll(header);
                  const expected = {
                    magic: fill,
                    version: fill,
                    messageType,
                    heartbeat,
                    oneway,
                    compressType,
                    status,
                    serializeType,
                    seq: fill === 0 ? 0n : MAX_UINT64,
                  };
                  const byte2 =
                    (messageType << 7) |
                    (heartbeat ? 0x40 : 0) |
                    (oneway ? 0x20 : 0) |
                    (compressType << 2) |
                    status;
                  const byte3 = (serializeType << 4) | (fill & 0x0f);
                  const bytes = [fill, fill, byte2, byte3, ...new Array<number>(8).fill(fill)];
                  const label = JSON.stringify({
                    fill,
                    messageType,
                    heartbeat,
                    oneway,
                    compressType,
                    status,
                    serializeType,
                  });
                  for (const field of FIELD_NAMES) {
                    if (read[field] !== expected[field]) {
                      failures.push(
                        `${label}: ${field} read ${String(read[field])}, expected ${String(expected[field])}`,
                      );
                    }
                  }
                  if (header.bytes.some((byte, i) => byte !== bytes[i])) {
                    failures.push(`${label}: bytes ${Buffer.from(header.bytes).toString('hex')}`);
                  }
                }
              }
            }
          }
        }
      }
    }
    expect(combinations).toBe(4096);
    expect(failures).toEqual([]);
  });

  it('Header - setting one field never disturbs another field or another bit', () => {
    const change = fc.oneof(
      ...FIELD_NAMES.map((field) => FIELDS[field].valid.map((value) => ({ field, value }))),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: HEADER_BYTES, maxLength: HEADER_BYTES }),
        fc.nat({ max: 7 }),
        change,
        (initial, offset, { field, value }) => {
          const { header, backing } = guardedHeader(initial, offset);
          const before = readAll(header);
          const backingBefore = [...backing];
          assign(header, field, value);
          expect(readAll(header)).toEqual({ ...before, [field]: value });
          const masks = FIELDS[field].masks;
          const outside = (bytes: readonly number[]) =>
            bytes.map((byte, i) => {
              const index = i - offset;
              return index >= 0 && index < HEADER_BYTES ? byte & ~(masks[index] ?? 0) & 0xff : byte;
            });
          expect(outside([...backing])).toEqual(outside(backingBefore));
        },
      ),
    );
  });

  it('Header - seq round-trips any uint64, written big-endian in bytes 4-11', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: MAX_UINT64 }),
        fc.uint8Array({ minLength: HEADER_BYTES, maxLength: HEADER_BYTES }),
        fc.nat({ max: 7 }),
        (seq, initial, offset) => {
          const { header, backing } = guardedHeader(initial, offset);
          const backingBefore = [...backing];
          header.seq = seq;
          expect(header.seq).toBe(seq);
          const expected = [...backingBefore];
          expected.splice(offset + 4, 8, ...bigEndian64(seq));
          expect([...backing]).toEqual(expected);
        },
      ),
    );
  });

  const OUT_OF_RANGE: readonly [FieldName, unknown][] = [
    ['messageType', 2],
    ['messageType', -1],
    ['messageType', 1.5],
    ['compressType', 8],
    ['compressType', -1],
    ['compressType', 1.5],
    ['status', 4],
    ['status', -1],
    ['status', 1.5],
    ['serializeType', 16],
    ['serializeType', -1],
    ['serializeType', 1.5],
    ['serializeType', Number.NaN],
    ['magic', 256],
    ['magic', -1],
    ['magic', 1.5],
    ['version', 256],
    ['version', -1],
    ['seq', -1n],
    ['seq', 2n ** 64n],
    ['seq', 1],
  ];

  it.each(OUT_OF_RANGE)(
    'Header - setting %s to %s throws RangeError and leaves the bytes unchanged',
    (field, value) => {
      const initial = fromHex('42 00 b5 a0 01 02 03 04 05 06 07 08');
      const header = new Header(Uint8Array.from(initial));
      expect(thrown(() => assign(header, field, value))).toBeInstanceOf(RangeError);
      expect(Buffer.from(header.bytes)).toEqual(initial);
    },
  );

  it('Header - setters reject any out-of-range number with RangeError and leave the bytes unchanged', () => {
    const limits: [FieldName, number][] = [
      ['magic', 0xff],
      ['version', 0xff],
      ['messageType', 1],
      ['compressType', 7],
      ['status', 3],
      ['serializeType', 15],
    ];
    const bad = fc.oneof(
      ...limits.map(([field, max]) =>
        fc
          .oneof(
            fc.integer({ max: -1 }),
            fc.integer({ min: max + 1 }),
            fc.double({ min: 0, max, noNaN: true }).filter((value) => !Number.isInteger(value)),
            fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
          )
          .map((value): [FieldName, unknown] => [field, value]),
      ),
      fc
        .oneof(fc.bigInt({ max: -1n }), fc.bigInt({ min: 2n ** 64n }))
        .map((value): [FieldName, unknown] => ['seq', value]),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: HEADER_BYTES, maxLength: HEADER_BYTES }),
        bad,
        (initial, [field, value]) => {
          const header = new Header(Uint8Array.from(initial));
          expect(thrown(() => assign(header, field, value))).toBeInstanceOf(RangeError);
          expect([...header.bytes]).toEqual([...initial]);
        },
      ),
    );
  });

  it('Header - check() accepts a listed magic with version 0', () => {
    const header = new Header();
    expect(() => header.check([0x42, 0x08])).not.toThrow();
    header.magic = 0x08;
    expect(() => header.check([0x42, 0x08])).not.toThrow();
  });

  it("Header - check() throws ProtocolError with field 'magic' for a magic not in the list", () => {
    const header = new Header();
    header.magic = 0x43;
    expectProtocolError(() => header.check([0x42, 0x08]), 'magic');
    header.magic = 0x42;
    expectProtocolError(() => header.check([0x08]), 'magic');
  });

  it("Header - check() throws ProtocolError with field 'version' for a version other than 0", () => {
    const header = new Header();
    header.version = 1;
    expectProtocolError(() => header.check([0x42, 0x08]), 'version');
  });
});
