import { firstValueFrom, switchMap, take, VirtualTimeScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { Client } from '../../lib/client/client.js';
import { connect } from '../../lib/client/connect.js';
import { SerializeType } from '../../lib/codec/index.js';
import { ConnectionClosedError, ConnectionError, ProtocolError } from '../../lib/errors/index.js';
import type { Message } from '../../lib/protocol/message.js';
import { Server } from '../../lib/server/server.js';
import { MemoryNetwork } from '../../lib/testing/memory-network.js';
import type { FrameSocketHandlers } from '../../lib/transport/frame-socket.js';
import type { FrameTransport } from '../../lib/transport/transport.js';
import { silentLogger } from '../../lib/util/logger.js';
import { request } from '../support/raw-peer.js';
import { advanceTo } from '../support/virtual-time.js';

class Arith {
  Mul(args: { A: number; B: number }): { C: number } {
    return { C: args.A * args.B };
  }
}

describe('MemoryNetwork', () => {
  it('MemoryNetwork - a client calls a server in the same process, without a socket', async () => {
    const network = new MemoryNetwork();
    const server = new Server({ logger: silentLogger });
    server.register('Arith', new Arith());
    expect(await server.listen('memory@arith', { transport: network })).toBe('memory@arith');
    const client = new Client('memory@arith', { transport: network, serializeType: SerializeType.JSON });
    expect(await client.call('Arith', 'Mul', { A: 6, B: 7 })).toEqual({ C: 42 });
    expect(network.linkCount('memory@arith')).toBe(1);
    let remote: string | undefined;
    server.use((next) => (call) => {
      remote = call.ctx.remoteAddress;
      return next(call);
    });
    expect(await client.call('Arith', 'Mul', { A: 1, B: 1 })).toEqual({ C: 1 });
    // The server sees the client's address on the network, not its own.
    expect(remote).toMatch(/^memory@client-\d+$/);
    await client.close();
    await server.shutdown({ graceMs: 0 });
  });

  it('MemoryNetwork - a dial to a name nothing listens on fails with ConnectionError', async () => {
    const network = new MemoryNetwork();
    await expect(firstValueFrom(connect('memory@nobody', { transport: network }))).rejects.toBeInstanceOf(
      ConnectionError,
    );
  });

  it('MemoryNetwork - under a TestScheduler, a call is answered in virtual time', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    const network = new MemoryNetwork({ scheduler, dialDelayMs: 5 });
    const server = new Server({ logger: silentLogger, scheduler });
    server.register('Arith', new Arith());
    void server.listen('memory@arith', { transport: network });
    scheduler.run(({ expectObservable }) => {
      const reply$ = connect('memory@arith', {
        transport: network,
        scheduler,
        serializeType: SerializeType.JSON,
      }).pipe(
        switchMap((connection) => connection.call$('Arith', 'Mul', { A: 6, B: 7 })),
        take(1),
      );
      // The dial takes 5 ms; the request and the reply each take a hop of no time.
      expectObservable(reply$).toBe('5ms (a|)', { a: { C: 42 } });
    });
  });
});

/** Both ends of a link dialed on `network` to a listener that records what it gets. */
async function link(
  network: MemoryNetwork,
  scheduler: VirtualTimeScheduler,
  server: Partial<FrameSocketHandlers> = {},
) {
  const got = {
    server: [] as bigint[],
    client: [] as bigint[],
    serverClosed: [] as (Error | undefined)[],
    clientClosed: [] as (Error | undefined)[],
    drained: 0,
  };
  let serverSide: FrameTransport | undefined;
  const name = `memory@l${Math.random().toString(36).slice(2)}`;
  await network.listen(name, {}, (endpoint) => {
    serverSide = endpoint.frames(
      { maxMessageBytes: 1 << 20, magics: [0x42] },
      {
        onMessage: (message) => got.server.push(message.seq),
        onClose: (error) => got.serverClosed.push(error),
        ...server,
      },
    );
  });
  let clientSide: FrameTransport | undefined;
  network.dial(name, { connectTimeoutMs: 1_000 }, (error, endpoint) => {
    if (error || !endpoint) throw error;
    clientSide = endpoint.frames(
      { maxMessageBytes: 1 << 20 },
      {
        onMessage: (message) => got.client.push(message.seq),
        onClose: (error) => got.clientClosed.push(error),
        onDrain: () => {
          got.drained += 1;
        },
      },
    );
  });
  advanceTo(scheduler, scheduler.now());
  if (!serverSide || !clientSide) throw new Error('the link did not open');
  return { name, got, server: serverSide, client: clientSide };
}

