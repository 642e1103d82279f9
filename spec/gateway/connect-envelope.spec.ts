import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  connectEnvelope,
  ENVELOPE_COMPRESSED,
  ENVELOPE_END_STREAM,
  endStreamEnvelope,
  readConnectEnvelope,
} from '../../lib/gateway/connect-envelope.js';
import { GatewayError } from '../../lib/gateway/http-status.js';

/** The envelope's fields read by hand, as the Connect protocol lays them out. */
function fields(envelope: Uint8Array): { flags: number; length: number; data: string } {
  const bytes = Buffer.from(envelope);
  return { flags: bytes[0] as number, length: bytes.readUInt32BE(1), data: bytes.subarray(5).toString() };
}

function refusal(body: Uint8Array): GatewayError {
  try {
    readConnectEnvelope(body);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('the body was taken');
}

describe('connect envelopes', () => {
  it('connectEnvelope - flags byte, big-endian uint32 length, the data', () => {
    const envelope = connectEnvelope(0, Buffer.from('{"n":1}'));
    expect([...envelope.subarray(0, 5)]).toEqual([0, 0, 0, 0, 7]);
    expect(fields(envelope)).toEqual({ flags: 0, length: 7, data: '{"n":1}' });
    expect([...connectEnvelope(0, new Uint8Array(300)).subarray(0, 5)]).toEqual([0, 0, 0, 1, 44]);
  });

  it('endStreamEnvelope - flag 0x02 with {} when the stream ended well, {"error":{code,message}} when it failed', () => {
    expect(fields(endStreamEnvelope())).toEqual({ flags: ENVELOPE_END_STREAM, length: 2, data: '{}' });
    const failed = fields(endStreamEnvelope({ code: 'unavailable', message: 'no server' }));
    expect(failed.flags).toBe(0x02);
    expect(JSON.parse(failed.data)).toEqual({ error: { code: 'unavailable', message: 'no server' } });
  });

  it('readConnectEnvelope - reads back what connectEnvelope wrote, for any data and flags but end-stream', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 600 }),
        fc.constantFrom(0, ENVELOPE_COMPRESSED),
        (data, flags) => {
          const read = readConnectEnvelope(connectEnvelope(flags, data));
          expect(read.flags).toBe(flags);
          expect(Buffer.from(read.data).equals(Buffer.from(data))).toBe(true);
        },
      ),
    );
  });

  it('readConnectEnvelope - refuses a body that is not exactly one envelope, or an end-stream one', () => {
    const one = connectEnvelope(0, Buffer.from('{}'));
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty', new Uint8Array(0), /got 0 bytes/],
      ['a short prefix', one.subarray(0, 4), /got 4 bytes/],
      ['plain JSON', Buffer.from('{"First":"a"}'), /exactly one enveloped message/],
      ['cut short', one.subarray(0, 6), /says 2 bytes, the body has 1/],
      ['two envelopes', Buffer.concat([one, one]), /says 2 bytes, the body has 9/],
      ['end-stream', connectEnvelope(ENVELOPE_END_STREAM, Buffer.from('{}')), /end-of-stream flag/],
    ];
    for (const [name, body, message] of cases) {
      const error = refusal(body);
      expect([name, error.code, error.status]).toEqual([name, 'invalid_argument', 400]);
      expect(error.message, name).toMatch(message);
    }
  });

  it('readConnectEnvelope - any bytes are read or refused with a GatewayError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (body) => {
        try {
          const { data } = readConnectEnvelope(body);
          expect(data.length).toBe(body.length - 5);
        } catch (error) {
          expect(error).toBeInstanceOf(GatewayError);
        }
      }),
    );
  });
});
