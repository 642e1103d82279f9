import { create, createFileRegistry, type Message } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../lib/gateway/index.js';
import { type CallContext, silentLogger } from '../../lib/index.js';
import { deferred } from '../support/deferred.js';
import { trackHandles } from '../support/handles.js';
import { startServer } from '../support/servers.js';

const { defer } = trackHandles();

/** The service as the Connect client and protobufjs both see it. No package: the path is /HelloWorld/Greet. */
const PROTO = `
syntax = "proto3";
message Args { string First = 1; }
message Reply { string Second = 1; }
service HelloWorld {
  rpc Greet(Args) returns (Reply);
  rpc Fail(Args) returns (Reply);
  rpc Slow(Args) returns (Reply);
  rpc Missing(Args) returns (Reply);
}
`;

const root = protobuf.parse(PROTO).root;
const ArgsType = root.lookupType('Args');
const ReplyType = root.lookupType('Reply');
const TYPES = { requestType: ArgsType, replyType: ReplyType };

/** The same file as a descriptor built at run time (what protoc would hand a code generator). */
const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: 'helloworld.proto',
    syntax: 'proto3',
    messageType: [
      { name: 'Args', field: [stringField('First')] },
      { name: 'Reply', field: [stringField('Second')] },
    ],
    service: [
      {
        name: 'HelloWorld',
        method: ['Greet', 'Fail', 'Slow', 'Missing'].map((name) => ({
          name,
          inputType: '.Args',
          outputType: '.Reply',
        })),
      },
    ],
  }),
  () => undefined,
);

/**
 * Field 1, a string. protoc always fills in `json_name` (the proto3 JSON name: the field name
 * in lowerCamelCase, which leaves `First` as it is) and the registry takes it as given, so a
 * descriptor built by hand must say it too.
 */
function stringField(name: string) {
  return {
    name,
    jsonName: name,
    number: 1,
    label: FieldDescriptorProto_Label.OPTIONAL,
    type: FieldDescriptorProto_Type.STRING,
  };
}

type Args = Message<'Args'> & { First: string };
type Reply = Message<'Reply'> & { Second: string };
type Unary = { methodKind: 'unary'; input: GenMessage<Args>; output: GenMessage<Reply> };
type HelloWorldService = GenService<{ greet: Unary; fail: Unary; slow: Unary; missing: Unary }>;

/** The HelloWorld service of the descriptor, typed. */
function helloWorldDescriptor(): HelloWorldService {
  const service = registry.getService('HelloWorld');
  if (service === undefined) throw new Error('the descriptor has no HelloWorld service');
  // A registry's descriptors carry no static types: this is the type code generation would
  // declare for this one.
  return service as unknown as HelloWorldService;
}

/** What the Slow handler saw: its deadline and the time it started (both epoch ms). */
interface SlowCall {
  readonly deadline: number | undefined;
  readonly startedAt: number;
}

/** HelloWorld on the server: Greet echoes metadata, Fail throws, Slow waits for its signal; Missing is not there. */
function helloWorld() {
  const slow = deferred<SlowCall>();
  const metadata: Array<ReadonlyMap<string, string>> = [];
  const implementation = {
    Greet(args: { First?: unknown }, ctx: CallContext) {
      metadata.push(new Map(ctx.metadata));
      const tag = ctx.metadata.get('tag');
      if (tag !== undefined) ctx.replyMetadata.set('echoed-tag', tag);
      ctx.replyMetadata.set('served-by', 'phobos');
      return { Second: `Hello ${String(args.First)}` };
    },
    Fail(args: { First?: unknown }) {
      throw new Error(`no greeting for ${String(args.First)}`);
    },
    Slow(_args: unknown, ctx: CallContext) {
      const startedAt = Date.now();
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener(
          'abort',
          () => {
            slow.resolve({ deadline: ctx.deadline, startedAt });
            reject(ctx.signal.reason);
          },
          { once: true },
        );
      });
    },
  };
  return { implementation, slow: slow.promise, metadata };
}

/** A phobos server with HelloWorld and a gateway in front of it; `url` is the gateway's. */
async function gatewayInFront(options: { timeoutMs?: number } = {}) {
  const service = helloWorld();
  const { address } = await startServer(defer, (server) =>
    server.register('HelloWorld', service.implementation),
  );
  const gateway = new Gateway({
    addresses: [address],
    protobuf: { 'HelloWorld.Greet': TYPES, 'HelloWorld.Fail': TYPES, 'HelloWorld.Slow': TYPES },
    logger: silentLogger,
    ...options,
  });
  const url = await gateway.listen('http://127.0.0.1:0');
  defer(() => gateway.close({ graceMs: 0 }));
  return { url, ...service };
}

/** A phobos server answering HTTP on its own RPC port; the Protobuf types are registered on it. */
async function serverAnsweringHttp() {
  const service = helloWorld();
  const { address } = await startServer(
    defer,
    (server) =>
      server.register('HelloWorld', service.implementation, {
        protobuf: { Greet: TYPES, Fail: TYPES, Slow: TYPES },
      }),
    { http: true },
  );
  return { url: `http://${address.replace(/^tcp@/, '')}`, ...service };
}

/** A Connect client of HelloWorld over HTTP/1.1, speaking JSON or binary Protobuf. */
function connectClient(url: string, format: 'json' | 'binary') {
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: '1.1',
    useBinaryFormat: format === 'binary',
  });
  return createClient(helloWorldDescriptor(), transport);
}

