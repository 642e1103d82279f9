import { lastValueFrom } from 'rxjs';
import {
  Client,
  type Connection,
  type ConnectOptions,
  connect,
  Server,
  type ServerOptions,
  silentLogger,
} from '../../lib/index.js';

/** Starts a server on a free loopback port with the given services, and a client for it. */
export async function startServer(
  defer: (cleanup: () => unknown) => void,
  setup: (server: Server) => void,
  options: ServerOptions = {},
): Promise<{ server: Server; address: string }> {
  const server = new Server({ logger: silentLogger, ...options });
  setup(server);
  const address = await server.listen('tcp@127.0.0.1:0');
  defer(() => server.shutdown({ graceMs: 0 }));
  return { server, address };
}

/** A client that the test's cleanup closes. */
export function startClient(
  defer: (cleanup: () => unknown) => void,
  address: string,
  options: ConnectOptions = {},
): Client {
  const client = new Client(address, options);
  defer(() => client.close());
  return client;
}

/** Opens a connection that stays open until the test's cleanup (connect's unsubscription) closes it. */
export function openConnection(
  defer: (cleanup: () => unknown) => void,
  address: string,
  options: ConnectOptions = {},
): Promise<Connection> {
  return new Promise((resolve, reject) => {
    let connection: Connection | undefined;
    const subscription = connect(address, options).subscribe({
      next: (value) => {
        connection = value;
        resolve(value);
      },
      error: reject,
    });
    defer(async () => {
      subscription.unsubscribe();
      if (connection) await lastValueFrom(connection.state$, { defaultValue: 'closed' as const });
    });
  });
}
