import fc from 'fast-check';
import { expect } from 'vitest';
import { ProtocolError } from '../../lib/errors/index.js';
import type { Message, MessageType } from '../../lib/protocol/index.js';
import { thrown } from '../support/thrown.js';

/** The largest uint64. */
export const MAX_UINT64 = 2n ** 64n - 1n;

/** Payloads at least this large take encodeFrame's two-chunk path. */
export const TWO_CHUNK_PAYLOAD_BYTES = 16 * 1024;

/** Any string of whole code points (no lone surrogates: UTF-8 cannot carry them). */
export function unicodeString(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme-composite', maxLength }),
    fc.string({ unit: 'binary-ascii', maxLength }),
  );
}

/** Pseudo-random bytes from a seed (xorshift32), cheap enough for payloads of tens of KiB. */
export function seededBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/**
 * Puts bytes in the representation a caller might hand the encoder: a plain Uint8Array, a
 * Buffer, or a view into the middle of a larger ArrayBuffer.
 */
function placed(bytes: Uint8Array, kind: 'plain' | 'buffer' | 'view', padding: number): Uint8Array {
  if (kind === 'plain') return bytes;
  if (kind === 'buffer') return Buffer.from(bytes);
  const backing = new Uint8Array(padding + bytes.length + padding).fill(0xee);
  backing.set(bytes, padding);
  return backing.subarray(padding, padding + bytes.length);
}

const placementArb = fc.record({
  kind: fc.constantFrom('plain' as const, 'buffer' as const, 'view' as const),
  padding: fc.integer({ min: 1, max: 9 }),
});

/** Small payloads: any bytes. */
export const smallPayloadArb: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.uint8Array({ maxLength: 300 }), placementArb)
  .map(([bytes, { kind, padding }]) => placed(bytes, kind, padding));

/** Large payloads, 16 KiB - 1 to 40 KiB, on both sides of the two-chunk threshold. */
export const largePayloadArb: fc.Arbitrary<Uint8Array> = fc
  .record({
    length: fc.oneof(
      fc.constantFrom(TWO_CHUNK_PAYLOAD_BYTES - 1, TWO_CHUNK_PAYLOAD_BYTES, TWO_CHUNK_PAYLOAD_BYTES + 1),
      fc.integer({ min: TWO_CHUNK_PAYLOAD_BYTES, max: 40 * 1024 }),
    ),
    seed: fc.integer(),
    placement: placementArb,
  })
  .map(({ length, seed, placement }) => placed(seededBytes(length, seed), placement.kind, placement.padding));

/** Metadata: any map of unicode keys to unicode values. */
export const metadataArb: fc.Arbitrary<Map<string, string>> = fc.map(unicodeString(12), unicodeString(24), {
  maxKeys: 6,
});

/** Any message whose fields are in range, with the given payloads. */
export function messageArb(payloadArb: fc.Arbitrary<Uint8Array> = smallPayloadArb): fc.Arbitrary<Message> {
  return fc.record({
    magic: fc.constantFrom(0x42, 0x08),
    messageType: fc.constantFrom<MessageType>(0, 1),
    heartbeat: fc.boolean(),
    oneway: fc.boolean(),
    compressType: fc.integer({ min: 0, max: 7 }),
    status: fc.integer({ min: 0, max: 3 }),
    serializeType: fc.integer({ min: 0, max: 15 }),
    seq: fc.bigInt({ min: 0n, max: MAX_UINT64 }),
    servicePath: unicodeString(32),
    serviceMethod: unicodeString(32),
    metadata: metadataArb,
    payload: payloadArb,
  });
}

/** Small payloads mostly, sometimes a large one. */
export const anyPayloadArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { arbitrary: smallPayloadArb, weight: 4 },
  { arbitrary: largePayloadArb, weight: 1 },
);

/** A message as plain comparable data: metadata as ordered entries, payload as hex. */
export interface MessageView {
  magic: number;
  messageType: number;
  heartbeat: boolean;
  oneway: boolean;
  compressType: number;
  status: number;
  serializeType: number;
  seq: bigint;
  servicePath: string;
  serviceMethod: string;
  metadata: [string, string][];
  payloadHex: string;
}

/** Turns a message into a {@link MessageView}. */
export function view(message: Message): MessageView {
  return {
    magic: message.magic,
    messageType: message.messageType,
    heartbeat: message.heartbeat,
    oneway: message.oneway,
    compressType: message.compressType,
    status: message.status,
    serializeType: message.serializeType,
    seq: message.seq,
    servicePath: message.servicePath,
    serviceMethod: message.serviceMethod,
    metadata: [...message.metadata],
    payloadHex: hexOf(message.payload),
  };
}

/** Lower-case hex of bytes. */
export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** Bytes from hex written with optional spaces. */
export function fromHex(hex: string): Buffer {
  return Buffer.from(hex.replace(/\s+/g, ''), 'hex');
}

/**
 * Cuts bytes into chunks at the given positions (taken modulo `length + 1`, sorted; a repeated
 * position makes an empty chunk).
 */
export function cutAt(bytes: Uint8Array, positions: readonly number[]): Uint8Array[] {
  const cuts = positions.map((p) => p % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const cut of cuts) {
    chunks.push(bytes.subarray(start, cut));
    start = cut;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

/** Cuts bytes into chunks of `size` bytes (the last may be shorter). */
export function cutEvery(bytes: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += size) chunks.push(bytes.subarray(start, start + size));
  return chunks;
}

/** Random cut positions for {@link cutAt}. */
export const cutsArb: fc.Arbitrary<number[]> = fc.array(fc.nat(), { maxLength: 24 });

/** Asserts that `fn` throws a ProtocolError naming `field`, and returns it. */
export function expectProtocolError(fn: () => unknown, field: string): ProtocolError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ProtocolError);
  const protocolError = error as ProtocolError;
  expect(protocolError.field).toBe(field);
  expect(protocolError.code).toBe('PROTOCOL_ERROR');
  expect(protocolError.details.field).toBe(field);
  return protocolError;
}

/** Big-endian uint32 bytes. */
export function u32(value: number): number[] {
  return [(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

/** A length-prefixed UTF-8 string, as on the wire. */
export function lengthPrefixed(value: string): number[] {
  const bytes = [...Buffer.from(value, 'utf8')];
  return [...u32(bytes.length), ...bytes];
}

/** A frame with a valid header (JSON request, seq 1) around a hand-written body. */
export function frameWithBody(body: readonly number[], magic = 0x42): Buffer {
  return Buffer.from([magic, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0, 0, 0, 1, ...u32(body.length), ...body]);
}
