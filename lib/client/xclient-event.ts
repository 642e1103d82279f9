import type { BreakerState } from '../breaker/breaker.js';

/**
 * A server's circuit breaker changed state.
 *
 * @example
 * ```ts
 * const event: BreakerEvent = { type: 'breaker', instance: 'tcp@10.0.0.7:8972', from: 'closed', to: 'open' };
 * ```
 * @group Client
 */
export interface BreakerEvent {
  /** The kind of event. */
  readonly type: 'breaker';
  /** The server's key in discovery. */
  readonly instance: string;
  /** The state left. */
  readonly from: BreakerState['state'];
  /** The state entered. */
  readonly to: BreakerState['state'];
}

/**
 * A retry was not made because the retry budget was spent.
 *
 * @example
 * ```ts
 * const event: RetryBudgetExhaustedEvent = { type: 'retry-budget-exhausted' };
 * ```
 * @group Client
 */
export interface RetryBudgetExhaustedEvent {
  /** The kind of event. */
  readonly type: 'retry-budget-exhausted';
}

/**
 * A heartbeat's echo came back from a server.
 *
 * @example
 * ```ts
 * const event: HeartbeatEvent = { type: 'heartbeat', instance: 'tcp@10.0.0.7:8972', rttMs: 0.8 };
 * ```
 * @group Client
 */
export interface HeartbeatEvent {
  /** The kind of event. */
  readonly type: 'heartbeat';
  /** The server's key in discovery. */
  readonly instance: string;
  /** The round trip, in milliseconds. */
  readonly rttMs: number;
}

/**
 * What an `XClient` reports on `events$`, for metrics and logs.
 *
 * @example
 * ```ts
 * client.events$.subscribe((event) => { if (event.type === 'breaker') console.log(event.instance, event.to); });
 * ```
 * @group Client
 */
export type XClientEvent = BreakerEvent | RetryBudgetExhaustedEvent | HeartbeatEvent;

/**
 * One server an `XClient` knows, as it stands now.
 *
 * @example
 * ```ts
 * for (const server of client.instanceStates()) console.log(server.address, server.breaker, server.usable);
 * ```
 * @group Client
 */
export interface InstanceState {
  /** Its key in discovery. */
  readonly key: string;
  /** Its address. */
  readonly address: string;
  /** Its breaker's state (`closed` when the client has no breakers). */
  readonly breaker: BreakerState['state'];
  /** Whether a connection to it is open now. */
  readonly connected: boolean;
  /** Whether calls may go there now: its breaker is not open and its last dial did not fail. */
  readonly usable: boolean;
}
