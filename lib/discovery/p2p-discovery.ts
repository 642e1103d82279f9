import { of } from 'rxjs';
import { createInstance } from './create-instance.js';
import type { Discovery } from './discovery.js';

/**
 * Discovery of one fixed server, for a client that talks to a known address (Go's
 * `NewPeer2PeerDiscovery('tcp@' + addr, '')`). `instances$` emits a one-instance list, keyed by
 * the address as given, to each subscriber, then completes: the list never changes. `describe()`
 * names the address.
 *
 * @param address - `tcp@host:port`, `unix@/path` or `host:port`.
 * @param metadata - the server's metadata in query format (`weight=10&group=a`). Default: none.
 * @throws TypeError when `address` or `metadata` is not a string; RangeError when the address
 *   does not parse or the metadata holds a malformed percent-escape. Both at creation.
 * @example
 * ```ts
 * const discovery = p2pDiscovery('tcp@127.0.0.1:8972');
 * const client = new XClient('HelloWorld', { discovery });
 * ```
 * @group Discovery
 */
export function p2pDiscovery(address: string, metadata = ''): Discovery {
  const list = Object.freeze([
    createInstance('p2pDiscovery address', address, 'p2pDiscovery metadata', metadata),
  ]);
  return Object.freeze({
    instances$: of(list),
    describe: () => ({ source: `p2pDiscovery of ${address}` }),
  });
}
