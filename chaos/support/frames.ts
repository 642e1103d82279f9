// Frames built by hand for the attacks, with dist's encoder (and by hand where the encoder
// would refuse), and a reader for what the server sends back.
import type { Message } from '../../lib/protocol/index.js';
import { protocol } from './phobos.js';

/** Serialize types used by the attacks. */
export const RAW = 0;
export const JSON_TYPE = 1;
export const MSGPACK = 3;

/** A request frame; every field has a default (an Echo.Say JSON call, seq 1). */
export function frame(fields: Partial<Message> = {}): Buffer {
  return protocol.encodeMessage(
    {
      magic: protocol.MAGIC_PHOBOS,
      messageType: 0,
      heartbeat: false,
      oneway: false,
      compressType: 0,
      status: 0,
      serializeType: JSON_TYPE,
      seq: 1n,
      servicePath: 'Echo',
      serviceMethod: 'Say',
      metadata: new Map(),
      payload: Buffer.from('"hi"'),
      ...fields,
    },
    // The attacks build frames up to the server's limit and past it on purpose.
    Number.MAX_SAFE_INTEGER,
  );
}

/** A JSON call of `Service.Method` with `args`. */
export function call(
  servicePath: string,
  serviceMethod: string,
  args: unknown,
  seq: bigint,
  metadata: ReadonlyMap<string, string> = new Map(),
): Buffer {
  return frame({ servicePath, serviceMethod, seq, metadata, payload: Buffer.from(JSON.stringify(args)) });
}

/** A heartbeat request (empty service and method) carrying `payloadBytes` bytes. */
export function heartbeat(
  payloadBytes = 0,
  seq = 1n,
  metadata: ReadonlyMap<string, string> = new Map(),
): Buffer {
  return frame({
    heartbeat: true,
    seq,
    servicePath: '',
    serviceMethod: '',
    metadata,
    payload: Buffer.alloc(payloadBytes, 0x68),
  });
}

/** The cancel notice a client sends for `seq`: a oneway request to the cancel service path. */
export function cancel(seq: bigint, ownSeq = 1n): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeBigUInt64BE(seq);
  return frame({
    oneway: true,
    seq: ownSeq,
    servicePath: protocol.CANCEL_SERVICE_PATH,
    serviceMethod: protocol.CANCEL_METHOD,
    serializeType: RAW,
    payload,
  });
}

/**
 * A stream request: a call of `Service.Method` with `args` whose `__phobos_stream` asks for a
 * stream of replies, `firstCredit` values to begin with.
 */
export function streamCall(
  servicePath: string,
  serviceMethod: string,
  args: unknown,
  seq: bigint,
  firstCredit: number,
): Buffer {
  return call(
    servicePath,
    serviceMethod,
    args,
    seq,
    new Map([[protocol.MetadataKey.Stream, String(firstCredit)]]),
  );
}

/**
 * A credit notice granting `count` more values of the stream of call `stream`: a oneway request
 * of its own `ownSeq` to `__phobos__`.`credit`, its 12-byte payload the stream's seq (uint64 BE)
 * and the credit (uint32 BE). `payloadBytes` below 12 cuts the payload short (a notice that does
 * not read).
 */
export function credit(stream: bigint, count: number, ownSeq = 1n, payloadBytes = 12): Buffer {
  const payload = Buffer.alloc(12);
  payload.writeBigUInt64BE(stream);
  payload.writeUInt32BE(count >>> 0, 8);
  return frame({
    oneway: true,
    seq: ownSeq,
    servicePath: protocol.CANCEL_SERVICE_PATH,
    serviceMethod: protocol.CREDIT_METHOD,
    serializeType: RAW,
    payload: payload.subarray(0, payloadBytes),
  });
}

/**
 * An input stream request: a call of `Service.Method` whose arguments come as a stream
 * (`__phobos_input: stream`, an empty payload), asking for a stream of replies with
 * `firstCredit` values to begin with.
 */
export function inputStreamCall(
  servicePath: string,
  serviceMethod: string,
  seq: bigint,
  firstCredit: number,
): Buffer {
  return frame({
    servicePath,
    serviceMethod,
    seq,
    metadata: new Map([
      [protocol.MetadataKey.StreamInput, 'stream'],
      [protocol.MetadataKey.Stream, String(firstCredit)],
    ]),
    payload: Buffer.alloc(0),
  });
}

/**
 * One value of a caller's input stream (`value` as JSON), or its end (`value` undefined): a
 * oneway request with the call's seq, service and method, marked `next` or `complete`.
 */
export function inputFrame(servicePath: string, serviceMethod: string, seq: bigint, value?: unknown): Buffer {
  const signal = value === undefined ? protocol.StreamSignal.Complete : protocol.StreamSignal.Next;
  return frame({
    oneway: true,
    servicePath,
    serviceMethod,
    seq,
    metadata: new Map([[protocol.MetadataKey.Stream, signal]]),
    payload: value === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(value)),
  });
}

/** The 16-byte prefix of a frame (magic, version, flags, serialize type, seq, body length). */
export function prefix(
  bodyBytes: number,
  fields: { magic?: number; version?: number; seq?: bigint } = {},
): Buffer {
  const bytes = Buffer.alloc(16);
  bytes[0] = fields.magic ?? protocol.MAGIC_PHOBOS;
  bytes[1] = fields.version ?? 0;
  bytes[2] = 0;
  bytes[3] = JSON_TYPE << 4;
  bytes.writeBigUInt64BE(fields.seq ?? 1n, 4);
  bytes.writeUInt32BE(bodyBytes >>> 0, 12);
  return bytes;
}

/** uint32 length-prefixed fields, as a frame body holds them (and metadata its entries). */
export function lengthPrefixed(...parts: Uint8Array[]): Buffer {
  return Buffer.concat(
    parts.flatMap((part) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(part.length);
      return [length, part];
    }),
  );
}

/** A body behind its prefix, whatever the body holds. */
export function withPrefix(
  body: Buffer,
  fields: { magic?: number; version?: number; seq?: bigint } = {},
): Buffer {
  return Buffer.concat([prefix(body.length, fields), body]);
}

/** A frame decoder: feed it chunks, get messages; a protocol error ends it quietly. */
export function frameReader(onMessage: (message: Message) => void): (chunk: Buffer) => void {
  const decoder = new protocol.FrameDecoder({ maxMessageBytes: 64 * 1024 * 1024 });
  let failed = false;
  return (chunk) => {
    if (failed) return;
    try {
      for (const message of decoder.push(chunk)) onMessage(message);
    } catch {
      failed = true;
    }
  };
}

/** The error message of an error reply (status 1), or undefined for a normal reply. */
export function errorOf(message: Message): string | undefined {
  if (message.status !== 1) return undefined;
  return (
    message.metadata.get(protocol.MetadataKey.PhobosError) ??
    message.metadata.get(protocol.MetadataKey.RpcxError) ??
    ''
  );
}
