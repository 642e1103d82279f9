/**
 * Where a server publishes its services so that clients discover them (an in-memory registry,
 * etcd...). The server registers every service under its bound address when it listens (and any
 * service registered later), and unregisters them first thing on shutdown.
 *
 * `metadata` is in URL query format (`weight=10&group=a`). A rejected promise is logged and
 * does not stop the server.
 *
 * @example
 * ```ts
 * const registry = memoryRegistry();
 * const server = new Server({ registries: [registry] });
 * ```
 * @group Registry
 */
export interface ServiceRegistry {
  /** Publishes one service at one address. */
  register(service: string, address: string, metadata: string): void | Promise<void>;
  /** Withdraws one service at one address. */
  unregister(service: string, address: string): void | Promise<void>;
}
