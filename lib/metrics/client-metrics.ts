import { Observable, type Subscription } from 'rxjs';
import type { Client } from '../client/client.js';
import type { ClientInterceptor, Reply } from '../client/index.js';
import type { XClient } from '../client/xclient.js';
import { RpcError, ServiceError } from '../errors/index.js';
import { describeValue } from '../util/validate.js';
import {
  BoundCounter,
  BoundGauge,
  type BoundHistogram,
  BoundHistogramMetric,
  type BoundValue,
  sharedMetric,
} from './bound-metrics.js';
import {
  LabelGuard,
  type MetricsOptions,
  type ResolvedMetricsOptions,
  resolveMetricsOptions,
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
  readonly started: BoundValue;
  readonly inFlight: BoundValue;
  readonly handling: BoundHistogram;
  readonly sent: BoundHistogram;
  readonly received: BoundHistogram;
  readonly handled: Map<string, BoundValue>;
  readonly attempts: Map<string, BoundValue>;
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
  // Names seen before find their children in two lookups, no string built; at most
  // maxLabelValues of them are remembered this way.
  const seen = new Map<string, Map<string, MethodChildren>>();
  let seenCount = 0;
  const childrenOf = (service: string, method: string): MethodChildren => {
    const fast = seen.get(service)?.get(method);
    if (fast) return fast;
    const made = labelledChildren(service, method);
    if (seenCount < o.maxLabelValues) {
      let methods = seen.get(service);
      if (methods === undefined) {
        methods = new Map();
        seen.set(service, methods);
      }
      methods.set(method, made);
      seenCount++;
    }
    return made;
  };
  const labelledChildren = (service: string, method: string): MethodChildren => {
    const [s, m] = guard.labels(service, method);
    const key = `${s}\u0000${m}`;
    let children = byMethod.get(key);
    if (children === undefined) {
      children = {
        started: collectors.started.bind(s, m),
        inFlight: collectors.inFlight.bind(s, m),
        handling: collectors.handling.bind(s, m),
        sent: collectors.sent.bind(s, m),
        received: collectors.received.bind(s, m),
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
        children.inFlight.value--;
        let handled = children.handled.get(code);
        if (handled === undefined) {
          handled = collectors.handled.bind(children.service, children.method, code);
          children.handled.set(code, handled);
        }
        handled.value++;
        children.handling.observe((performance.now() - startedAt) / 1_000);
        if (reply?.sentBytes !== undefined) children.sent.observe(reply.sentBytes);
        if (reply?.receivedBytes !== undefined) children.received.observe(reply.receivedBytes);
      };
      children.started.value++;
      children.inFlight.value++;
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
      attempts = collectors.attempts.bind(children.service, children.method, outcome);
      children.attempts.set(outcome, attempts);
    }
    attempts.value++;
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
          collectors.transitions.bind(service, event.instance, event.to).value++;
          return;
        case 'retry-budget-exhausted':
          collectors.budgetExhausted.bind(service).value++;
          return;
        case 'heartbeat':
          collectors.heartbeat.bind(service).observe(event.rttMs / 1_000);
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
 * service error is its reason (`NOT_FOUND`, `INVALID_ARGUMENT`) or `UNKNOWN` (the handler
 * failed), as `phobos_server_handled_total` counts it; anything else its error code
 * (`UNAUTHENTICATED`, `RESOURCE_EXHAUSTED`...: the server counts those under the same names).
 */
function codeOf(error: unknown): string {
  if (error instanceof ServiceError) {
    const reason = error.details.reason;
    return typeof reason === 'string' ? reason : 'UNKNOWN';
  }
  return RpcError.from(error).code;
}

interface ClientCollectors {
  readonly started: BoundCounter;
  readonly handled: BoundCounter;
  readonly handling: BoundHistogramMetric;
  readonly sent: BoundHistogramMetric;
  readonly received: BoundHistogramMetric;
  readonly inFlight: BoundGauge;
  readonly attempts: BoundCounter;
  readonly budgetExhausted: BoundCounter;
  readonly transitions: BoundCounter;
  readonly heartbeat: BoundHistogramMetric;
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
  const counter = (name: string, help: string, labels: readonly string[]): BoundCounter =>
    sharedMetric(registry, new BoundCounter(name, help, labels));
  const histogram = (name: string, help: string, labels: readonly string[], buckets: readonly number[]) =>
    sharedMetric(registry, new BoundHistogramMetric(name, help, labels, buckets));
  /** A gauge whose series are filled from the tracked XClients when scraped. */
  const stateGauge = (
    name: string,
    help: string,
    labels: readonly string[],
    fill: (gauge: BoundGauge) => void,
  ) => {
    const gauge = sharedMetric(registry, new BoundGauge(name, help, labels));
    gauge.collect = () => {
      gauge.reset();
      fill(gauge);
    };
  };
  const collectors: ClientCollectors = {
    started: counter(`${p}started_total`, 'Calls started.', call),
    handled: counter(`${p}handled_total`, 'Calls finished, by outcome code (OK or the error code).', [
      ...call,
      'code',
    ]),
    handling: histogram(
      `${p}handling_seconds`,
      'Time from starting a call to its outcome, retries included, in seconds.',
      call,
      o.durationBuckets,
    ),
    sent: histogram(
      `${p}msg_sent_bytes`,
      'Payload bytes of the requests of answered calls.',
      call,
      o.sizeBuckets,
    ),
    received: histogram(
      `${p}msg_received_bytes`,
      'Payload bytes of the replies received.',
      call,
      o.sizeBuckets,
    ),
    inFlight: sharedMetric(registry, new BoundGauge(`${p}in_flight`, 'Calls in flight now.', call)),
    attempts: counter(
      `${p}attempts_total`,
      'Requests sent to servers, by whether each was the first, a retry or a backup.',
      [...call, 'outcome'],
    ),
    budgetExhausted: counter(
      `${p}retry_budget_exhausted_total`,
      'Retries not made because the retry budget was spent.',
      ['service'],
    ),
    transitions: counter(
      `${p}breaker_transitions_total`,
      'Circuit breaker state changes, by the state entered.',
      ['service', 'instance', 'to'],
    ),
    heartbeat: histogram(
      `${p}heartbeat_rtt_seconds`,
      'Heartbeat round trips, in seconds.',
      ['service'],
      o.durationBuckets,
    ),
    tracked,
  };
  stateGauge(
    `${p}breaker_state`,
    'Circuit breaker state of each server: 0 closed, 1 half-open, 2 open.',
    ['service', 'instance'],
    (gauge) => {
      for (const client of tracked)
        for (const server of client.instanceStates())
          gauge.bind(client.service, server.key).value = BREAKER_VALUE[server.breaker];
    },
  );
  stateGauge(
    `${p}instances`,
    'Servers of each service: what discovery gives, and how many calls may go to now.',
    ['service', 'state'],
    (gauge) => {
      for (const client of tracked) {
        const servers = client.instanceStates();
        gauge.bind(client.service, 'discovered').value += servers.length;
        gauge.bind(client.service, 'usable').value += servers.filter((server) => server.usable).length;
      }
    },
  );
  stateGauge(`${p}connections`, 'Open connections to the servers of each service.', ['service'], (gauge) => {
    for (const client of tracked)
      gauge.bind(client.service).value += client.instanceStates().filter((server) => server.connected).length;
  });
  byPrefix.set(o.prefix, collectors);
  return collectors;
}
