import { gunzipSync, gzipSync } from 'node:zlib';
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  Client,
  type ConnectOptions,
  connect,
  createDefaultCompressors,
  DEFAULT_OFFLOAD_THRESHOLD_BYTES,
  SerializeType,
  Server,
  type ServerOptions,
} from '../../lib/index.js';
import { trackHandles } from '../support/handles.js';
import { replyingServer } from '../support/raw-peer.js';
import { openConnection, startClient, startServer } from '../support/servers.js';

const { defer } = trackHandles();
const KiB = 1024;

/** 256 KiB that gzip shrinks, as a JSON document would. */
const big = Buffer.from(
  '{"id":12345,"name":"phobos","tags":["a","b","c"]},'.repeat(6_000).slice(0, 256 * KiB),
);

function echoServer(options: ServerOptions = {}) {
  return startServer(defer, (server) => server.register('Echo', { Echo: (args: unknown) => args }), options);
}

/** A raw server that records every frame and answers each request with an empty reply. */
function recordingServer() {
  return replyingServer(defer, (message, peer) => {
    if (!message.heartbeat)
      peer.send({
        ...message,
        messageType: 1,
        compressType: 0,
        metadata: new Map(),
        payload: new Uint8Array(),
      });
  });
}

describe('large payloads compressed and inflated off the event loop', () => {
  it.each<[string, number | undefined, number | undefined]>([
    ['default on both sides', undefined, undefined],
    ['everything on the pool', 0, 0],
    ['everything on the event loop', Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
    ['client on the pool, server on the event loop', 0, Number.POSITIVE_INFINITY],
    ['client on the event loop, server on the pool', Number.POSITIVE_INFINITY, 0],
  ])(
    'a 256 KiB gzip call both ways, %s: the same bytes back, compressed on the wire',
    async (_name, client, server) => {
      const { address } = await echoServer(server === undefined ? {} : { offloadThresholdBytes: server });
      const options: ConnectOptions = {
        compress: true,
        serializeType: SerializeType.Raw,
        ...(client === undefined ? {} : { offloadThresholdBytes: client }),
      };
      const connection = await openConnection(defer, address, options);
      const calls = [0, 1, 2].map(() =>
        firstValueFrom(connection.callWithMetadata$<Uint8Array>('Echo', 'Echo', big)),
      );
      for (const reply of await Promise.all(calls)) {
        expect(Buffer.from(reply.data).equals(big)).toBe(true);
        expect(reply.sentBytes).toBeLessThan(big.length / 4);
        expect(reply.receivedBytes).toBeLessThan(big.length / 4);
      }
      // Small calls on the same connection are unaffected.
      const small = await firstValueFrom(connection.call$<Uint8Array>('Echo', 'Echo', Buffer.from('hi')));
      expect(Buffer.from(small).toString()).toBe('hi');
    },
  );

  it('a call unsubscribed while its request is compressed on the pool is never sent, nor cancelled', async () => {
    const { address, frames } = await recordingServer();
    const connection = await openConnection(defer, address, {
      compress: true,
      serializeType: SerializeType.Raw,
    });
    const subscription = connection.call$('Echo', 'Echo', big).subscribe();
    subscription.unsubscribe();
    await firstValueFrom(connection.call$('Echo', 'Small', Buffer.from('x')));
    // The big request resolves its compression after the small call was sent: wait for a third.
    await firstValueFrom(connection.call$('Echo', 'Last', Buffer.from('y')));
    expect(frames.map((frame) => frame.serviceMethod)).toEqual(['Small', 'Last']);
  });

  it('a oneway call with a large payload is sent once compressed, and completes then', async () => {
    const { address, frames } = await recordingServer();
    const connection = await openConnection(defer, address, {
      compress: true,
      serializeType: SerializeType.Raw,
    });
    await firstValueFrom(connection.call$('Echo', 'Log', big, { oneway: true }));
    await firstValueFrom(connection.call$('Echo', 'After', Buffer.from('x')));
    const [log] = frames;
    expect(log).toMatchObject({ serviceMethod: 'Log', oneway: true, compressType: 1 });
    expect(gunzipSync(log?.payload as Uint8Array).equals(big)).toBe(true);
  });

  it('gzipLevel sets the level of the default gzip, on and off the event loop', async () => {
    const { address, frames } = await recordingServer();
    const client = startClient(defer, address, {
      compress: true,
      serializeType: SerializeType.Raw,
      gzipLevel: 9,
    });
    const small = big.subarray(0, 4 * KiB);
    await client.call('Echo', 'Small', small);
    await client.call('Echo', 'Big', big);
    expect(big.length).toBeGreaterThan(DEFAULT_OFFLOAD_THRESHOLD_BYTES);
    const [first, second] = frames;
    expect(Buffer.from(first?.payload as Uint8Array)).toEqual(gzipSync(small, { level: 9 }));
    expect(Buffer.from(second?.payload as Uint8Array).equals(gzipSync(big, { level: 9 }))).toBe(true);
    expect(gzipSync(big, { level: 9 }).equals(gzipSync(big, { level: 1 }))).toBe(false);
  });

  describe('bad options', () => {
    const rows: Array<[string, object, RegExp]> = [
      ['offloadThresholdBytes -1', { offloadThresholdBytes: -1 }, /offloadThresholdBytes/],
      ['offloadThresholdBytes NaN', { offloadThresholdBytes: Number.NaN }, /offloadThresholdBytes/],
      ['offloadThresholdBytes "64k"', { offloadThresholdBytes: '64k' }, /offloadThresholdBytes/],
      [
        'offloadThresholdBytes -Infinity',
        { offloadThresholdBytes: Number.NEGATIVE_INFINITY },
        /offloadThresholdBytes/,
      ],
      ['gzipLevel 10', { gzipLevel: 10 }, /gzipLevel/],
      ['gzipLevel 1.5', { gzipLevel: 1.5 }, /gzipLevel/],
      [
        'gzipLevel with compressors',
        { gzipLevel: 9, compressors: createDefaultCompressors() },
        /gzipLevel.*compressors/,
      ],
    ];
    it.each(rows)('new Server - %s throws a RangeError naming it', (_name, options, pattern) => {
      expect(() => new Server(options as ServerOptions)).toThrow(pattern);
      expect(() => new Server(options as ServerOptions)).toThrow(RangeError);
    });
    it.each(rows)('connect and new Client - %s throw a RangeError naming it', (_name, options, pattern) => {
      expect(() => connect('tcp@127.0.0.1:1', options as ConnectOptions)).toThrow(pattern);
      expect(() => new Client('tcp@127.0.0.1:1', options as ConnectOptions)).toThrow(RangeError);
    });
  });
});
