import fc from 'fast-check';
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type CallContext, RpcError, SerializeType, type ServerInterceptor } from '../../lib/index.js';
import { trackHandles } from '../support/handles.js';
import { type Delivery, deliver, delivery, hostileValue } from '../support/hostile-values.js';
import { startClient, startServer } from '../support/servers.js';

const { defer } = trackHandles();

/** What the Hostile service does next; set by each property run. */
let next: { how: Delivery; value: unknown } = { how: 'return', value: 1 };

const hostile = {
  Run(_args: unknown, _ctx: CallContext): unknown {
    return deliver(next.how, next.value);
  },
};

const echo = {
  Say(args: unknown): unknown {
    return args;
  },
};

/** Settles a call into what the caller saw: a reply, or the code of the error. */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'reply';
  } catch (error) {
    return error instanceof RpcError ? error.code : `not an RpcError: ${String(error)}`;
  }
}

async function serveHostile(interceptors: readonly ServerInterceptor[]) {
  const { address, server } = await startServer(defer, (s) => {
    for (const interceptor of interceptors) s.use(interceptor);
    s.register('Hostile', hostile).register('Echo', echo);
  });
  return { address, server };
}

const passThrough: ServerInterceptor = (handler) => (call) => handler(call).pipe(map((value) => value));

describe('hostile handlers', () => {
  for (const [label, interceptors] of [
    ['called directly', []],
    ['behind an interceptor', [passThrough]],
  ] as const) {
    for (const serializeType of [SerializeType.JSON, SerializeType.MsgPack]) {
      it(`any value thrown, rejected, returned or emitted gets a reply or an error reply, and the server goes on (${label}, serialize type ${serializeType})`, async () => {
        const { address, server } = await serveHostile(interceptors);
        const client = startClient(defer, address, { serializeType, timeoutMs: 2_000 });
        await fc.assert(
          fc.asyncProperty(delivery, hostileValue, async (how, recipe) => {
            next = { how, value: recipe.make() };
            // A handler that never answers is ended by its deadline.
            const timeoutMs = how === 'teardown-throws' ? 20 : 2_000;
            const seen = await outcome(client.call('Hostile', 'Run', { n: 1 }, { timeoutMs }));
            // CODEC_ERROR: a reply was sent that this client's codec cannot read back (MsgPack
            // writes a Map with object keys; the Go-compatible reader takes string keys only).
            expect(['reply', 'SERVICE_ERROR', 'DEADLINE_EXCEEDED', 'CODEC_ERROR']).toContain(seen);
            expect(await client.call('Echo', 'Say', 'still here')).toBe('still here');
          }),
          { numRuns: 150 },
        );
        expect(server.connectionCount).toBe(1);
      });
    }
  }

  it('an error reply carries what can be said of the value, and a fixed text where nothing can', async () => {
    const { address } = await serveHostile([]);
    const client = startClient(defer, address, { serializeType: SerializeType.JSON });
    const messageOf = async (how: Delivery, value: unknown): Promise<string> => {
      next = { how, value };
      const error = await client.call('Hostile', 'Run').catch((e: unknown) => e);
      return error instanceof RpcError ? error.message : 'no error';
    };
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(await messageOf('throw', proxy)).toMatch(/cannot be described/);
    expect(await messageOf('reject', new Error('plain'))).toBe('plain');
    expect(await messageOf('throw', { code: 7 })).toBe('non-error value thrown: {"code":7}');
    expect(await messageOf('throw', () => 'source code')).toBe('non-error value thrown: a function');
    const long = await messageOf('throw', new Error('x'.repeat(100_000)));
    expect(long).toMatch(/^x{8192}\.\.\. \(91808 more characters cut\)$/);
    expect(await messageOf('return', 10n)).toMatch(/cannot encode the reply/);
  });

  it('reply metadata that is not strings gets an error reply naming the problem', async () => {
    const { address } = await startServer(defer, (s) =>
      s.register('Meta', {
        Bad(_args: unknown, ctx: CallContext) {
          ctx.replyMetadata.set('count', 3 as unknown as string);
          return 'ok';
        },
      }),
    );
    const client = startClient(defer, address);
    const error = await client.call('Meta', 'Bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RpcError);
    expect((error as RpcError).message).toMatch(/cannot send the reply/);
  });
});
