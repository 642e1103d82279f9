import { ProtocolError } from '../errors/index.js';
import { MAGIC_PHOBOS, type MessageType } from './constants.js';

/**
 * Bytes of the fixed header: magic, version, flags, serialize type, seq.
 *
 * @group Protocol
 */
export const HEADER_BYTES = 12;

const TYPE_BIT = 0x80;
const HEARTBEAT_BIT = 0x40;
const ONEWAY_BIT = 0x20;
const COMPRESS_MASK = 0x1c;
const COMPRESS_SHIFT = 2;
const STATUS_MASK = 0x03;
const SERIALIZE_SHIFT = 4;

/**
 * The 12-byte fixed header of a frame, read and written in place over a byte array.
 *
 * Each setter changes only its own bits (Go Phobos's setters only OR bits in; these clear
 * first), so setting one field never disturbs another.
 *
 * @example
 * ```ts
 * const header = new Header();
 * header.heartbeat = true;
 * header.seq = 7n;
 * header.bytes; // 42 00 40 00 00 00 00 00 00 00 00 07
 * ```
 * @group Protocol
 */
export class Header {
  /** The bytes this header reads and writes (at least {@link HEADER_BYTES} long). */
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  /**
   * @param bytes - bytes to read and write in place; a new zeroed header with the Phobos magic
   *   when omitted.
   * @throws RangeError when `bytes` is shorter than {@link HEADER_BYTES}.
   */
  constructor(bytes?: Uint8Array) {
    if (bytes === undefined) {
      this.bytes = new Uint8Array(HEADER_BYTES);
      this.bytes[0] = MAGIC_PHOBOS;
    } else {
      if (bytes.length < HEADER_BYTES)
        throw new RangeError(`a header needs ${HEADER_BYTES} bytes, got ${bytes.length}`);
      this.bytes = bytes;
    }
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, HEADER_BYTES);
  }

  /** Byte 0: the magic byte. */
  get magic(): number {
    return this.byte(0);
  }
  /** Sets the magic (see the getter); throws RangeError when out of range. */
  set magic(value: number) {
    this.bytes[0] = checkRange('magic', value, 0xff);
  }

  /** Byte 1: the protocol version. */
  get version(): number {
    return this.byte(1);
  }
  /** Sets the version (see the getter); throws RangeError when out of range. */
  set version(value: number) {
    this.bytes[1] = checkRange('version', value, 0xff);
  }

  /** Bit 7 of byte 2: 0 request, 1 response. */
  get messageType(): MessageType {
    return this.byte(2) & TYPE_BIT ? 1 : 0;
  }
  /** Sets the messageType (see the getter); throws RangeError when out of range. */
  set messageType(value: MessageType) {
    this.setBits(2, TYPE_BIT, checkRange('messageType', value, 1) === 1 ? TYPE_BIT : 0);
  }

  /** Bit 6 of byte 2: a heartbeat. */
  get heartbeat(): boolean {
    return (this.byte(2) & HEARTBEAT_BIT) !== 0;
  }
  /** Sets the heartbeat (see the getter); throws RangeError when out of range. */
  set heartbeat(value: boolean) {
    this.setBits(2, HEARTBEAT_BIT, value ? HEARTBEAT_BIT : 0);
  }

  /** Bit 5 of byte 2: no reply is expected. */
  get oneway(): boolean {
    return (this.byte(2) & ONEWAY_BIT) !== 0;
  }
  /** Sets the oneway (see the getter); throws RangeError when out of range. */
  set oneway(value: boolean) {
    this.setBits(2, ONEWAY_BIT, value ? ONEWAY_BIT : 0);
  }

  /** Bits 4-2 of byte 2: the compress type (0 none, 1 gzip). */
  get compressType(): number {
    return (this.byte(2) & COMPRESS_MASK) >> COMPRESS_SHIFT;
  }
  /** Sets the compressType (see the getter); throws RangeError when out of range. */
  set compressType(value: number) {
    this.setBits(2, COMPRESS_MASK, checkRange('compressType', value, 7) << COMPRESS_SHIFT);
  }

  /** Bits 1-0 of byte 2: the status (0 normal, 1 error). */
  get status(): number {
    return this.byte(2) & STATUS_MASK;
  }
  /** Sets the status (see the getter); throws RangeError when out of range. */
  set status(value: number) {
    this.setBits(2, STATUS_MASK, checkRange('status', value, 3));
  }

  /** High nibble of byte 3: the serialize type. */
  get serializeType(): number {
    return this.byte(3) >> SERIALIZE_SHIFT;
  }
  /** Sets the serializeType (see the getter); throws RangeError when out of range. */
  set serializeType(value: number) {
    this.setBits(3, 0xf0, checkRange('serializeType', value, 15) << SERIALIZE_SHIFT);
  }

  /** Bytes 4-11: the sequence number, uint64 big-endian. */
  get seq(): bigint {
    return this.view.getBigUint64(4);
  }
  /** Sets the seq (see the getter); throws RangeError when out of range. */
  set seq(value: bigint) {
    if (typeof value !== 'bigint' || value < 0n || value > 0xffff_ffff_ffff_ffffn) {
      throw new RangeError(`seq must be a bigint in 0..2^64-1, got ${String(value)}`);
    }
    this.view.setBigUint64(4, value);
  }

  /**
   * Checks the magic and version against what the decoder accepts.
   *
   * @throws ProtocolError naming `magic` or `version` when they are wrong.
   */
  check(magics: readonly number[]): void {
    if (!magics.includes(this.magic)) {
      throw new ProtocolError(
        `bad magic byte 0x${hex(this.magic)}: expected ${magics.map((m) => `0x${hex(m)}`).join(' or ')}; is the peer speaking Phobos/rpcx?`,
        { field: 'magic' },
      );
    }
    if (this.version !== 0)
      throw new ProtocolError(`unsupported protocol version ${this.version}, expected 0`, {
        field: 'version',
      });
  }

  private byte(index: number): number {
    return this.bytes[index] as number;
  }

  private setBits(index: number, mask: number, bits: number): void {
    this.bytes[index] = (this.byte(index) & ~mask) | bits;
  }
}

function checkRange(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field} must be an integer in 0..${max}, got ${String(value)}`);
  }
  return value;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
