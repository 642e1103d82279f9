import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Message, MessageType } from '../../lib/protocol/index.js';
import { fromHex } from './arbitraries.js';

/** One frame of a golden fixture: its bytes and the fields they decode to. */
export interface GoldenVector {
  readonly case: string;
  readonly direction: string;
  readonly hex: string;
  readonly decoded: {
    readonly magic: number;
    readonly version: number;
    readonly messageType: 'request' | 'response';
    readonly heartbeat: boolean;
    readonly oneway: boolean;
    readonly compressType: number;
    readonly status: 'normal' | 'error';
    readonly serializeType: number;
    readonly seq: number;
    readonly servicePath: string;
    readonly serviceMethod: string;
    readonly metadata: Readonly<Record<string, string>>;
    readonly payloadHex: string;
  };
}

/** The vectors of `spec/fixtures/<name>`. */
export function goldenVectors(name: string): GoldenVector[] {
  const path = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { vectors: GoldenVector[] }).vectors;
}

const MESSAGE_TYPES: Record<GoldenVector['decoded']['messageType'], MessageType> = {
  request: 0,
  response: 1,
};
const STATUSES: Record<GoldenVector['decoded']['status'], number> = { normal: 0, error: 1 };

/** The message the fixture's "decoded" fields describe. */
export function messageOf(vector: GoldenVector): Message {
  const decoded = vector.decoded;
  const messageType = MESSAGE_TYPES[decoded.messageType];
  const status = STATUSES[decoded.status];
  if (messageType === undefined || status === undefined) {
    throw new Error(
      `fixture ${vector.case}: unknown messageType or status ${decoded.messageType}/${decoded.status}`,
    );
  }
  return {
    magic: decoded.magic,
    messageType,
    heartbeat: decoded.heartbeat,
    oneway: decoded.oneway,
    compressType: decoded.compressType,
    status,
    serializeType: decoded.serializeType,
    seq: BigInt(decoded.seq),
    servicePath: decoded.servicePath,
    serviceMethod: decoded.serviceMethod,
    metadata: new Map(Object.entries(decoded.metadata)),
    payload: fromHex(decoded.payloadHex),
  };
}
