// Each public entry point's documented failure, over real loopback sockets: the error is an
// instance of the class its doc names, with that class's code.
import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  multipleServersDiscovery,
  ProtocolError,
  ResourceExhaustedError,
  type RpcErrorCode,
  type Selector,
  Server,
  type ServerEvent,
  ServiceError,
  silentLogger,
  UnauthenticatedError,
  XClient,
} from '../../lib/index.js';
import { FrameDecoder } from '../../lib/protocol/index.js';
import { blocking } from '../support/blocking.js';
import { trackHandles } from '../support/handles.js';
import { closedPort, takenPort } from '../support/ports.js';
import { replyingServer } from '../support/raw-peer.js';
import { startClient, startServer } from '../support/servers.js';
import { rejection, thrown } from '../support/thrown.js';

const { defer } = trackHandles();

/** Checks that `error` is an instance of `documented` and carries its code. */
function expectDocumented(
  error: unknown,
  documented: abstract new (...args: never[]) => Error,
  code: RpcErrorCode,
): void {
  expect(error).toBeInstanceOf(documented);
  expect((error as { code?: unknown }).code).toBe(code);
}

describe('Server - documented failures', () => {
  it('Server.listen - an address already bound rejects with ConnectionError', async () => {
    const port = await takenPort(defer);
    const server = new Server({ logger: silentLogger });
    defer(() => server.shutdown({ graceMs: 0 }));
    const error = await rejection(server.listen(`tcp@127.0.0.1:${port}`));
    expectDocumented(error, ConnectionError, 'UNAVAILABLE');
  });

  it('Server.listen - after shutdown rejects with ConnectionError', async () => {
    const server = new Server({ logger: silentLogger });
    await server.shutdown({ graceMs: 0 });
    const error = await rejection(server.listen('tcp@127.0.0.1:0'));
    expectDocumented(error, ConnectionError, 'UNAVAILABLE');
    expect((error as Error).message).toBe('the server is shut down; create a new one');
  });
});

