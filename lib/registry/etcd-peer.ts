import { createRequire } from 'node:module';
import type * as Cockatiel from 'cockatiel';
import type * as Etcd3 from 'etcd3';
import { optionalPeer } from '../util/optional-peer.js';

/** @internal The packages `phobos/etcd` runs on. */
export interface EtcdPeers {
  readonly etcd3: typeof Etcd3;
  /** The fault-handling library etcd3 takes its policies from: etcd3's own copy. */
  readonly cockatiel: typeof Cockatiel;
}

/**
 * @internal `etcd3` (an optional peer dependency: the error names it when missing) and the
 * `cockatiel` it depends on, required from etcd3's own location, so that the policies handed to
 * etcd3 come from the copy it was built against and users install one package, not two.
 */
export const etcdPeers: EtcdPeers = loadEtcdPeers();

function loadEtcdPeers(): EtcdPeers {
  const etcd3 = optionalPeer<typeof Etcd3>('etcd3', 'phobos/etcd', 'etcd3');
  const besideEtcd3 = createRequire(createRequire(import.meta.url).resolve('etcd3'));
  return { etcd3, cockatiel: besideEtcd3('cockatiel') as typeof Cockatiel };
}
