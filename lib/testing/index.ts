/**
 * Helpers for testing your own services: a server on a free loopback port
 * ({@link startTestServer}), and an in-memory network ({@link MemoryNetwork}) that runs servers
 * and clients in one process, without sockets, in virtual time when given a `TestScheduler`.
 *
 * @module phobos/testing
 */
import { Client } from '../client/client.js';
import type { ConnectOptions } from '../client/connect-options.js';
import { Server } from '../server/server.js';
import type { ServerOptions } from '../server/server-options.js';
import { silentLogger } from '../util/logger.js';

export type { MemoryNetworkOptions } from './memory-network.js';
export { MemoryNetwork } from './memory-network.js';

/**
 * A server on a free loopback port, for tests.
 *
 * @group Testing
 */
export interface TestServer {
  /** The running server. */
  readonly server: Server;
  /** Its bound address, `tcp@127.0.0.1:<port>`. */
  readonly address: string;
  /** A new client for it; `close()` closes it too. */
  client(options?: ConnectOptions): Client;
  /** Closes every client made here, then shuts the server down (no grace). */
  close(): Promise<void>;
}

/**
 * Starts a server with the given services on `127.0.0.1` and a free port, with a silent logger,
 * for a test of your own services over a real socket.
 *
 * @param services - implementations by service name.
 * @throws like `Server.register` for a bad service, and like `new Server` for bad options.
 * @example
 * ```ts
 * const test = await startTestServer({ Arith: new Arith() });
 * const client = test.client({ serializeType: SerializeType.JSON });
 * expect(await client.call('Arith', 'Mul', { A: 2, B: 3 })).toEqual({ C: 6 });
 * await test.close();
 * ```
 * @group Testing
 */
export async function startTestServer(
  services: Readonly<Record<string, object>>,
  options: ServerOptions = {},
): Promise<TestServer> {
  const server = new Server({ logger: silentLogger, ...options });
  for (const [name, implementation] of Object.entries(services)) server.register(name, implementation);
  const address = await server.listen('tcp@127.0.0.1:0');
  const clients: Client[] = [];
  return {
    server,
    address,
    client(clientOptions) {
      const client = new Client(address, clientOptions);
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()));
      await server.shutdown({ graceMs: 0 });
    },
  };
}