describe('Client.call - documented failures', () => {
  it('a port nothing listens on rejects with ConnectionError', async () => {
    const client = startClient(defer, `tcp@127.0.0.1:${await closedPort()}`);
    const error = await rejection(client.call('Any', 'Thing'));
    expectDocumented(error, ConnectionError, 'UNAVAILABLE');
  });

  it('past timeoutMs rejects with DeadlineExceededError', async () => {
    const slow = blocking();
    const { address } = await startServer(defer, (s) => s.register('Slow', { Wait: slow.handler }));
    const client = startClient(defer, address);
    const error = await rejection(client.call('Slow', 'Wait', null, { timeoutMs: 20 }));
    expectDocumented(error, DeadlineExceededError, 'DEADLINE_EXCEEDED');
    expectDocumented(await slow.aborted, DeadlineExceededError, 'DEADLINE_EXCEEDED');
  });

  it('AbortController.abort() rejects with CancelledError, and the handler is aborted with one', async () => {
    const slow = blocking();
    const { address } = await startServer(defer, (s) => s.register('Slow', { Wait: slow.handler }));
    const client = startClient(defer, address);
    const controller = new AbortController();
    const call = rejection(client.call('Slow', 'Wait', null, { signal: controller.signal }));
    await slow.started;
    controller.abort();
    expectDocumented(await call, CancelledError, 'CANCELLED');
    expectDocumented(await slow.aborted, CancelledError, 'CANCELLED');
  });

  it('AbortSignal.timeout() rejects with DeadlineExceededError', async () => {
    const slow = blocking();
    const { address } = await startServer(defer, (s) => s.register('Slow', { Wait: slow.handler }));
    const client = startClient(defer, address);
    const error = await rejection(client.call('Slow', 'Wait', null, { signal: AbortSignal.timeout(20) }));
    expectDocumented(error, DeadlineExceededError, 'DEADLINE_EXCEEDED');
  });

  it('an unknown method rejects with ServiceError whose reason is NOT_FOUND', async () => {
    const { address } = await startServer(defer, (s) => s.register('Arith', { Mul: () => 0 }));
    const client = startClient(defer, address);
    const error = await rejection(client.call('Arith', 'Div'));
    expectDocumented(error, ServiceError, 'SERVICE_ERROR');
    expect((error as ServiceError).details.reason).toBe('NOT_FOUND');
  });

  it('a token authorize refuses rejects with UnauthenticatedError', async () => {
    const { address } = await startServer(defer, (s) => s.register('Vault', { Open: () => 'opened' }), {
      authorize: (token) => token === 'secret',
    });
    const client = startClient(defer, address, { auth: 'wrong' });
    const error = await rejection(client.call('Vault', 'Open'));
    expectDocumented(error, UnauthenticatedError, 'UNAUTHENTICATED');
    expect((error as Error).message).toBe('unauthorized: the __AUTH token was refused');
  });

  it('a busy server (maxConcurrentRequests running, maxQueuedRequests waiting) rejects with ResourceExhaustedError', async () => {
    const slow = blocking();
    const { address } = await startServer(
      defer,
      (s) => s.register('Slow', { Wait: slow.handler, Quick: () => 'done' }),
      { maxConcurrentRequests: 1, maxQueuedRequests: 0 },
    );
    const client = startClient(defer, address);
    const running = rejection(client.call('Slow', 'Wait'));
    await slow.started;
    const error = await rejection(client.call('Slow', 'Quick'));
    expectDocumented(error, ResourceExhaustedError, 'RESOURCE_EXHAUSTED');
    expect((error as Error).message).toMatch(/^server busy: 1 calls run \(maxConcurrentRequests 1\)/);
    await client.close();
    expect(await running).toBeInstanceOf(ConnectionClosedError);
  });

  it('a reply frame past the client limits rejects with ProtocolError naming the field', async () => {
    const { address } = await replyingServer(defer, (message, peer) =>
      peer.send({
        ...message,
        messageType: 1,
        metadata: new Map([
          ['a', '1'],
          ['b', '2'],
        ]),
      }),
    );
    const client = startClient(defer, address, { maxMetadataEntries: 1 });
    const error = await rejection(client.call('Echo', 'Say', 'hi'));
    expectDocumented(error, ProtocolError, 'PROTOCOL_ERROR');
    expect((error as ProtocolError).field).toBe('metadata');
    expect((error as ProtocolError).details.field).toBe('metadata');
  });

  it('a reply that is not a frame rejects with ConnectionClosedError caused by a ProtocolError naming the field', async () => {
    const { address } = await replyingServer(defer, (_message, peer) =>
      peer.send(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')),
    );
    const client = startClient(defer, address);
    const error = await rejection(client.call('Echo', 'Say', 'hi'));
    expectDocumented(error, ConnectionClosedError, 'CONNECTION_CLOSED');
    const cause = (error as Error).cause;
    expectDocumented(cause, ProtocolError, 'PROTOCOL_ERROR');
    expect((cause as ProtocolError).field).toBe('magic');
  });
});

describe('FrameDecoder.push - documented failure', () => {
  it('bytes that are not a frame throw ProtocolError naming the field, and so does every later push', () => {
    const decoder = new FrameDecoder();
    for (const chunk of ['GET / HTTP/1.1\r\n', 'Host: x\r\n']) {
      const error = thrown(() => decoder.push(Buffer.from(chunk)));
      expectDocumented(error, ProtocolError, 'PROTOCOL_ERROR');
      expect((error as ProtocolError).field).toBe('magic');
    }
  });
});

describe('XClient - a busy server', () => {
  it('its ResourceExhaustedError is retried by failover on another server', async () => {
    const slow = blocking();
    const { server: busyServer, address: busy } = await startServer(
      defer,
      (s) => s.register('HelloWorld', { Wait: slow.handler, Greet: () => 'busy' }),
      { maxConcurrentRequests: 1, maxQueuedRequests: 0 },
    );
    const { address: free } = await startServer(defer, (s) =>
      s.register('HelloWorld', { Greet: () => 'free' }),
    );
    const finished: ServerEvent[] = [];
    const watch = busyServer.events$.subscribe((event) => {
      if (event.type === 'call-finished') finished.push(event);
    });
    defer(() => watch.unsubscribe());
    const discovery = multipleServersDiscovery([{ address: busy }, { address: free }]);
    defer(() => discovery.close());
    // The busy server first, whenever it is offered.
    const busyFirst: Selector = {
      select: (instances) => instances.find((instance) => instance.key === busy) ?? instances[0],
    };
    const client = new XClient('HelloWorld', { discovery, selectMode: busyFirst, failMode: 'failover' });
    defer(() => client.close());
    const controller = new AbortController();
    const running = rejection(client.call('Wait', null, { signal: controller.signal }));
    await slow.started;
    await expect(client.call('Greet')).resolves.toBe('free');
    expect(finished).toEqual([expect.objectContaining({ method: 'Greet', code: 'RESOURCE_EXHAUSTED' })]);
    controller.abort();
    expectDocumented(await running, CancelledError, 'CANCELLED');
  });
});
