import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { CallContext } from '../../lib/server/call-context.js';
import { Server } from '../../lib/server/server.js';
import type { ServerOptions } from '../../lib/server/server-options.js';
import { silentLogger } from '../../lib/util/logger.js';
import { trackHandles } from '../support/handles.js';
import { phobos, startCli } from './cli-process.js';

const { defer } = trackHandles();

const PROTO = 'spec/fixtures/cli/arith.proto';
const root = protobuf.loadSync(PROTO);
const Args = root.lookupType('arith.Args');
const Reply = root.lookupType('arith.Reply');

/** Starts a server on a free loopback port with the services these tests call. */
async function startServer(options: ServerOptions = {}): Promise<string> {
  const server = new Server({ logger: silentLogger, ...options });
  server.register('Echo', {
    // What the server saw: the arguments, the serialize type, the metadata and the deadline.
    Inspect(args: unknown, ctx: CallContext) {
      ctx.replyMetadata.set('served-by', 'echo');
      const metadata = Object.fromEntries([...ctx.metadata].filter(([key]) => !key.startsWith('__')));
      return { args, serializeType: ctx.serializeType, metadata, deadline: ctx.deadline !== undefined };
    },
    // Raw bytes in, the same bytes reversed out.
    Reverse(args: Uint8Array) {
      return Uint8Array.from(args).reverse();
    },
  });
  server.register('Slow', {
    // Never answers: it waits for the deadline (or the cancel) to abort it.
    Never(_args: unknown, ctx: CallContext) {
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
      });
    },
  });
  server.register('Arith', {
    Div(args: { A: number; B: number }) {
      if (args.B === 0) throw new Error('divide by zero');
      return { C: args.A / args.B };
    },
  });
  server.register(
    'PBArith',
    {
      Mul(args: { A: number; B: number }) {
        return { C: args.A * args.B };
      },
    },
    { protobuf: { Mul: { requestType: Args, replyType: Reply } } },
  );
  const address = await server.listen('tcp@127.0.0.1:0');
  defer(() => server.shutdown({ graceMs: 0 }));
  return address;
}

/** An address nothing listens on: a port that was free a moment ago. */
async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (bound === null || typeof bound === 'string') throw new Error('no TCP address');
  return `tcp@127.0.0.1:${bound.port}`;
}

