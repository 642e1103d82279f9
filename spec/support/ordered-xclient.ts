import { createServer } from 'node:net';
import {
  multipleServersDiscovery,
  type Selector,
  SerializeType,
  XClient,
  type XClientOptions,
} from '../../lib/index.js';

/** Registers a cleanup with the test (see trackHandles). */
export type Defer = (cleanup: () => unknown) => void;

/** An address where nothing listens: a port that was bound, then closed. */
export async function deadAddress(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `tcp@127.0.0.1:${port}`;
}

/** Always the first server of the list it is given (discovery order, untried first). */
export const inOrder: Selector = { select: (instances) => instances[0] };

/**
 * An XClient of HelloWorld (JSON) over `addresses`, picked in their order, so that which server
 * gets the first attempt and which the retry is known; closed by the test's cleanup.
 */
export function orderedXClient(
  defer: Defer,
  addresses: readonly string[],
  options: Omit<XClientOptions, 'discovery'>,
): XClient {
  const discovery = multipleServersDiscovery(addresses.map((address) => ({ address })));
  const client = new XClient('HelloWorld', {
    discovery,
    serializeType: SerializeType.JSON,
    selectMode: inOrder,
    ...options,
  });
  defer(() => {
    discovery.close();
    return client.close();
  });
  return client;
}
