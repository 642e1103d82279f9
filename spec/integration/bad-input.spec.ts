import { gzipSync } from 'node:zlib';
import { firstValueFrom, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  type CallOptions,
  Client,
  ConnectionClosedError,
  ConnectionError,
  connect,
  ProtocolError,
  Server,
  type ServerConnection,
  type ServerOptions,
  ServiceError,
  silentLogger,
} from '../../lib/index.js';
import { encodeMessage, type Message, PHOBOS, RPCX } from '../../lib/protocol/index.js';
import { startTestServer } from '../../lib/testing/index.js';
import { recordingLogger } from '../support/bad-input-logger.js';
import { deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { type RawPeer, rawClient, replyingServer, request } from '../support/raw-peer.js';
import { openConnection, startClient, startServer } from '../support/servers.js';
import { thrown } from '../support/thrown.js';

const { defer } = trackHandles();

const KiB = 1024;
const MiB = 1024 * KiB;
const ERROR_KEY = '__mrpc_error__';

/** A server of ours with `Echo.Say` (counting its calls) and a logger that records. */
async function echoServer(options: ServerOptions = {}) {
  const log = recordingLogger();
  let calls = 0;
  const { server, address } = await startServer(
    defer,
    (s) =>
      s.register('Echo', {
        Say(args: unknown) {
          calls += 1;
          return args;
        },
      }),
    { logger: log.logger, ...options },
  );
  return { server, address, log, calls: () => calls };
}

/** A raw peer connected to `address`, closed by the test's cleanup. */
async function peerOf(address: string): Promise<RawPeer> {
  const peer = await rawClient(address);
  defer(() => peer.close());
  return peer;
}

/** Checks that the server at `address` still answers a fresh connection. */
async function expectServing(address: string): Promise<void> {
  const peer = await peerOf(address);
  peer.send(request({ seq: 42n, payload: Buffer.from('"still here"') }));
  const reply = await peer.frame(0);
  expect(reply).toMatchObject({ seq: 42n, messageType: 1, status: 0 });
  expect(Buffer.from(reply.payload).toString()).toBe('"still here"');
}

/** A reply to `message` with the given fields. */
function replyTo(message: Message, fields: Partial<Message> = {}): Message {
  return { ...message, messageType: 1, metadata: new Map(), ...fields };
}

const okReply = (message: Message, peer: RawPeer): void =>
  peer.send(replyTo(message, { payload: Buffer.from('"ok"') }));

describe('the server facing bad peers', () => {
  it('wrong magic - the server closes the connection, logs why, and serves others', async () => {
    const { address, log, calls } = await echoServer();
    const bad = await peerOf(address);
    bad.send(request({ magic: 0x43 }));
    await bad.closed;
    const entry = await log.logged(/magic/);
    expect(entry.message).toMatch(/bad magic byte 0x43: expected 0x42 or 0x08/);
    expect(entry.details).toMatchObject({ remoteAddress: expect.stringMatching(/^tcp@127\.0\.0\.1:\d+$/) });
    expect(bad.received).toEqual([]);
    expect(calls()).toBe(0);
    await expectServing(address);
  });

  it('wrong version - the connection is closed with the reason logged', async () => {
    const { address, log } = await echoServer();
    const bad = await peerOf(address);
    const frame = encodeMessage(request());
    frame[1] = 7;
    bad.send(frame);
    await bad.closed;
    expect((await log.logged(/version/)).message).toMatch(/unsupported protocol version 7/);
    await expectServing(address);
  });

  it('maxMessageBytes - a length past it closes the connection on the prefix alone, before any body arrives', async () => {
    const { address, log, calls } = await echoServer({ maxMessageBytes: 1024 });
    const bad = await peerOf(address);
    const prefix = Buffer.alloc(16);
    prefix[0] = 0x42;
    prefix.writeBigUInt64BE(1n, 4);
    prefix.writeUInt32BE(100 * MiB, 12);
    bad.send(prefix);
    await bad.closed;
    const entry = await log.logged(/maxMessageBytes/);
    expect(entry.message).toMatch(/frame of 104857616 bytes exceeds maxMessageBytes \(1024\)/);
    expect(calls()).toBe(0);
    await expectServing(address);
  });

  it('maxMessageBytes - a frame just over it is refused, one at the limit is served', async () => {
    const { address } = await echoServer({ maxMessageBytes: 1024 });
    const fits = request({ payload: Buffer.from(JSON.stringify('x'.repeat(100))) });
    const atLimit = request({
      payload: Buffer.from(JSON.stringify('x'.repeat(100 + 1024 - encodeMessage(fits).length))),
    });
    expect(encodeMessage(atLimit).length).toBe(1024);
    const good = await peerOf(address);
    good.send(atLimit);
    expect(await good.frame(0)).toMatchObject({ status: 0 });
    const over = request({ payload: Buffer.from(JSON.stringify('x'.repeat(1024))) });
    const bad = await peerOf(address);
    bad.send(encodeMessage(over));
    await bad.closed;
    expect(bad.received).toEqual([]);
  });

  it('bad frame - frames completed in the same chunk before it are still answered before the close', async () => {
    const { address, log, calls } = await echoServer();
    const peer = await peerOf(address);
    const good = encodeMessage(request({ seq: 1n, payload: Buffer.from('"before the bad bytes"') }));
    peer.send(Buffer.concat([good, Buffer.from([0x43, 0, 0, 0, 0, 0, 0, 0])]));
    await peer.closed;
    await log.logged(/bad magic/);
    expect(calls()).toBe(1);
    expect(peer.received).toHaveLength(1);
    expect(peer.received[0]).toMatchObject({ seq: 1n, messageType: 1, status: 0 });
  });

  it('truncated frame - the peer closing mid-frame causes no crash and no reply, and the server goes on', async () => {
    const { address, server, calls } = await echoServer();
    const peer = await peerOf(address);
    const frame = encodeMessage(request({ seq: 1n }));
    peer.send(frame.subarray(0, frame.length - 3));
    peer.socket.end();
    await peer.closed;
    expect(peer.received).toEqual([]);
    expect(calls()).toBe(0);
    await expectServing(address);
    expect(server.connectionCount).toBe(1);
  });

  it('gzip bomb - a request past maxDecompressedBytes gets an error reply, and the connection goes on', async () => {
    const { address, calls } = await echoServer({ maxDecompressedBytes: MiB, maxCompressionRatio: 10_000 });
    const peer = await peerOf(address);
    const bomb = gzipSync(new Uint8Array(2 * MiB));
    expect(bomb.length).toBeLessThan(8 * KiB);
    peer.send(request({ seq: 1n, compressType: 1, serializeType: 0, payload: bomb }));
    const reply = await peer.frame(0);
    expect(reply).toMatchObject({ seq: 1n, messageType: 1, status: 1, compressType: 0 });
    expect(reply.metadata.get(ERROR_KEY)).toMatch(/maxDecompressedBytes \(1048576 bytes\)/);
    expect(calls()).toBe(0);
    // The same connection serves the next request.
    peer.send(request({ seq: 2n }));
    expect(await peer.frame(1)).toMatchObject({ seq: 2n, status: 0 });
  });

  it('gzip bomb - a request inflating past maxCompressionRatio gets an error reply naming it, before the size limit', async () => {
    const { address, calls } = await echoServer();
    const peer = await peerOf(address);
    const bomb = gzipSync(new Uint8Array(256 * KiB));
    expect((256 * KiB) / bomb.length).toBeGreaterThan(200);
    peer.send(request({ seq: 1n, compressType: 1, serializeType: 0, payload: bomb }));
    const reply = await peer.frame(0);
    expect(reply).toMatchObject({ seq: 1n, status: 1 });
    expect(reply.metadata.get(ERROR_KEY)).toMatch(
      new RegExp(
        `^gzip payload of ${bomb.length} bytes inflates more than maxCompressionRatio \\(200\\) times`,
      ),
    );
    expect(calls()).toBe(0);
  });

  it('gzip - a payload that is not gzip gets an error reply', async () => {
    const { address } = await echoServer();
    const peer = await peerOf(address);
    peer.send(request({ seq: 1n, compressType: 1, payload: Buffer.alloc(64, 7) }));
    const reply = await peer.frame(0);
    expect(reply).toMatchObject({ seq: 1n, status: 1 });
    expect(reply.metadata.get(ERROR_KEY)).toMatch(/gzip/);
  });

  it('compress type - an unknown one (5) gets an error reply naming it', async () => {
    const { address, calls } = await echoServer();
    const peer = await peerOf(address);
    peer.send(request({ seq: 1n, compressType: 5 }));
    const reply = await peer.frame(0);
    expect(reply).toMatchObject({ seq: 1n, messageType: 1, status: 1 });
    expect(reply.metadata.get(ERROR_KEY)).toMatch(/unknown compress type 5/);
    expect(calls()).toBe(0);
    peer.send(request({ seq: 2n }));
    expect(await peer.frame(1)).toMatchObject({ seq: 2n, status: 0 });
  });

  it.each(['99999999999', 'Infinity'])(
    '__ServerTimeout %s - past what a timer can wait: clamped, and the call is served',
    async (timeout) => {
      // A handler that takes a little while: a deadline that overflowed the timer would fail it.
      const { address } = await startServer(defer, (s) =>
        s.register('Echo', {
          Say: (args: unknown) => new Promise((resolve) => setTimeout(() => resolve(args), 20)),
        }),
      );
      const peer = await peerOf(address);
      peer.send(request({ seq: 5n, metadata: new Map([['__ServerTimeout', timeout]]) }));
      const reply = await peer.frame(0);
      expect(reply).toMatchObject({ seq: 5n, status: 0 });
      expect(Buffer.from(reply.payload).toString()).toBe('"hi"');
    },
  );

  it.each(['-5', 'soon', '0'])('__ServerTimeout %s - not a positive number: no deadline', async (timeout) => {
    const { address } = await echoServer();
    const peer = await peerOf(address);
    peer.send(request({ seq: 6n, metadata: new Map([['__ServerTimeout', timeout]]) }));
    expect(await peer.frame(0)).toMatchObject({ seq: 6n, status: 0 });
  });

  it('response frame - one sent to the server is ignored', async () => {
    const { address, calls } = await echoServer();
    const peer = await peerOf(address);
    peer.send(request({ seq: 1n, messageType: 1 }));
    peer.send(request({ seq: 2n, messageType: 1, status: 1 }));
    peer.send(request({ seq: 3n }));
    expect(await peer.frame(0)).toMatchObject({ seq: 3n, status: 0 });
    // A heartbeat after it is answered too, and nothing else came in between.
    peer.send(request({ seq: 4n, heartbeat: true, servicePath: '', serviceMethod: '' }));
    expect(await peer.frame(1)).toMatchObject({ seq: 4n, heartbeat: true, messageType: 1 });
    expect(peer.received.map((message) => message.seq)).toEqual([3n, 4n]);
    expect(calls()).toBe(1);
  });

  it('field length - a servicePath length past the frame closes the connection with the reason logged', async () => {
    const { address, log } = await echoServer();
    const peer = await peerOf(address);
    const frame = encodeMessage(request());
    frame.writeUInt32BE(1_000_000, 16); // service path length
    peer.send(frame);
    await peer.closed;
    expect((await log.logged(/servicePath/)).message).toMatch(/runs past the end of the frame/);
    await expectServing(address);
  });
});

describe('the client facing a bad server', () => {
  it('gzip bomb - a reply past maxDecompressedBytes rejects with ProtocolError, and the connection stays usable', async () => {
    const bomb = gzipSync(new Uint8Array(64 * KiB));
    const server = await replyingServer(defer, (message, peer) => {
      if (message.serviceMethod === 'Bomb') peer.send(replyTo(message, { compressType: 1, payload: bomb }));
      else okReply(message, peer);
    });
    const client = startClient(defer, server.address, { maxDecompressedBytes: 1024, serializeType: 1 });
    const error = await client.call('Echo', 'Bomb').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).field).toBe('payload');
    expect((error as ProtocolError).message).toMatch(/maxDecompressedBytes \(1024 bytes\)/);
    await expect(client.call('Echo', 'Say')).resolves.toBe('ok');
    expect(server.peers).toHaveLength(1);
  });

  it('error reply - without a message key it rejects with a ServiceError and a fallback message', async () => {
    const server = await replyingServer(defer, (message, peer) =>
      peer.send(
        replyTo(message, { status: 1, metadata: new Map([['other', 'x']]), payload: new Uint8Array() }),
      ),
    );
    const client = startClient(defer, server.address);
    const error = await client.call('Echo', 'Say', 'x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).message).toBe('the server replied with an error and no message');
    expect((error as ServiceError).details).toMatchObject({ service: 'Echo', method: 'Say' });
  });

  it("error reply - under the other dialect's key it still gives its message", async () => {
    const server = await replyingServer(defer, (message, peer) =>
      peer.send(replyTo(message, { status: 1, metadata: new Map([[RPCX.errorKey, 'from rpcx']]) })),
    );
    const client = startClient(defer, server.address, { dialect: PHOBOS });
    await expect(client.call('Echo', 'Say', 'x')).rejects.toThrow('from rpcx');
  });

  it('unknown seq - a reply to no pending call is ignored', async () => {
    const server = await replyingServer(defer, (message, peer) => {
      peer.send(replyTo(message, { seq: message.seq + 1000n, payload: Buffer.from('"stray"') }));
      peer.send(
        replyTo(message, { seq: message.seq + 1n, status: 1, metadata: new Map([[ERROR_KEY, 'x']]) }),
      );
      okReply(message, peer);
    });
    const connection = await openConnection(defer, server.address, { serializeType: 1 });
    await expect(firstValueFrom(connection.call$('Echo', 'Say', 1))).resolves.toBe('ok');
    await expect(firstValueFrom(connection.call$('Echo', 'Say', 2))).resolves.toBe('ok');
    expect(connection.isOpen).toBe(true);
    expect(connection.pendingCount).toBe(0);
  });

  it('bad payload - a reply its codec cannot decode rejects with CodecError, and the connection stays usable', async () => {
    const server = await replyingServer(defer, (message, peer) => {
      if (message.serviceMethod === 'Garbled') peer.send(replyTo(message, { payload: Buffer.from('{nope') }));
      else okReply(message, peer);
    });
    const client = startClient(defer, server.address, { serializeType: 1 });
    await expect(client.call('Echo', 'Garbled')).rejects.toMatchObject({ code: 'CODEC_ERROR' });
    await expect(client.call('Echo', 'Say')).resolves.toBe('ok');
  });
});

