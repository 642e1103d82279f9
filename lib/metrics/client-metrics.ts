import { Observable, type Subscription } from 'rxjs';
import type { Client } from '../client/client.js';
import type { ClientInterceptor, Reply } from '../client/index.js';
import type { XClient } from '../client/xclient.js';
import { RpcError, ServiceError } from '../errors/index.js';
import { describeValue } from '../util/validate.js';
import {
  Counter,
  Gauge,
  Histogram,
  LabelGuard,
  type MetricsOptions,
  type ResolvedMetricsOptions,
  resolveMetricsOptions,
  shared,
} from './metrics-options.js';

/**
 * What {@link clientMetrics} installed: `stop()` stops the gauges reading this client (its
 * interceptors stay, counting into metrics nobody else changes).
 *
 * @example
 * ```ts
 * const metrics = clientMetrics(client);
 * metrics.stop();
 * ```
 */
export interface ClientMetrics {
  /** Stops reading this client's events and state. Idempotent. */
  stop(): void;
}

/** Breaker states as gauge values. */
const BREAKER_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;

/** The children of one service/method pair, bound once. */
interface MethodChildren {
  readonly started: Counter.Internal;
  readonly inFlight: Gauge.Internal<string>;
  readonly handling: Histogram.Internal<string>;
  readonly sent: Histogram.Internal<string>;
  readonly received: Histogram.Internal<string>;
  readonly handled: Map<string, Counter.Internal>;
  readonly attempts: Map<string, Counter.Internal>;
  readonly service: string;
  readonly method: string;
}

/**
 * Counts the calls of a `Client` or an `XClient` into Prometheus metrics, through interceptors
 * (the call stage for the per-method set, the attempt stage for attempts) and, for an XClient,
 * its `events$` and `instanceStates()` (read when Prometheus scrapes):
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `phobos_client_started_total` | counter | service, method |
 * | `phobos_client_handled_total` | counter | service, method, code |
 * | `phobos_client_handling_seconds` | histogram | service, method |
 * | `phobos_client_msg_sent_bytes` / `_msg_received_bytes` | histogram | service, method |
 * | `phobos_client_in_flight` | gauge | service, method |
 * | `phobos_client_attempts_total` | counter | service, method, outcome (`first`, `retry`, `backup`) |
 * | `phobos_client_retry_budget_exhausted_total` | counter | service |
 * | `phobos_client_breaker_state` | gauge (0 closed, 1 half-open, 2 open) | service, instance |
 * | `phobos_client_breaker_transitions_total` | counter | service, instance, to |
 * | `phobos_client_instances` | gauge | service, state (`discovered`, `usable`) |
 * | `phobos_client_connections` | gauge | service |
 * | `phobos_client_heartbeat_rtt_seconds` | histogram | service |
 *
 * `code` is `OK` or the error's code (`DEADLINE_EXCEEDED`, `UNAVAILABLE`...; a handler's failure is
 * `UNKNOWN`, or the server's reason such as `NOT_FOUND`, as the server's metrics count it). Install it before
 * other interceptors to time everything they do too.
 *
 * @throws TypeError when `client` is neither a Client nor an XClient; TypeError or RangeError for
 *   bad options (see {@link MetricsOptions}).
 * @example
 * ```ts
 * const client = new XClient('HelloWorld', { discovery });
 * clientMetrics(client);
 * ```
 */
