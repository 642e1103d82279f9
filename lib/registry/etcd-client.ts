import type { Etcd3 } from 'etcd3';
import type { ResolvedEtcdOptions } from './etcd-options.js';
import { etcdPeers } from './etcd-peer.js';

/** A member whose requests failed three times in a row is skipped for this long, then tried again. */
const MEMBER_PAUSE_MS = 1_000;

/** @internal One reference to a shared etcd client; `release()` once, when done with it. */
export interface EtcdHandle {
  readonly client: Etcd3;
  release(): void;
}

/**
 * A new etcd client for the hosts and timeouts of `options`; an {@link EtcdPool} makes one per
 * purpose and shares it.
 *
 * Requests fail over between members (a member that failed three times in a row is skipped for a
 * second). Each attempt, on one member, has `requestTimeoutMs` divided by the number of hosts as
 * its deadline, so a member that stopped answering costs that share before the next one is asked,
 * not the whole deadline (which matters when a lease must move before it runs out). Watch and
 * keepalive streams have no deadline.
 *
 * @internal
 */
export function createEtcdClient(options: ResolvedEtcdOptions): Etcd3 {
  const attemptMs = Math.max(1, Math.ceil(options.requestTimeoutMs / options.hosts.length));
  const { ConsecutiveBreaker, circuitBreaker, handleWhen, retry } = etcdPeers.cockatiel;
  const { isRecoverableError } = etcdPeers.etcd3;
  return new etcdPeers.etcd3.Etcd3({
    hosts: [...options.hosts],
    dialTimeout: options.dialTimeoutMs,
    // Connections of its own, closed with the client (grpc-js otherwise keeps them in a
    // process-wide pool shared with any other gRPC client of the same target).
    // Pings every 5 s (the most etcd accepts by default) while a watch or keepalive stream is
    // open, so that a member that went silent (a partition, not a closed socket) is noticed
    // within 7 s and left for another: before a lease of the default 10 s runs out.
    grpcOptions: {
      'grpc.use_local_subchannel_pool': 1,
      'grpc.keepalive_time_ms': 5_000,
      'grpc.keepalive_timeout_ms': 2_000,
    },
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + attemptMs }),
    faultHandling: {
      host: () =>
        circuitBreaker(handleWhen(isRecoverableError), {
          halfOpenAfter: MEMBER_PAUSE_MS,
          breaker: new ConsecutiveBreaker(3),
        }),
      global: retry(handleWhen(isRecoverableError), { maxAttempts: options.hosts.length }),
    },
  });
}