describe('wrong types and out-of-range values at every public entry', () => {
  describe('new Server', () => {
    it.each<[string, unknown, ErrorConstructor, RegExp]>([
      ['maxConcurrentRequests 0', { maxConcurrentRequests: 0 }, RangeError, /maxConcurrentRequests/],
      ['maxConcurrentRequests 1.5', { maxConcurrentRequests: 1.5 }, RangeError, /maxConcurrentRequests/],
      ['maxConcurrentRequests "3"', { maxConcurrentRequests: '3' }, RangeError, /maxConcurrentRequests/],
      ['maxMessageBytes 16', { maxMessageBytes: 16 }, RangeError, /maxMessageBytes/],
      ['maxDecompressedBytes 0', { maxDecompressedBytes: 0 }, RangeError, /maxDecompressedBytes/],
      ['compressThresholdBytes -1', { compressThresholdBytes: -1 }, RangeError, /compressThresholdBytes/],
      ['authorize 3', { authorize: 3 }, RangeError, /authorize/],
      ['logger {}', { logger: {} }, RangeError, /logger/],
      ['logger null', { logger: null }, RangeError, /logger/],
      ['tls 5', { tls: 5 }, RangeError, /tls/],
      ['listMethodsInErrors 1', { listMethodsInErrors: 1 }, RangeError, /listMethodsInErrors/],
      ['options "x"', 'x', TypeError, /server options/],
      ['options []', [], TypeError, /server options/],
    ])('new Server - %s', (_name, options, errorClass, pattern) => {
      const error = thrown(() => new Server(options as ServerOptions));
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).message).toMatch(pattern);
    });
  });

  describe('Server methods', () => {
    function server(): Server {
      const created = new Server({ logger: silentLogger });
      defer(() => created.shutdown({ graceMs: 0 }));
      return created;
    }
    const impl = { Run: () => 1 };

    it.each<[string, (s: Server) => unknown, ErrorConstructor, RegExp]>([
      ['register with an empty name', (s) => s.register('', impl), RangeError, /service name/],
      ['register a non-string name', (s) => s.register(5 as never, impl), RangeError, /service name/],
      ['register null', (s) => s.register('A', null as never), TypeError, /implementation of service "A"/],
      ['register a number', (s) => s.register('A', 5 as never), TypeError, /implementation of service "A"/],
      ['register an object without methods', (s) => s.register('A', {}), RangeError, /"A" has no methods/],
      ['register only _private methods', (s) => s.register('A', { _x: () => 1 }), RangeError, /no methods/],
      ['register a reserved name', (s) => s.register('__phobosX', impl), RangeError, /reserved/],
      [
        'register the same name twice',
        (s) => s.register('A', impl).register('A', impl),
        RangeError,
        /"A" is already registered/,
      ],
      [
        'register protobuf types for a missing method',
        (s) => s.register('A', impl, { protobuf: { Missing: {} } }),
        RangeError,
        /"A\.Missing"/,
      ],
      ['register options "x"', (s) => s.register('A', impl, 'x' as never), TypeError, /register options/],
      ['register metadata 5', (s) => s.register('A', impl, { metadata: 5 as never }), TypeError, /metadata/],
      ['use 3', (s) => s.use(3 as never), RangeError, /interceptor/],
      ['shutdown graceMs -1', (s) => s.shutdown({ graceMs: -1 }), RangeError, /graceMs/],
      ['shutdown graceMs 0.5', (s) => s.shutdown({ graceMs: 0.5 }), RangeError, /graceMs/],
      ['shutdown options 5', (s) => s.shutdown(5 as never), TypeError, /shutdown options/],
    ])('Server - %s throws', (_name, action, errorClass, pattern) => {
      const s = server();
      const error = thrown(() => action(s));
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).message).toMatch(pattern);
    });

    it('Server - a failed register leaves nothing registered', () => {
      const s = server();
      expect(() => s.register('A', {})).toThrow();
      expect(s.registered()).toEqual([]);
      s.register('A', impl);
      expect(s.registered().map((service) => service.name)).toEqual(['A']);
    });

    it.each([
      ['udp@x:1', RangeError, /"udp@x:1"/],
      ['nope', RangeError, /"nope"/],
      [5, TypeError, /address must be a string/],
    ])('Server - listen(%s) rejects', async (address, errorClass, pattern) => {
      const s = server();
      const error = await s.listen(address as string).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).message).toMatch(pattern);
    });

    it('Server - a bad shutdown option does not start the shutdown', async () => {
      const { address } = await echoServer();
      expect(() => new Server().shutdown({ graceMs: -1 })).toThrow(/graceMs/);
      await expectServing(address);
    });
  });

  describe('connect and Client', () => {
    const address = 'tcp@127.0.0.1:1';

    it.each<[string, unknown, ErrorConstructor, RegExp]>([
      ['timeoutMs -1', { timeoutMs: -1 }, RangeError, /timeoutMs/],
      [
        'timeoutMs 2^31 (past what a timer can wait)',
        { timeoutMs: 2 ** 31 },
        RangeError,
        /timeoutMs must be an integer in 0\.\.2147483647/,
      ],
      ['connectTimeoutMs 0', { connectTimeoutMs: 0 }, RangeError, /connectTimeoutMs/],
      ['serializeType 16', { serializeType: 16 }, RangeError, /serializeType/],
      [
        'serializeType 9 (no codec)',
        { serializeType: 9 },
        RangeError,
        /serializeType 9 has no registered codec/,
      ],
      ['compress "yes"', { compress: 'yes' }, RangeError, /compress/],
      ['auth 5', { auth: 5 }, RangeError, /auth/],
      ['dialect {}', { dialect: {} }, RangeError, /dialect/],
      ['dialect "rpcx"', { dialect: 'rpcx' }, RangeError, /dialect/],
      ['maxMessageBytes 1.5', { maxMessageBytes: 1.5 }, RangeError, /maxMessageBytes/],
      ['maxDecompressedBytes -1', { maxDecompressedBytes: -1 }, RangeError, /maxDecompressedBytes/],
      ['tls "yes"', { tls: 'yes' }, RangeError, /tls/],
      ['protobuf 5', { protobuf: 5 }, RangeError, /protobuf/],
      ['options 5', 5, TypeError, /connect options/],
    ])('connect - option %s throws synchronously, naming it', (_name, options, errorClass, pattern) => {
      const error = thrown(() => connect(address, options as never));
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).message).toMatch(pattern);
      const clientError = thrown(() => new Client(address, options as never));
      expect(clientError).toBeInstanceOf(errorClass);
      expect((clientError as Error).message).toMatch(pattern);
    });

    it.each([
      ['nope', RangeError, /"nope"/],
      ['x@y', RangeError, /"x@y"/],
      ['tcp@host:99999', RangeError, /"tcp@host:99999"/],
      [undefined, TypeError, /address must be a string/],
    ])('connect and new Client - address %s throws synchronously', (bad, errorClass, pattern) => {
      for (const action of [() => connect(bad as string), () => new Client(bad as string)]) {
        const error = thrown(action);
        expect(error).toBeInstanceOf(errorClass);
        expect((error as Error).message).toMatch(pattern);
      }
    });
  });

  describe('calls with bad arguments', () => {
    const badCalls: Array<[string, [unknown, unknown, unknown, unknown], ErrorConstructor, RegExp]> = [
      ["service ''", ['', 'Say', 1, undefined], TypeError, /service must be a non-empty string/],
      ['service 5', [5, 'Say', 1, undefined], TypeError, /service/],
      ['method 5', ['Echo', 5, 1, undefined], TypeError, /method must be a non-empty string, got 5/],
      ['timeoutMs 1.5', ['Echo', 'Say', 1, { timeoutMs: 1.5 }], RangeError, /timeoutMs/],
      ['metadata {k: 5}', ['Echo', 'Say', 1, { metadata: { k: 5 } }], TypeError, /metadata/],
      ['metadata "k"', ['Echo', 'Say', 1, { metadata: 'k' }], TypeError, /metadata/],
      ['serializeType 99', ['Echo', 'Say', 1, { serializeType: 99 }], RangeError, /serializeType/],
      ['serializeType 9 (no codec)', ['Echo', 'Say', 1, { serializeType: 9 }], Error, /serialize type 9/],
      ['compress 1', ['Echo', 'Say', 1, { compress: 1 }], RangeError, /compress/],
      ['oneway "no"', ['Echo', 'Say', 1, { oneway: 'no' }], RangeError, /oneway/],
    ];
    const notAnObject: [string, [unknown, unknown, unknown, unknown], ErrorConstructor, RegExp] = [
      'options 5',
      ['Echo', 'Say', 1, 5],
      TypeError,
      /call options must be an object/,
    ];

    it('call$ - each bad argument is an error notification, never a throw, and nothing is sent', async () => {
      const server = await replyingServer(defer, okReply);
      const connection = await openConnection(defer, server.address, { serializeType: 1 });
      for (const [name, [service, method, args, options], errorClass, pattern] of [
        ...badCalls,
        notAnObject,
      ]) {
        let call$: Observable<unknown> | undefined;
        expect(() => {
          call$ = connection.call$(service as string, method as string, args, options as CallOptions);
        }, name).not.toThrow();
        const error = await firstValueFrom(call$ as Observable<unknown>).catch((e: unknown) => e);
        expect(error, name).toBeInstanceOf(errorClass);
        expect((error as Error).message, name).toMatch(pattern);
      }
      expect(connection.pendingCount).toBe(0);
      await expect(firstValueFrom(connection.call$('Echo', 'Say', 'good'))).resolves.toBe('ok');
      // The peer received the good call only.
      const [peer] = server.peers;
      expect(peer?.received.map((message) => `${message.servicePath}.${message.serviceMethod}`)).toEqual([
        'Echo.Say',
      ]);
    });

    it('call$ - a server of ours never sees the bad calls, and serves the good one', async () => {
      const { address, calls } = await echoServer();
      const connection = await openConnection(defer, address, { serializeType: 1 });
      for (const [name, [service, method, args, options], errorClass] of [...badCalls, notAnObject]) {
        const error = await firstValueFrom(
          connection.call$(service as string, method as string, args, options as CallOptions),
        ).catch((e: unknown) => e);
        expect(error, name).toBeInstanceOf(errorClass);
      }
      expect(calls()).toBe(0);
      await expect(firstValueFrom(connection.call$('Echo', 'Say', 'good'))).resolves.toBe('good');
      expect(calls()).toBe(1);
    });

    it('Client.call - bad arguments reject (not throw), naming the argument', async () => {
      const { address, calls } = await echoServer();
      const client = startClient(defer, address, { serializeType: 1 });
      for (const [name, [service, method, args, options], errorClass, pattern] of badCalls) {
        let reply: Promise<unknown> | undefined;
        expect(() => {
          reply = client.call(service as string, method as string, args, options as CallOptions);
        }, name).not.toThrow();
        const error = await (reply as Promise<unknown>).catch((e: unknown) => e);
        expect(error, name).toBeInstanceOf(errorClass);
        expect((error as Error).message, name).toMatch(pattern);
      }
      expect(calls()).toBe(0);
      await expect(client.call('Echo', 'Say', 'good')).resolves.toBe('good');
    });

    it('Client.call - options that are not an object reject with a TypeError, as call$ does', async () => {
      const { address, calls } = await echoServer();
      const client = startClient(defer, address, { serializeType: 1 });
      const [, [service, method, args, options], errorClass, pattern] = notAnObject;
      const error = await client
        .call(service as string, method as string, args, options as CallOptions)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errorClass);
      expect((error as Error).message).toMatch(pattern);
      expect(calls()).toBe(0);
    });

    it.each([{}, 'abort', { aborted: false, addEventListener: () => {} }])(
      'Client.call - signal %o that is not an AbortSignal rejects with a TypeError',
      async (signal) => {
        const { address, calls } = await echoServer();
        const client = startClient(defer, address);
        const reply = client.call('Echo', 'Say', 1, { signal: signal as never });
        await expect(reply).rejects.toThrow(TypeError);
        await expect(reply).rejects.toThrow(/signal/);
        expect(calls()).toBe(0);
      },
    );

    it.each<[string, number, unknown, RegExp]>([
      ['intervalMs 0', 0, undefined, /intervalMs/],
      ['intervalMs -1', -1, undefined, /intervalMs/],
      ['intervalMs 1.5', 1.5, undefined, /intervalMs/],
      ['maxMisses 0', 10, { maxMisses: 0 }, /maxMisses/],
      ['closeOnFailure "yes"', 10, { closeOnFailure: 'yes' }, /closeOnFailure/],
    ])('heartbeat$ - %s throws a RangeError at call time', async (_name, intervalMs, options, pattern) => {
      const { address } = await echoServer();
      const connection = await openConnection(defer, address);
      const error = thrown(() => connection.heartbeat$({ intervalMs, ...(options as object) } as never));
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(pattern);
      expect(connection.isOpen).toBe(true);
    });
  });
});