describe('MemoryNetwork links', () => {
  it('MemoryNetwork - frames arrive in order, one scheduler hop after they are sent, never at once', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryNetwork({ scheduler });
    const { got, client } = await link(network, scheduler);
    client.send(request({ seq: 1n }));
    client.send(request({ seq: 2n }));
    expect(got.server).toEqual([]);
    advanceTo(scheduler, scheduler.now());
    expect(got.server).toEqual([1n, 2n]);
  });

  it('MemoryNetwork - a side whose peer does not take its frames stops being writable past the high-water mark, and drains after', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryNetwork({ scheduler, highWaterMarkBytes: 1_000 });
    const { got, client, server } = await link(network, scheduler);
    server.pause();
    let sent = 0;
    while (client.writable) {
      client.send(request({ seq: BigInt(++sent), payload: new Uint8Array(100) }));
    }
    expect(client.queuedBytes).toBeGreaterThanOrEqual(1_000);
    advanceTo(scheduler, scheduler.now());
    expect(got.server).toEqual([]);
    server.resume();
    advanceTo(scheduler, scheduler.now());
    expect(got.server).toHaveLength(sent);
    expect(client.writable).toBe(true);
    expect(got.drained).toBe(1);
  });

  it('MemoryNetwork - stall holds every frame to and from a server without closing; heal delivers them', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryNetwork({ scheduler });
    const { name, got, client, server } = await link(network, scheduler);
    network.stall(name);
    client.send(request({ seq: 1n }));
    server.send(request({ seq: 2n }));
    advanceTo(scheduler, 60_000);
    expect(got).toMatchObject({ server: [], client: [], serverClosed: [], clientClosed: [] });
    expect(client.open && server.open).toBe(true);
    network.heal(name);
    advanceTo(scheduler, 60_000);
    expect(got).toMatchObject({ server: [1n], client: [2n] });
  });

  it('MemoryNetwork - cut closes both ends with ConnectionClosedError; the server still takes new dials', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryNetwork({ scheduler });
    const { name, got, client } = await link(network, scheduler);
    network.cut(name);
    expect(client.open).toBe(false);
    expect(client.send(request({ seq: 1n }))).toBe(false);
    advanceTo(scheduler, scheduler.now());
    expect(got.clientClosed).toEqual([expect.any(ConnectionClosedError)]);
    expect(got.serverClosed).toEqual([expect.any(ConnectionClosedError)]);
    expect(network.linkCount(name)).toBe(0);
    const dialed: (Error | undefined)[] = [];
    network.dial(name, { connectTimeoutMs: 1 }, (error) => dialed.push(error));
    advanceTo(scheduler, scheduler.now());
    expect(dialed).toEqual([undefined]);
  });

  it('MemoryNetwork - crash cuts every link and refuses new dials with ConnectionError', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryNetwork({ scheduler });
    const { name, got } = await link(network, scheduler);
    network.crash(name);
    const dialed: (Error | undefined)[] = [];
    network.dial(name, { connectTimeoutMs: 1 }, (error) => dialed.push(error));
    advanceTo(scheduler, scheduler.now());
    expect(got.clientClosed).toHaveLength(1);
    expect(dialed).toEqual([expect.any(ConnectionError)]);
    expect(dialed[0]?.message).toMatch(/nothing listens there/);
  });

  it('MemoryNetwork - a frame the peer cannot accept (another magic) closes the link with ProtocolError, as on a socket', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryNetwork({ scheduler });
    const { got, client } = await link(network, scheduler);
    client.send(request({ seq: 1n, magic: 0x08 } as Partial<Message>));
    advanceTo(scheduler, 10_000);
    expect(got.server).toEqual([]);
    expect(got.serverClosed).toEqual([expect.any(ProtocolError)]);
    expect(got.clientClosed).toEqual([undefined]);
  });

  it('MemoryNetwork - end sends what is queued, then both ends close cleanly', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryNetwork({ scheduler });
    const { got, client } = await link(network, scheduler);
    client.send(request({ seq: 7n }));
    client.end();
    expect(client.open).toBe(false);
    advanceTo(scheduler, scheduler.now());
    expect(got.server).toEqual([7n]);
    expect(got.serverClosed).toEqual([undefined]);
    expect(got.clientClosed).toEqual([undefined]);
  });

  it('MemoryNetwork - end on a link whose peer never reads cuts it after the linger, not before', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryNetwork({ scheduler });
    const { got, client, server } = await link(network, scheduler);
    server.pause();
    client.send(request({ seq: 1n }));
    const started = scheduler.now();
    client.end(500);
    advanceTo(scheduler, started + 499);
    expect(got.clientClosed).toEqual([]);
    advanceTo(scheduler, started + 500);
    expect(got.clientClosed).toEqual([undefined]);
  });

  it('MemoryNetwork - a throwing frame handler costs its link, not the process', async () => {
    const scheduler = new VirtualTimeScheduler();
    const network = new MemoryNetwork({ scheduler });
    const { got, client } = await link(network, scheduler, {
      onMessage: () => {
        throw new Error('handler bug');
      },
    });
    client.send(request({ seq: 1n }));
    advanceTo(scheduler, scheduler.now());
    expect(got.serverClosed).toEqual([expect.any(ConnectionClosedError)]);
    expect(got.serverClosed[0]?.message).toMatch(/internal error: handler bug/);
  });
});

