import { GatewayError } from './http-status.js';

/** The flag of an envelope whose data is compressed (`Connect-Content-Encoding`). @internal */
export const ENVELOPE_COMPRESSED = 0x01;
/** The flag of the end-of-stream envelope, whose data is the JSON of how the stream ended. @internal */
export const ENVELOPE_END_STREAM = 0x02;

/** The bytes before an envelope's data: one flags byte, then the data's length (uint32, big-endian). */
const PREFIX_BYTES = 5;

/** One message of a Connect stream: its flags and its data. @internal */
export interface ConnectEnvelope {
  readonly flags: number;
  readonly data: Uint8Array;
}

/**
 * An envelope of the Connect streaming protocol: flags, the data's length as a big-endian uint32,
 * the data.
 *
 * @example
 * ```ts
 * connectEnvelope(0, Buffer.from('{"n":1}')); // <00 00 00 00 07> {"n":1}
 * ```
 * @internal
 */
export function connectEnvelope(flags: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(PREFIX_BYTES + data.length);
  out[0] = flags;
  out.writeUInt32BE(data.length, 1);
  out.set(data, PREFIX_BYTES);
  return out;
}

/**
 * The end-of-stream envelope: `{}` when the stream ended well, `{"error":{"code","message"}}`
 * when it failed.
 *
 * @example
 * ```ts
 * endStreamEnvelope({ code: 'not_found', message: 'no such method' });
 * ```
 * @internal
 */
export function endStreamEnvelope(error?: { readonly code: string; readonly message: string }): Buffer {
  const end = error === undefined ? {} : { error: { code: error.code, message: error.message } };
  return connectEnvelope(ENVELOPE_END_STREAM, Buffer.from(JSON.stringify(end)));
}

/**
 * The one envelope of a server-streaming request body.
 *
 * @throws GatewayError (`invalid_argument`) when the body is not exactly one envelope (too short,
 *   a length past the body, bytes after it) or carries the end-of-stream flag.
 * @example
 * ```ts
 * const { flags, data } = readConnectEnvelope(body);
 * ```
 * @internal
 */
export function readConnectEnvelope(body: Uint8Array): ConnectEnvelope {
  if (body.length < PREFIX_BYTES) {
    throw new GatewayError(
      'invalid_argument',
      `a Connect stream request must be one enveloped message (5-byte prefix, then the message); got ${body.length} bytes`,
    );
  }
  const flags = body[0] as number;
  const length = Buffer.from(body.buffer, body.byteOffset, body.length).readUInt32BE(1);
  if (PREFIX_BYTES + length !== body.length) {
    throw new GatewayError(
      'invalid_argument',
      `a Connect stream request must be exactly one enveloped message: its prefix says ${length} bytes, ` +
        `the body has ${body.length - PREFIX_BYTES} after it`,
    );
  }
  if ((flags & ENVELOPE_END_STREAM) !== 0)
    throw new GatewayError(
      'invalid_argument',
      'a Connect stream request cannot carry the end-of-stream flag',
    );
  return { flags, data: body.subarray(PREFIX_BYTES) };
}
