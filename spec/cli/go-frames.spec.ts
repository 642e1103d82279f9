import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeFrame } from '../../lib/protocol/decoder.js';
import { encodeMessage } from '../../lib/protocol/encode.js';
import { type GoFrame, goFrames } from '../support/go-frames.js';
import { trackHandles } from '../support/handles.js';
import { expectUsageError, phobos } from './cli-process.js';
import { type PeerConnection, scriptedPeer } from './scripted-peer.js';

const { defer } = trackHandles();

/** The first frame of a golden case in one direction. */
function golden(name: string, direction: GoFrame['direction']): Buffer {
  return goFrames(name, direction)[0] as Buffer;
}

/**
 * A fake Go server: reads one frame, records it, and answers with `reply` only when the frame is
 * the one Go's client sends (otherwise it hangs up, and the test shows the difference).
 */
async function goServer(expected: Buffer, reply: Buffer): Promise<{ address: string; received: string[] }> {
  const received: string[] = [];
  const peer = await scriptedPeer(async (connection: PeerConnection) => {
    const frame = await connection.readFrame();
    received.push(frame.toString('hex'));
    if (frame.equals(expected)) connection.write(reply);
    else connection.socket.destroy();
  });
  defer(() => peer.close());
  defer(() => expect(peer.failures).toEqual([]));
  return { address: peer.address, received };
}