describe('MemoryNetwork bad input', () => {
  it('MemoryNetwork - refuses options of the wrong type or out of range', () => {
    expect(() => new MemoryNetwork(5 as never)).toThrow(TypeError);
    expect(() => new MemoryNetwork({ highWaterMarkBytes: 0 })).toThrow(/highWaterMarkBytes/);
    expect(() => new MemoryNetwork({ dialDelayMs: -1 })).toThrow(/dialDelayMs/);
    expect(() => new MemoryNetwork({ scheduler: {} as never })).toThrow(/scheduler/);
  });

  it('MemoryNetwork - dials and listens on memory@name only; a second listener on a name is refused', async () => {
    const network = new MemoryNetwork();
    expect(() => network.dial('tcp@127.0.0.1:1', { connectTimeoutMs: 1 }, () => {})).toThrow(/memory@name/);
    expect(() => network.stall('memory@')).toThrow(/empty name/);
    await network.listen('memory@one', {}, () => {});
    await expect(network.listen('memory@one', {}, () => {})).rejects.toThrow(ConnectionError);
  });

  it('tcpTransport - a memory@ address without its network is refused at once, naming the option to pass', async () => {
    expect(() => connect('memory@arith')).toThrow(/pass that MemoryNetwork as the transport option/);
    const server = new Server({ logger: silentLogger });
    await expect(server.listen('memory@arith')).rejects.toThrow(/transport option/);
    await expect(server.listen('memory@arith', { transport: 5 as never })).rejects.toThrow(TypeError);
    expect(() => connect('memory@arith', { transport: {} as never })).toThrow(
      /transport must be a Transport/,
    );
    await server.shutdown({ graceMs: 0 });
  });
});
