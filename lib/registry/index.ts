/**
 * Service registration and discovery on etcd, with the key layout of Go Phobos and rpcx. A
 * separate entry point, so that programs that do not use etcd never load etcd3.
 *
 * @module phobos/etcd
 */
export {
  DEFAULT_ETCD_DATA_LOSS_GRACE_MS,
  DEFAULT_ETCD_RESYNC_MS,
  type EtcdDiscovery,
  type EtcdDiscoveryOptions,
  type EtcdWatchEvent,
  etcdDiscovery,
} from './etcd-discovery.js';
export {
  DEFAULT_ETCD_BASE_PATH,
  DEFAULT_ETCD_DIAL_TIMEOUT_MS,
  DEFAULT_ETCD_REQUEST_TIMEOUT_MS,
  DEFAULT_ETCD_RETRY_MAX_MS,
  type EtcdConnectionOptions,
} from './etcd-options.js';
export { EtcdPool } from './etcd-pool.js';
export {
  DEFAULT_ETCD_TTL_SECONDS,
  type EtcdRegistry,
  type EtcdRegistryOptions,
  type EtcdRegistryState,
  etcdRegistry,
} from './etcd-registry.js';
