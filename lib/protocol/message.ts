import type { ProtocolError } from '../errors/index.js';
import type { MessageType } from './constants.js';

/**
 * Metadata of a frame: UTF-8 keys and values.
 *
 * @group Protocol
 */
export type Metadata = ReadonlyMap<string, string>;

/**
 * One frame of the wire protocol, decoded.
 *
 * @example
 * ```ts
 * const request: Message = {
 *   magic: 0x42, messageType: 0, heartbeat: false, oneway: false, compressType: 0, status: 0,
 *   serializeType: 1, seq: 1n, servicePath: 'Arith', serviceMethod: 'Mul',
 *   metadata: new Map(), payload: new TextEncoder().encode('{"A":7,"B":8}'),
 * };
 * ```
 * @group Protocol
 */
export interface Message {
  /** Byte 0: 0x42 (Phobos) or 0x08 (rpcx). */
  readonly magic: number;
  /** 0 request, 1 response. */
  readonly messageType: MessageType;
  /** A heartbeat (ping or its echo). */
  readonly heartbeat: boolean;
  /** No reply is expected (a oneway request, or a server push). */
  readonly oneway: boolean;
  /** 0 none, 1 gzip; applies to the payload only. */
  readonly compressType: number;
  /** 0 normal, 1 error. */
  readonly status: number;
  /** 0 raw, 1 JSON, 2 Protobuf, 3 MsgPack, or a registered codec. */
  readonly serializeType: number;
  /** Sequence number; a reply carries its request's. */
  readonly seq: bigint;
  /** The service name. */
  readonly servicePath: string;
  /** The method name. */
  readonly serviceMethod: string;
  /** Key/value metadata. */
  readonly metadata: Metadata;
  /** The (possibly compressed) payload bytes. */
  readonly payload: Uint8Array;
  /**
   * Set by a decoder with limits on a frame that is well formed but breaks one (too much
   * metadata): the header, service and method are read, metadata and payload are left empty.
   * The receiver answers it with an error rather than closing the connection. Never sent.
   */
  readonly invalid?: ProtocolError;
}

/**
 * An empty metadata map, shared.
 *
 * @group Protocol
 */
export const EMPTY_METADATA: Metadata = new Map();
/**
 * An empty payload, shared.
 *
 * @group Protocol
 */
export const EMPTY_PAYLOAD: Uint8Array = new Uint8Array(0);