// --timeout 0: a deadline would add __ServerTimeout metadata, which Go's captured client did not send.
describe('phobos call - against the frames of Go Phobos, byte for byte', { timeout: 30_000 }, () => {
  it("call - sends the JSON request of Go's client and prints the decoded Go reply", async () => {
    const server = await goServer(
      golden('Arith.Mul {A:7,B:8}, JSON', 'client->server'),
      golden('Arith.Mul {A:7,B:8}, JSON', 'server->client'),
    );
    const result = await phobos(['call', server.address, 'Arith.Mul', '{"A":7,"B":8}', '--timeout', '0']);
    expect(server.received).toEqual([golden('Arith.Mul {A:7,B:8}, JSON', 'client->server').toString('hex')]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ C: 56 });
    expect(result.stderr).toBe('');
  });

  it("call - sends the MsgPack request of Go's client and prints the decoded Go reply", async () => {
    const server = await goServer(
      golden('Arith.Mul {A:7,B:8}, msgpack', 'client->server'),
      golden('Arith.Mul {A:7,B:8}, msgpack', 'server->client'),
    );
    const result = await phobos([
      'call',
      server.address,
      'Arith.Mul',
      '{"A":7,"B":8}',
      '--codec',
      'msgpack',
      '--timeout',
      '0',
    ]);
    expect(server.received).toEqual([
      golden('Arith.Mul {A:7,B:8}, msgpack', 'client->server').toString('hex'),
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ C: 56 });
  });

  it("call - sends the Protobuf request of Go's client from a .proto file and decodes the reply type", async () => {
    const server = await goServer(
      golden('PBArith.Mul', 'client->server'),
      golden('PBArith.Mul', 'server->client'),
    );
    const result = await phobos([
      'call',
      server.address,
      'PBArith.Mul',
      '{"A":7,"B":8}',
      '--proto',
      'spec/fixtures/cli/arith.proto',
      '--type',
      'arith.Args',
      '--reply-type',
      'arith.Reply',
      '--timeout',
      '0',
    ]);
    expect(server.received).toEqual([golden('PBArith.Mul', 'client->server').toString('hex')]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ C: 56 });
  });

  it('call - sends metadata as Go does, and -v prints the metadata of the reply on stderr', async () => {
    const server = await goServer(
      golden('Echo.EchoMeta', 'client->server'),
      golden('Echo.EchoMeta', 'server->client'),
    );
    const result = await phobos([
      'call',
      server.address,
      'Echo.EchoMeta',
      '"aGk="',
      '-m',
      'k=v',
      '--timeout',
      '0',
      '-v',
    ]);
    expect(server.received).toEqual([golden('Echo.EchoMeta', 'client->server').toString('hex')]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toBe('aGk=');
    expect(result.stderr).toMatch(/^< k: v$/m);
  });

  it("call - a Go error reply exits 1 with the server's message", async () => {
    const server = await goServer(
      golden('Arith.Div', 'client->server'),
      golden('Arith.Div', 'server->client'),
    );
    const result = await phobos(['call', server.address, 'Arith.Div', '{"A":7,"B":0}', '--timeout', '0']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('phobos call: SERVICE_ERROR: divide by zero\n');
  });

  it('call --gzip - gzips the payload (compress type 1) and reads the Go reply', async () => {
    const received: Buffer[] = [];
    const peer = await scriptedPeer(async (connection) => {
      const frame = await connection.readFrame();
      received.push(frame);
      connection.write(golden('Arith.Mul {A:7,B:8}, JSON', 'server->client'));
    });
    defer(() => peer.close());
    const result = await phobos([
      'call',
      peer.address,
      'Arith.Mul',
      '{"A":7,"B":8}',
      '--gzip',
      '--timeout',
      '0',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ C: 56 });
    const request = decodeFrame(received[0] as Buffer);
    expect(request.compressType).toBe(1);
    expect(gunzipSync(request.payload).toString()).toBe('{"A":7,"B":8}');
    expect([request.servicePath, request.serviceMethod, request.serializeType, request.seq]).toEqual([
      'Arith',
      'Mul',
      1,
      0n,
    ]);
  });

  it('call --rpcx - sends the same frame with the rpcx magic (0x08) and reads an rpcx reply', async () => {
    const asRpcx = (frame: Buffer): Buffer => Buffer.concat([Buffer.of(0x08), frame.subarray(1)]);
    const server = await goServer(
      asRpcx(golden('Arith.Mul {A:7,B:8}, JSON', 'client->server')),
      asRpcx(golden('Arith.Mul {A:7,B:8}, JSON', 'server->client')),
    );
    const result = await phobos([
      'call',
      server.address,
      'Arith.Mul',
      '{"A":7,"B":8}',
      '--timeout',
      '0',
      '--rpcx',
    ]);
    expect(server.received).toEqual([
      asRpcx(golden('Arith.Mul {A:7,B:8}, JSON', 'client->server')).toString('hex'),
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ C: 56 });
  });

  it("ping - sends Go's heartbeat frame and counts the Go echo", async () => {
    const server = await goServer(
      golden('heartbeat', 'client->server'),
      golden('heartbeat', 'server->client'),
    );
    const result = await phobos(['ping', server.address, '--count', '1']);
    expect(server.received).toEqual([golden('heartbeat', 'client->server').toString('hex')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^echo from tcp@127\.0\.0\.1:\d+: seq=0 time=[\d.]+ ms$/m);
    expect(result.stdout).toMatch(/^1 heartbeats sent, 1 echoed, 0% lost/m);
  });
});

describe('phobos call - a peer sending garbage gets a clear error, not a crash', { timeout: 30_000 }, () => {
  function expectOneLine(stderr: string): void {
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).not.toMatch(/\n\s+at /);
  }

  it('call - a peer answering HTTP exits 6 (protocol) naming the bad magic', async () => {
    const peer = await scriptedPeer(async (connection) => {
      await connection.readFrame();
      connection.write(Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    });
    defer(() => peer.close());
    const result = await phobos(['call', peer.address, 'Arith.Mul', '{"A":7,"B":8}']);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/^phobos call: CONNECTION_CLOSED: .*magic/);
    expectOneLine(result.stderr);
  });

  it('call - a reply whose JSON payload does not parse exits 6 (CODEC_ERROR)', async () => {
    const peer = await scriptedPeer(async (connection) => {
      const request = decodeFrame(await connection.readFrame());
      connection.write(
        encodeMessage({ ...request, messageType: 1, metadata: new Map(), payload: Buffer.from('{not json') }),
      );
    });
    defer(() => peer.close());
    const result = await phobos(['call', peer.address, 'Arith.Mul', '{"A":7,"B":8}']);
    expect(result.code).toBe(6);
    expect(result.stderr).toMatch(/^phobos call: CODEC_ERROR: /);
    expectOneLine(result.stderr);
  });

  it('call - an error message with control characters is printed escaped, on one line', async () => {
    const peer = await scriptedPeer(async (connection) => {
      const request = decodeFrame(await connection.readFrame());
      connection.write(
        encodeMessage({
          ...request,
          messageType: 1,
          status: 1,
          metadata: new Map([['__mrpc_error__', 'bad\n\u001b[31mred']]),
          payload: new Uint8Array(0),
        }),
      );
    });
    defer(() => peer.close());
    const result = await phobos(['call', peer.address, 'Arith.Mul', '{"A":7,"B":8}']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('phobos call: SERVICE_ERROR: bad\\n\\u001b[31mred\n');
  });

  it('call - a peer that hangs up without answering exits 3 (unavailable)', async () => {
    const peer = await scriptedPeer(async (connection) => {
      await connection.readFrame();
      connection.socket.destroy();
    });
    defer(() => peer.close());
    const result = await phobos(['call', peer.address, 'Arith.Mul', '{"A":7,"B":8}']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^phobos call: CONNECTION_CLOSED: /);
    expectOneLine(result.stderr);
  });

  it('call - ARGS that do not fit the .proto type are a usage error naming the field', async () => {
    const result = await phobos([
      'call',
      'tcp@127.0.0.1:9',
      'PBArith.Mul',
      '{"A":7,"Z":8}',
      '--proto',
      'spec/fixtures/cli/arith.proto',
      '--type',
      'arith.Args',
    ]);
    expect(expectUsageError(result)).toBe(
      'phobos call: error: ARGS field Z is not a field of arith.Args; its fields: A, B',
    );
  });
});
