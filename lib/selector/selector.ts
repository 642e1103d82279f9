import type { ServiceInstance } from '../discovery/service-instance.js';

/**
 * What a selector may know about the call it picks a server for.
 *
 * @example
 * ```ts
 * const call: CallInfo = { service: 'Arith', method: 'Mul', args: { A: 1, B: 2 } };
 * ```
 * @group Governance
 */
export interface CallInfo {
  /** The service name. */
  readonly service: string;
  /** The method name. */
  readonly method: string;
  /** The call's arguments (not yet encoded). */
  readonly args: unknown;
  /** The call's metadata, if any. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Picks one instance for a call: a pure state machine with no I/O and no timers. It may keep
 * state between picks (a round-robin position, smooth weights, latencies).
 *
 * `select` returns `undefined` only for an empty list. The list it is given is already
 * filtered (active, in the group, circuit not open); a selector never reorders or mutates it.
 *
 * @example
 * ```ts
 * const first: Selector = { select: (instances) => instances[0] };
 * ```
 * @group Governance
 */
export interface Selector {
  /** Picks an instance from a non-empty list; `undefined` for an empty one. */
  select(instances: readonly ServiceInstance[], call: CallInfo): ServiceInstance | undefined;
  /**
   * Told how long a call or a heartbeat to an instance took (ms), for latency-aware selectors.
   * Others ignore it.
   */
  observeLatency?(key: string, latencyMs: number): void;
  /** Told that an instance left discovery, so the selector can drop its state. */
  forget?(key: string): void;
}
