import { gzipSync } from 'node:zlib';
import { firstValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type CallContext,
  CompressType,
  type ProtocolErrorReason,
  SerializeType,
  type Server,
  type ServerEvent,
} from '../../lib/index.js';
import { deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { rawClient, request } from '../support/raw-peer.js';
import { nextEvent, recordEvents } from '../support/server-events.js';
import { startClient, startServer } from '../support/servers.js';

const { defer } = trackHandles();

const echo = {
  Say(args: unknown) {
    return args;
  },
  Fail() {
    throw new Error('the handler failed');
  },
  Wait(_args: unknown, ctx: CallContext) {
    return new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(null)));
  },
};

async function protocolErrorOf(server: Server, act: () => Promise<unknown>): Promise<ProtocolErrorReason> {
  const error = nextEvent(server, 'protocol-error');
  await act();
  return (await error).reason;
}

describe('Server.events$', () => {
  it('calls - started and finished with the code, the sizes and whether the name is registered', async () => {
    const { server, address } = await startServer(defer, (s) => s.register('Echo', echo));
    const events = recordEvents(server, defer);
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    await client.call('Echo', 'Say', 'hello');
    await expect(client.call('Echo', 'Fail', {})).rejects.toThrow('the handler failed');
    await expect(client.call('Echo', 'Nope', {})).rejects.toThrow(/can not find method/);
    await expect(client.call('Made', 'Up', {})).rejects.toThrow(/can not find service/);
    // The server's own deadline, with no client timer racing it.
    const peer = await rawClient(address);
    defer(() => peer.close());
    peer.send(
      request({
        seq: 7n,
        serviceMethod: 'Wait',
        payload: Buffer.from('{}'),
        metadata: new Map([['__ServerTimeout', '30']]),
      }),
    );
    expect((await peer.frame(0)).metadata.get('__phobos_code')).toBe('DEADLINE_EXCEEDED');
    const calls = events.filter((event) => event.type === 'call-started' || event.type === 'call-finished');
    const finished = calls.filter((event) => event.type === 'call-finished');
    expect(finished.map((event) => [event.service, event.method, event.known, event.code])).toEqual([
      ['Echo', 'Say', true, 'OK'],
      ['Echo', 'Fail', true, 'UNKNOWN'],
      ['Echo', 'Nope', false, 'NOT_FOUND'],
      ['Made', 'Up', false, 'NOT_FOUND'],
      ['Echo', 'Wait', true, 'DEADLINE_EXCEEDED'],
    ]);
    expect(calls.filter((event) => event.type === 'call-started')).toHaveLength(5);
    const say = finished[0] as Extract<ServerEvent, { type: 'call-finished' }>;
    expect(say.replyBytes).toBe(Buffer.byteLength('"hello"'));
    expect(say.durationMs).toBeGreaterThanOrEqual(0);
    expect(calls[0]).toEqual({
      type: 'call-started',
      service: 'Echo',
      method: 'Say',
      known: true,
      requestBytes: Buffer.byteLength('"hello"'),
    });
    expect(events[0]).toMatchObject({
      type: 'connection-opened',
      remoteAddress: expect.stringMatching(/^tcp@127\.0\.0\.1:/),
    });
  });

  it('calls - one the caller cancels, and one cut by its connection closing, finish CANCELLED', async () => {
    const { server, address } = await startServer(defer, (s) => s.register('Echo', echo));
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    const controller = new AbortController();
    const started = nextEvent(server, 'call-started');
    const cancelled = nextEvent(server, 'call-finished');
    const call = client.call('Echo', 'Wait', {}, { signal: controller.signal });
    await started;
    controller.abort();
    await expect(call).rejects.toThrow(/cancelled/);
    expect((await cancelled).code).toBe('CANCELLED');

    const peer = await rawClient(address);
    const startedRaw = nextEvent(server, 'call-started');
    const cut = nextEvent(server, 'call-finished');
    const closedEvent = nextEvent(server, 'connection-closed');
    peer.send(request({ seq: 9n, servicePath: 'Echo', serviceMethod: 'Wait', payload: Buffer.from('{}') }));
    await startedRaw;
    await peer.close();
    expect((await cut).code).toBe('CANCELLED');
    expect((await closedEvent).remoteAddress).toMatch(/^tcp@127\.0\.0\.1:\d+$/);
  });

  it('protocol errors - malformed and oversized frames, metadata past its limit, a gzip bomb, a refused token', async () => {
    const { server, address } = await startServer(defer, (s) => s.register('Echo', echo), {
      maxMessageBytes: 64 * 1024,
      maxMetadataEntries: 2,
      authorize: (token) => token === 'good',
    });
    const malformed = await rawClient(address);
    expect(
      await protocolErrorOf(server, async () =>
        malformed.send(Buffer.from('this is not a frame at all, not even close')),
      ),
    ).toBe('malformed');
    const big = await rawClient(address);
    expect(
      await protocolErrorOf(server, async () =>
        big.send(request({ payload: Buffer.alloc(100 * 1024), metadata: new Map([['__AUTH', 'good']]) })),
      ),
    ).toBe('too-large');
    const peer = await rawClient(address);
    defer(() => peer.close());
    const crowded = new Map([
      ['__AUTH', 'good'],
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(
      await protocolErrorOf(server, async () => peer.send(request({ seq: 1n, metadata: crowded }))),
    ).toBe('over-limit');
    const bomb = gzipSync(Buffer.alloc(1024 * 1024, 0x20));
    expect(
      await protocolErrorOf(server, async () =>
        peer.send(
          request({
            seq: 2n,
            compressType: CompressType.Gzip,
            payload: bomb,
            metadata: new Map([['__AUTH', 'good']]),
          }),
        ),
      ),
    ).toBe('bomb');
    const refused = await rawClient(address);
    expect(
      await protocolErrorOf(server, async () =>
        refused.send(request({ seq: 3n, metadata: new Map([['__AUTH', 'bad']]) })),
      ),
    ).toBe('auth-refused');
  });

  it('completes when the server has shut down; a subscriber that comes late sees only what follows', async () => {
    const { server, address } = await startServer(defer, (s) => s.register('Echo', echo));
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    await client.call('Echo', 'Say', 1);
    const rest = firstValueFrom(server.events$.pipe(toArray()));
    const done = deferred();
    server.events$.subscribe({ complete: () => done.resolve() });
    await client.close();
    await server.shutdown({ graceMs: 0 });
    await done.promise;
    expect((await rest).map((event) => event.type)).toEqual(['connection-closed']);
  });
});