describe('startTestServer', () => {
  it('startTestServer - serves the given services on loopback, and close() closes everything', async () => {
    let closed = false;
    const test = await startTestServer({
      Echo: {
        Say(args: unknown) {
          return args;
        },
      },
    });
    defer(async () => {
      if (!closed) await test.close();
    });
    expect(test.address).toMatch(/^tcp@127\.0\.0\.1:\d+$/);
    const first = test.client({ serializeType: 1 });
    const second = test.client();
    await expect(first.call('Echo', 'Say', 'one')).resolves.toBe('one');
    await expect(second.call('Echo', 'Say', 'two')).resolves.toBe('two');
    expect(test.server.connectionCount).toBe(2);
    await test.close();
    closed = true;
    await expect(first.call('Echo', 'Say', 'late')).rejects.toThrow(ConnectionClosedError);
    await expect(test.client().call('Echo', 'Say', 'new client')).rejects.toThrow(ConnectionError);
    // trackHandles (afterEach) checks that no socket, server or timer is left open.
  });

  it('startTestServer - once close() resolves, the server holds no connection', async () => {
    const test = await startTestServer({ Echo: { Say: (args: unknown) => args } });
    let closed = false;
    defer(async () => {
      if (!closed) await test.close();
    });
    const client = test.client();
    await client.call('Echo', 'Say', 1);
    const serverSide = deferred<ServerConnection>();
    test.server.use((next) => (call) => {
      serverSide.resolve(call.ctx.connection);
      return next(call);
    });
    await client.call('Echo', 'Say', 2);
    const connection = await serverSide.promise;
    let closedSeen = false;
    connection.closed$.subscribe({ complete: () => (closedSeen = true) });
    await test.close();
    closed = true;
    expect(test.server.connectionCount).toBe(0);
    expect(connection.isOpen).toBe(false);
    expect(closedSeen).toBe(true);
  });

  it('startTestServer - a bad service or option throws like Server does', async () => {
    await expect(startTestServer({ Empty: {} })).rejects.toThrow(/"Empty" has no methods/);
    await expect(startTestServer({}, { maxConcurrentRequests: 0 })).rejects.toThrow(/maxConcurrentRequests/);
  });
});