describe('phobos call - against a real server', { timeout: 30_000 }, () => {
  it('call - sends JSON ARGS and prints the reply as JSON, exit 0', async () => {
    const address = await startServer();
    const result = await phobos(['call', address, 'Echo.Inspect', '{"First":"budei"}']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      args: { First: 'budei' },
      serializeType: 1,
      metadata: {},
      deadline: true,
    });
  });

  it('call --codec msgpack - sends MsgPack (serialize type 3) and decodes the reply', async () => {
    const address = await startServer();
    const result = await phobos(['call', address, 'Echo.Inspect', '{"A":7,"B":[1,2]}', '--codec', 'msgpack']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ args: { A: 7, B: [1, 2] }, serializeType: 3 });
  });

  it('call --proto - encodes ARGS as the .proto type and decodes the reply type', async () => {
    const address = await startServer();
    const result = await phobos([
      'call',
      address,
      'PBArith.Mul',
      '{"A":6,"B":7}',
      '--proto',
      PROTO,
      '--type',
      'arith.Args',
      '--reply-type',
      'arith.Reply',
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ C: 42 });
  });

  it('call --codec raw - sends base64 ARGS as bytes and prints the reply bytes in hex with --bytes hex', async () => {
    const address = await startServer();
    const [base64, hex] = await Promise.all([
      phobos(['call', address, 'Echo.Reverse', Buffer.from('abc').toString('base64'), '--codec', 'raw']),
      phobos(['call', address, 'Echo.Reverse', '010203', '--codec', 'raw', '--bytes', 'hex']),
    ]);
    expect(base64.code).toBe(0);
    expect(JSON.parse(base64.stdout)).toBe(Buffer.from('cba').toString('base64'));
    expect(JSON.parse(hex.stdout)).toBe('030201');
  });

  it('call -m -v - sends the metadata, prints the reply metadata on stderr; --json puts it in the envelope', async () => {
    const address = await startServer();
    const [verbose, json] = await Promise.all([
      phobos(['call', address, 'Echo.Inspect', '{}', '-m', 'k=v', '--meta', 'tenant=a=b', '-v']),
      phobos(['call', address, 'Echo.Inspect', '{"x":1}', '--json']),
    ]);
    expect(verbose.code).toBe(0);
    expect(JSON.parse(verbose.stdout).metadata).toEqual({ k: 'v', tenant: 'a=b' });
    expect(verbose.stderr).toMatch(/^> Echo\.Inspect to tcp@127\.0\.0\.1:\d+ \(json, 2 bytes\)$/m);
    expect(verbose.stderr).toMatch(/^< ok in [\d.]+ ms from tcp@127\.0\.0\.1:\d+ \(\d+ bytes\)$/m);
    expect(verbose.stderr).toMatch(/^< served-by: echo$/m);

    expect(json.code).toBe(0);
    expect(json.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      service: 'Echo',
      method: 'Inspect',
      address,
      codec: 'json',
      metadata: { 'served-by': 'echo' },
      reply: { args: { x: 1 } },
    });
  });

  it('call --gzip - a gzipped request reaches the handler whole', async () => {
    const address = await startServer();
    const text = 'x'.repeat(5_000);
    const result = await phobos(['call', address, 'Echo.Inspect', JSON.stringify({ text }), '--gzip']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).args).toEqual({ text });
  });

  it('call @file and @- - read ARGS from a file and from stdin', async () => {
    const address = await startServer();
    const [file, stdin] = await Promise.all([
      phobos(['call', address, 'Echo.Inspect', '@spec/fixtures/cli/args.json']),
      phobos(['call', address, 'Echo.Inspect', '@-'], { stdin: '{"from":"stdin"}' }),
    ]);
    expect(file.code).toBe(0);
    expect(JSON.parse(file.stdout).args).toEqual(
      JSON.parse(readFileSync('spec/fixtures/cli/args.json', 'utf8')),
    );
    expect(stdin.code).toBe(0);
    expect(JSON.parse(stdin.stdout).args).toEqual({ from: 'stdin' });
  });

  it('call --timeout - a handler that never answers ends with exit 4 (deadline exceeded)', async () => {
    const address = await startServer();
    const result = await phobos(['call', address, 'Slow.Never', '{}', '--timeout', '200ms']);
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^phobos call: DEADLINE_EXCEEDED: Slow\.Never did not answer within 200 ms\n$/,
    );
  });

  it("call - an unknown method exits 1 with the server's NOT_FOUND reason; --json writes the error object", async () => {
    const address = await startServer();
    const result = await phobos(['call', address, 'Echo.Nope', '{}', '--json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^phobos call: SERVICE_ERROR\/NOT_FOUND: .*Nope/);
    expect(JSON.parse(result.stdout)).toEqual({
      error: { kind: 'SERVICE_ERROR/NOT_FOUND', message: expect.stringContaining('Nope'), exitCode: 1 },
    });
  });

  it('call - a handler that throws exits 1 with its message', async () => {
    const address = await startServer();
    const result = await phobos(['call', address, 'Arith.Div', '{"A":1,"B":0}']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('phobos call: SERVICE_ERROR: divide by zero\n');
  });

  it('call - a dead address exits 3 (unavailable) with one line naming it', async () => {
    const address = await deadAddress();
    const result = await phobos(['call', address, 'Echo.Inspect', '{}']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      new RegExp(`^phobos call: UNAVAILABLE: cannot connect to ${address}: .*ECONNREFUSED.*\\n$`),
    );
  });

  it('call --tls --ca --auth - calls a TLS server that checks tokens; a wrong CA exits 3', async () => {
    const address = await startServer({
      tls: {
        key: readFileSync('spec/fixtures/tls-key.pem'),
        cert: readFileSync('spec/fixtures/tls-cert.pem'),
      },
      authorize: (token) => token === 'secret',
    });
    const [ok, untrusted, insecure] = await Promise.all([
      phobos([
        'call',
        address,
        'Echo.Inspect',
        '{"tls":true}',
        '--ca',
        'spec/fixtures/tls-cert.pem',
        '--auth',
        'secret',
      ]),
      phobos(['call', address, 'Echo.Inspect', '{}', '--tls', '--auth', 'secret']),
      phobos(['call', address, 'Echo.Inspect', '{}', '--insecure', '--auth', 'secret']),
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).args).toEqual({ tls: true });
    expect(untrusted.code).toBe(3);
    expect(untrusted.stderr).toMatch(/^phobos call: UNAVAILABLE: cannot connect to .*certificate/);
    expect(insecure.code).toBe(0);
  });

  it('call --rpcx and unix@ - speaks the rpcx dialect, and reaches a server on a Unix socket', async () => {
    const address = await startServer();
    const server = new Server({ logger: silentLogger });
    server.register('Echo', { Say: (args: unknown) => args });
    const socket = await server.listen(`unix@${join(tmpdir(), `phobos-cli-${process.pid}.sock`)}`);
    defer(() => server.shutdown({ graceMs: 0 }));
    const [rpcx, unix] = await Promise.all([
      phobos(['call', address, 'Echo.Inspect', '{"dialect":"rpcx"}', '--rpcx']),
      phobos(['call', socket, 'Echo.Say', '"over a unix socket"']),
    ]);
    expect(rpcx.code).toBe(0);
    expect(JSON.parse(rpcx.stdout).args).toEqual({ dialect: 'rpcx' });
    expect(unix.code).toBe(0);
    expect(JSON.parse(unix.stdout)).toBe('over a unix socket');
  });

  it('call - Ctrl-C while waiting cancels the call and exits 5', async () => {
    const address = await startServer();
    const cli = startCli(['call', address, 'Slow.Never', '{}', '--timeout', '0', '-v']);
    defer(() => cli.kill());
    await cli.waitFor('stderr', /^> Slow\.Never to /m);
    cli.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/^phobos call: CANCELLED: interrupted before the answer came$/m);
  });
});
