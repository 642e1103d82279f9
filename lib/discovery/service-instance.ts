/**
 * One server of a service, as discovery reports it.
 *
 * @example
 * ```ts
 * const instance: ServiceInstance = {
 *   key: 'tcp@127.0.0.1:8972',
 *   address: 'tcp@127.0.0.1:8972',
 *   metadata: { weight: '10', group: 'a' },
 * };
 * ```
 * @group Discovery
 */
export interface ServiceInstance {
  /** Identifies the instance in a list (its address as registered, `tcp@127.0.0.1:8972`). */
  readonly key: string;
  /** The address to dial (`tcp@host:port`, `unix@/path`). */
  readonly address: string;
  /**
   * What the server registered (URL query format in registries, as Go Phobos and rpcx):
   * `weight`, `group` (comma-separated), `state` (`inactive` removes it from selection),
   * `latitude`, `longitude`, and anything else.
   */
  readonly metadata: Readonly<Record<string, string>>;
}