export function clientMetrics(client: Client | XClient, options?: MetricsOptions): ClientMetrics {
  if (typeof (client as Partial<Client> | null)?.use !== 'function')
    throw new TypeError(`clientMetrics needs a phobos Client or XClient, got ${describeValue(client)}`);
  const o = resolveMetricsOptions(options);
  const collectors = clientCollectors(o);
  const guard = new LabelGuard(o);
  const byMethod = new Map<string, MethodChildren>();
  const childrenOf = (service: string, method: string): MethodChildren => {
    const [s, m] = guard.labels(service, method);
    const key = `${s}\u0000${m}`;
    let children = byMethod.get(key);
    if (children === undefined) {
      children = {
        started: collectors.started.labels(s, m),
        inFlight: collectors.inFlight.labels(s, m),
        handling: collectors.handling.labels(s, m),
        sent: collectors.sent.labels(s, m),
        received: collectors.received.labels(s, m),
        handled: new Map(),
        attempts: new Map(),
        service: s,
        method: m,
      };
      byMethod.set(key, children);
    }
    return children;
  };
  const onCall: ClientInterceptor = (next) => (call) =>
    new Observable<Reply<unknown>>((subscriber) => {
      const children = childrenOf(call.service, call.method);
      const startedAt = performance.now();
      let ended = false;
      const end = (code: string, reply: Reply<unknown> | undefined): void => {
        if (ended) return;
        ended = true;
        children.inFlight.dec();
        let handled = children.handled.get(code);
        if (handled === undefined) {
          handled = collectors.handled.labels(children.service, children.method, code);
          children.handled.set(code, handled);
        }
        handled.inc();
        children.handling.observe((performance.now() - startedAt) / 1_000);
        if (reply?.sentBytes !== undefined) children.sent.observe(reply.sentBytes);
        if (reply?.receivedBytes !== undefined) children.received.observe(reply.receivedBytes);
      };
      children.started.inc();
      children.inFlight.inc();
      const subscription = next(call).subscribe({
        next: (reply) => {
          end('OK', reply);
          subscriber.next(reply);
        },
        error: (error: unknown) => {
          end(codeOf(error), undefined);
          subscriber.error(error);
        },
        complete: () => {
          end('OK', undefined);
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        end('CANCELLED', undefined);
      };
    });
  const onAttempt: ClientInterceptor = (next) => (call) => {
    const children = childrenOf(call.service, call.method);
    const outcome = call.attempt ?? 'first';
    let attempts = children.attempts.get(outcome);
    if (attempts === undefined) {
      attempts = collectors.attempts.labels(children.service, children.method, outcome);
      children.attempts.set(outcome, attempts);
    }
    attempts.inc();
    return next(call);
  };
  client.use(onCall);
  client.use(onAttempt, { stage: 'attempt' });
  const x = client as Partial<XClient>;
  if (typeof x.instanceStates !== 'function' || x.events$ === undefined || typeof x.service !== 'string')
    return { stop: () => {} };
  const xclient = client as XClient;
  collectors.tracked.add(xclient);
  const service = xclient.service;
  const watch: Subscription = xclient.events$.subscribe({
    next: (event) => {
      switch (event.type) {
        case 'breaker':
          collectors.transitions.labels(service, event.instance, event.to).inc();
          return;
        case 'retry-budget-exhausted':
          collectors.budgetExhausted.labels(service).inc();
          return;
        case 'heartbeat':
          collectors.heartbeat.labels(service).observe(event.rttMs / 1_000);
          return;
      }
    },
    complete: () => collectors.tracked.delete(xclient),
  });
  return {
    stop() {
      watch.unsubscribe();
      collectors.tracked.delete(xclient);
    },
  };
}

/**
 * The code a failed call is counted under, in the server's words where the server said why: a
 * service error is its reason (`NOT_FOUND`, `INVALID_ARGUMENT`, `UNAUTHENTICATED`) or `UNKNOWN`
 * (the handler failed), as `phobos_server_handled_total` counts it; anything else its error code.
 */
function codeOf(error: unknown): string {
  if (error instanceof ServiceError) {
    const reason = error.details.reason;
    return typeof reason === 'string' ? reason : 'UNKNOWN';
  }
  return RpcError.from(error).code;
}

interface ClientCollectors {
  readonly started: Counter<string>;
  readonly handled: Counter<string>;
  readonly handling: Histogram<string>;
  readonly sent: Histogram<string>;
  readonly received: Histogram<string>;
  readonly inFlight: Gauge<string>;
  readonly attempts: Counter<string>;
  readonly budgetExhausted: Counter<string>;
  readonly transitions: Counter<string>;
  readonly heartbeat: Histogram<string>;
  /** The XClients whose state the gauges read at scrape time. */
  readonly tracked: Set<XClient>;
}

/** Collectors by registry and prefix: the gauges read every XClient tracked there. */
const made = new WeakMap<object, Map<string, ClientCollectors>>();

function clientCollectors(o: ResolvedMetricsOptions): ClientCollectors {
  const { registry } = o;
  let byPrefix = made.get(registry);
  if (byPrefix === undefined) {
    byPrefix = new Map();
    made.set(registry, byPrefix);
  }
  const known = byPrefix.get(o.prefix);
  if (known) return known;
  const p = `${o.prefix}client_`;
  const call = ['service', 'method'];
  const tracked = new Set<XClient>();
  const collectors: ClientCollectors = {
    started: shared(registry, Counter, {
      name: `${p}started_total`,
      help: 'Calls started.',
      labelNames: call,
    }),
    handled: shared(registry, Counter, {
      name: `${p}handled_total`,
      help: 'Calls finished, by outcome code (OK or the error code).',
      labelNames: [...call, 'code'],
    }),
    handling: shared(registry, Histogram, {
      name: `${p}handling_seconds`,
      help: 'Time from starting a call to its outcome, retries included, in seconds.',
      labelNames: call,
      buckets: o.durationBuckets,
    }),
    sent: shared(registry, Histogram, {
      name: `${p}msg_sent_bytes`,
      help: 'Payload bytes of the requests of answered calls.',
      labelNames: call,
      buckets: o.sizeBuckets,
    }),
    received: shared(registry, Histogram, {
      name: `${p}msg_received_bytes`,
      help: 'Payload bytes of the replies received.',
      labelNames: call,
      buckets: o.sizeBuckets,
    }),
    inFlight: shared(registry, Gauge, {
      name: `${p}in_flight`,
      help: 'Calls in flight now.',
      labelNames: call,
    }),
    attempts: shared(registry, Counter, {
      name: `${p}attempts_total`,
      help: 'Requests sent to servers, by whether each was the first, a retry or a backup.',
      labelNames: [...call, 'outcome'],
    }),
    budgetExhausted: shared(registry, Counter, {
      name: `${p}retry_budget_exhausted_total`,
      help: 'Retries not made because the retry budget was spent.',
      labelNames: ['service'],
    }),
    transitions: shared(registry, Counter, {
      name: `${p}breaker_transitions_total`,
      help: 'Circuit breaker state changes, by the state entered.',
      labelNames: ['service', 'instance', 'to'],
    }),
    heartbeat: shared(registry, Histogram, {
      name: `${p}heartbeat_rtt_seconds`,
      help: 'Heartbeat round trips, in seconds.',
      labelNames: ['service'],
      buckets: o.durationBuckets,
    }),
    tracked,
  };
  shared(registry, Gauge, {
    name: `${p}breaker_state`,
    help: 'Circuit breaker state of each server: 0 closed, 1 half-open, 2 open.',
    labelNames: ['service', 'instance'],
    collect(this: Gauge<string>) {
      this.reset();
      for (const client of tracked)
        for (const server of client.instanceStates())
          this.labels(client.service, server.key).set(BREAKER_VALUE[server.breaker]);
    },
  } as never);
  shared(registry, Gauge, {
    name: `${p}instances`,
    help: 'Servers of each service: what discovery gives, and how many calls may go to now.',
    labelNames: ['service', 'state'],
    collect(this: Gauge<string>) {
      this.reset();
      for (const client of tracked) {
        const servers = client.instanceStates();
        this.labels(client.service, 'discovered').inc(servers.length);
        this.labels(client.service, 'usable').inc(servers.filter((server) => server.usable).length);
      }
    },
  } as never);
  shared(registry, Gauge, {
    name: `${p}connections`,
    help: 'Open connections to the servers of each service.',
    labelNames: ['service'],
    collect(this: Gauge<string>) {
      this.reset();
      for (const client of tracked)
        this.labels(client.service).inc(client.instanceStates().filter((server) => server.connected).length);
    },
  } as never);
  byPrefix.set(o.prefix, collectors);
  return collectors;
}
