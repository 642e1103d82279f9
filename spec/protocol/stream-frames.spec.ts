import { lastValueFrom, type Observable, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  EMPTY_PAYLOAD,
  encodeMessage,
  type Message,
  PHOBOS,
  StreamSignal,
} from '../../lib/protocol/index.js';
import {
  cancelMessage,
  creditMessage,
  errorReply,
  inputMessage,
  readCredit,
  replyMessage,
  requestMessage,
  streamCreditOf,
  streamMetadata,
} from '../../lib/protocol/messages.js';
import { Server } from '../../lib/server/server.js';
import { silentLogger } from '../../lib/util/logger.js';
import { rawClient } from '../support/raw-peer.js';
import { fromHex, view } from './arbitraries.js';
import { type GoldenVector, goldenVectors, messageOf } from './golden-vectors.js';

const vectors = goldenVectors('phobos-stream-frames.json');

function vector(index: number): GoldenVector {
  const found = vectors[index];
  if (found === undefined) throw new Error(`the fixture has no vector ${index}`);
  return found;
}

const hex = (message: Message): string => encodeMessage(message).toString('hex');
const text = (value: string): Uint8Array => new TextEncoder().encode(value);

describe('stream frames (golden)', () => {
  it('golden - the fixture holds the twelve stream frames', () => {
    expect(vectors).toHaveLength(12);
  });

  for (const [index, v] of vectors.entries()) {
    it(`golden - encodeMessage writes and decodeFrame reads #${index} ${v.case}`, () => {
      expect(hex(messageOf(v))).toBe(v.hex);
      expect(view(decodeFrame(fromHex(v.hex)))).toEqual(view(messageOf(v)));
    });
  }

  const request = requestMessage(
    PHOBOS.magic,
    1n,
    'Ticker',
    'Prices',
    new Map([['__phobos_stream', '16']]),
    text('"ACME"'),
    1,
  );

  it('golden - the factories write the fixture bytes: request, next, credit, complete, error', () => {
    expect(hex(request)).toBe(vector(0).hex);
    expect(hex(replyMessage(request, streamMetadata(StreamSignal.Next), text('101.5')))).toBe(vector(1).hex);
    expect(hex(creditMessage(PHOBOS.magic, 2n, 1n, 8))).toBe(vector(2).hex);
    expect(hex(replyMessage(request, streamMetadata(StreamSignal.Complete), EMPTY_PAYLOAD))).toBe(
      vector(3).hex,
    );
    const failed = errorReply(request, PHOBOS, 'boom');
    expect(hex({ ...failed, metadata: streamMetadata(StreamSignal.Error, failed.metadata) })).toBe(
      vector(4).hex,
    );
  });

  it('golden - the factories write the fixture bytes of input streams: request, credit, next, complete, error, cancel', () => {
    const upload = new Map([
      ['__phobos_stream', '64'],
      ['__phobos_input', 'stream'],
    ]);
    expect(hex(requestMessage(PHOBOS.magic, 4n, 'Files', 'Upload', upload, EMPTY_PAYLOAD, 1))).toBe(
      vector(6).hex,
    );
    expect(hex(creditMessage(PHOBOS.magic, 1n, 4n, 64))).toBe(vector(7).hex);
    const input = (signal: StreamSignal, payload: Uint8Array, text?: string): string =>
      hex(inputMessage(PHOBOS, 4n, 'Files', 'Upload', signal, payload, 1, 0, text));
    expect(input(StreamSignal.Next, text('"chunk"'))).toBe(vector(8).hex);
    expect(input(StreamSignal.Complete, EMPTY_PAYLOAD)).toBe(vector(9).hex);
    expect(input(StreamSignal.Error, EMPTY_PAYLOAD, 'disk gone')).toBe(vector(10).hex);
    expect(hex(cancelMessage(PHOBOS.magic, 2n, 4n))).toBe(vector(11).hex);
  });

  it('golden - a server of ours grants the fixture credit to an input stream, then answers its values', async () => {
    const server = new Server({ logger: silentLogger });
    server.register('Files', {
      Upload: (chunks: Observable<string>) => lastValueFrom(chunks.pipe(toArray())),
    });
    const address = await server.listen('tcp@127.0.0.1:0');
    const peer = await rawClient(address);
    try {
      peer.send(fromHex(vector(6).hex));
      expect(hex(await peer.frame(0))).toBe(vector(7).hex);
      peer.send(fromHex(vector(8).hex));
      peer.send(fromHex(vector(9).hex));
      const reply = await peer.frame(1);
      expect(reply.seq).toBe(4n);
      expect(Buffer.from(reply.payload).toString()).toBe('["chunk"]');
    } finally {
      await peer.close();
      await server.shutdown({ graceMs: 0 });
    }
  });

  it('golden - readCredit and streamCreditOf read the fixture frames', () => {
    expect(readCredit(fromHex(vector(2).decoded.payloadHex))).toEqual({ stream: 1n, credit: 8 });
    expect(streamCreditOf(messageOf(vector(0)).metadata)).toBe(16);
    expect(streamCreditOf(messageOf(vector(5)).metadata)).toBe(0);
  });

  it('golden - a server of ours answers the fixture request with the fixture frames, byte for byte', async () => {
    const server = new Server({ logger: silentLogger });
    server.register('Ticker', { Prices: () => of(101.5) });
    const address = await server.listen('tcp@127.0.0.1:0');
    const peer = await rawClient(address);
    try {
      peer.send(fromHex(vector(0).hex));
      expect(hex(await peer.frame(0))).toBe(vector(1).hex);
      expect(hex(await peer.frame(1))).toBe(vector(3).hex);
    } finally {
      await peer.close();
      await server.shutdown({ graceMs: 0 });
    }
  });
});

describe('stream frame readers refuse what is out of range', () => {
  it('readCredit - a payload of another length, or a credit of 0 or past 2^31-1, reads as nothing', () => {
    const payload = (credit: number, length = 12): Uint8Array => {
      const bytes = Buffer.alloc(length);
      if (length >= 12) bytes.writeUInt32BE(credit, 8);
      return bytes;
    };
    expect(readCredit(payload(5, 11))).toBeUndefined();
    expect(readCredit(payload(5, 13))).toBeUndefined();
    expect(readCredit(payload(0))).toBeUndefined();
    expect(readCredit(payload(2 ** 31))).toBeUndefined();
    expect(readCredit(payload(2 ** 31 - 1))).toEqual({ stream: 0n, credit: 2 ** 31 - 1 });
  });

  it('streamCreditOf - anything but a decimal count from 0 to 2^31-1 asks for no stream', () => {
    for (const value of ['-1', '1e3', '2147483648', ' 16', '', '0x10', '16.0', '99999999999'])
      expect(streamCreditOf(new Map([['__phobos_stream', value]]))).toBeUndefined();
    expect(streamCreditOf(new Map())).toBeUndefined();
    expect(streamCreditOf(new Map([['__phobos_stream', '2147483647']]))).toBe(2 ** 31 - 1);
  });

  it('creditMessage - throws RangeError for a credit of 0, a fraction or past 2^31-1', () => {
    for (const credit of [0, 1.5, 2 ** 31, Number.NaN, -1])
      expect(() => creditMessage(PHOBOS.magic, 1n, 1n, credit)).toThrow(RangeError);
  });
});