/** What a promise rejected with; fails when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return error as ConnectError;
  }
  throw new Error('expected the call to fail');
}

const FORMATS = [['JSON', 'json'] as const, ['binary (application/proto)', 'binary'] as const];

describe('a Connect client through the gateway', () => {
  it('the descriptor gives the fields the JSON names the service uses', () => {
    const args = registry.getMessage('Args');
    const reply = registry.getMessage('Reply');
    expect(args?.fields.map((field) => field.jsonName)).toEqual(['First']);
    expect(reply?.fields.map((field) => field.jsonName)).toEqual(['Second']);
    expect(helloWorldDescriptor().methods.map((method) => method.localName)).toEqual([
      'greet',
      'fail',
      'slow',
      'missing',
    ]);
  });

  it.each(FORMATS)('%s - Greet returns the reply', async (_name, format) => {
    const { url } = await gatewayInFront();
    const client = connectClient(url, format);

    const reply = await client.greet({ First: 'budei' });

    expect(reply.Second).toBe('Hello budei');
  });

  it.each(FORMATS)(
    '%s - a handler error is a ConnectError with code Unknown and its message',
    async (_name, format) => {
      const { url } = await gatewayInFront();
      const client = connectClient(url, format);

      const error = await rejection(client.fail({ First: 'budei' }));

      expect(error.code).toBe(Code.Unknown);
      expect(error.rawMessage).toBe('no greeting for budei');
    },
  );

  it.each(FORMATS)('%s - a method the server does not have is NotFound', async (_name, format) => {
    const { url } = await gatewayInFront();
    const client = connectClient(url, format);

    const error = await rejection(client.missing({ First: 'budei' }));

    expect(error.code).toBe(Code.NotFound);
    expect(error.rawMessage).toMatch(/Missing/);
  });

  it.each(FORMATS)(
    '%s - timeoutMs reaches the handler as its deadline and ends in DeadlineExceeded',
    async (_name, format) => {
      // The gateway's own default deadline is far longer than the test: only the request's
      // Connect-Timeout-Ms can give the handler a deadline this close.
      const { url, slow } = await gatewayInFront({ timeoutMs: 120_000 });
      const client = connectClient(url, format);
      const timeoutMs = 300;

      const error = await rejection(client.slow({ First: 'budei' }, { timeoutMs }));

      expect(error.code).toBe(Code.DeadlineExceeded);
      const seen = await slow;
      expect(seen.deadline).toBeDefined();
      expect((seen.deadline ?? Number.POSITIVE_INFINITY) - seen.startedAt).toBeLessThanOrEqual(timeoutMs);
    },
  );

  it.each(FORMATS)(
    '%s - request headers reach the handler as metadata, reply metadata comes back as headers',
    async (_name, format) => {
      const { url, metadata } = await gatewayInFront();
      const client = connectClient(url, format);
      let headers: Headers | undefined;

      const reply = await client.greet(
        { First: 'budei' },
        {
          headers: { 'Phobos-Meta-Tag': 'blue', 'Phobos-Meta-__AUTH': 'forged', 'Other-Header': 'kept out' },
          onHeader: (received) => {
            headers = received;
          },
        },
      );

      expect(reply.Second).toBe('Hello budei');
      expect(metadata).toHaveLength(1);
      const seen = metadata[0] as ReadonlyMap<string, string>;
      expect(seen.get('tag')).toBe('blue');
      // A header cannot set a protocol key, and headers without the prefix are not metadata.
      expect(seen.has('__AUTH')).toBe(false);
      expect([...seen.keys()].some((key) => key.includes('other'))).toBe(false);
      expect(headers?.get('phobos-meta-echoed-tag')).toBe('blue');
      expect(headers?.get('phobos-meta-served-by')).toBe('phobos');
    },
  );
});

describe('a Connect client against new Server({ http: true })', () => {
  it.each(FORMATS)('%s - Greet returns the reply from the RPC port', async (_name, format) => {
    const { url } = await serverAnsweringHttp();
    const client = connectClient(url, format);

    const reply = await client.greet({ First: 'budei' });

    expect(reply.Second).toBe('Hello budei');
  });

  it.each(FORMATS)(
    '%s - errors keep their codes: Unknown, NotFound, DeadlineExceeded',
    async (_name, format) => {
      const { url, slow } = await serverAnsweringHttp();
      const client = connectClient(url, format);

      const failed = await rejection(client.fail({ First: 'budei' }));
      expect(failed.code).toBe(Code.Unknown);
      expect(failed.rawMessage).toBe('no greeting for budei');

      const missing = await rejection(client.missing({ First: 'budei' }));
      expect(missing.code).toBe(Code.NotFound);

      const late = await rejection(client.slow({ First: 'budei' }, { timeoutMs: 300 }));
      expect(late.code).toBe(Code.DeadlineExceeded);
      const seen = await slow;
      expect((seen.deadline ?? Number.POSITIVE_INFINITY) - seen.startedAt).toBeLessThanOrEqual(300);
    },
  );

  it('metadata travels both ways on the RPC port too', async () => {
    const { url, metadata } = await serverAnsweringHttp();
    const client = connectClient(url, 'json');
    let headers: Headers | undefined;

    await client.greet(
      { First: 'budei' },
      {
        headers: { 'Phobos-Meta-Tag': 'green' },
        onHeader: (received) => {
          headers = received;
        },
      },
    );

    expect(metadata[0]?.get('tag')).toBe('green');
    expect(headers?.get('phobos-meta-echoed-tag')).toBe('green');
  });
});
