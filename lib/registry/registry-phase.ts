import type { EtcdRegistryState } from './etcd-registry.js';

/**
 * What moves an etcd registry from one state to another: what its writes and its lease report,
 * and its own steps.
 *
 * @internal
 */
export type RegistryEvent =
  /** A caller's write reached etcd while something is registered. */
  | { readonly type: 'written' }
  /** A caller's write failed: every registration must be put again. */
  | { readonly type: 'failed'; readonly error: unknown }
  /** A keepalive of the lease was answered: etcd holds the keys. */
  | { readonly type: 'answered' }
  /** A keepalive failed; the lease keeps trying while its TTL lasts. */
  | { readonly type: 'unanswered'; readonly error: unknown }
  /** The lease ended (lost, or silent too long): every registration must move to a new one. */
  | { readonly type: 'lost'; readonly error: unknown }
  /** The repair ended: `restored` when etcd holds every registration again, else nothing is left. */
  | { readonly type: 'repaired'; readonly restored: boolean }
  /** Nothing is registered or being written: the lease and the connection are let go. */
  | { readonly type: 'released' }
  | { readonly type: 'closed' };

/**
 * Where an etcd registry stands: its public state, whether it is putting every registration
 * again after a failure, and (while `unreachable`) why.
 *
 * @internal
 */
export interface RegistryPhase {
  readonly state: EtcdRegistryState;
  readonly repairing: boolean;
  readonly error?: unknown;
}

/** @internal Where a registry starts: nothing registered. */
export const IDLE_PHASE: RegistryPhase = Object.freeze({ state: 'idle', repairing: false });

/**
 * The phase after `event`. While a repair runs only its end makes the registry `registered`
 * (a write or a keepalive that succeeds meanwhile may be on a lease about to be replaced); a
 * keepalive answered after an outage does, when no repair runs. Nothing moves a closed registry.
 *
 * @internal
 */
export function nextPhase(phase: RegistryPhase, event: RegistryEvent): RegistryPhase {
  if (phase.state === 'closed') return phase;
  switch (event.type) {
    case 'written':
      return phase.repairing ? phase : { state: 'registered', repairing: false };
    case 'answered':
      return phase.repairing || phase.state !== 'unreachable'
        ? phase
        : { state: 'registered', repairing: false };
    case 'unanswered':
      return { state: 'unreachable', repairing: phase.repairing, error: event.error };
    case 'failed':
    case 'lost':
      return { state: 'unreachable', repairing: true, error: event.error };
    case 'repaired':
      return event.restored ? { state: 'registered', repairing: false } : { ...phase, repairing: false };
    case 'released':
      return IDLE_PHASE;
    case 'closed':
      return { state: 'closed', repairing: false };
  }
}
