import type { Subscription } from 'rxjs';
import type { CallFinishedEvent, CallStartedEvent, Server, ServerEvent } from '../server/index.js';
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
 * What {@link serverMetrics} installed; `stop()` stops counting (the metrics stay registered).
 *
 * @example
 * ```ts
 * const metrics = serverMetrics(server);
 * metrics.stop();
 * ```
 */
export interface ServerMetrics {
  /** Stops counting this server's events. Idempotent. */
  stop(): void;
}

/** The children of one service/method pair, bound once. */
interface MethodChildren {
  readonly started: BoundValue;
  readonly inFlight: BoundValue;
  readonly handling: BoundHistogram;
  readonly received: BoundHistogram;
  readonly sent: BoundHistogram;
  readonly handled: Map<string, BoundValue>;
  readonly goProcessed: BoundValue | undefined;
  readonly goDuration: BoundHistogram | undefined;
}

/**
 * Counts a server's calls, connections and protocol errors into Prometheus metrics, from its
 * `events$` (so calls refused before any handler runs, like unknown methods, count too):
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `phobos_server_started_total` | counter | service, method |
 * | `phobos_server_handled_total` | counter | service, method, code |
 * | `phobos_server_handling_seconds` | histogram | service, method |
 * | `phobos_server_msg_received_bytes` / `_msg_sent_bytes` | histogram | service, method |
 * | `phobos_server_in_flight` | gauge | service, method |
 * | `phobos_server_connections` | gauge | |
 * | `phobos_server_connections_accepted_total` | counter | |
 * | `phobos_server_protocol_errors_total` | counter | reason |
 *
 * A name the server has not registered is labelled `unknown`. Several servers of one process
 * share the metrics of one registry (their counts add up).
 *
 * @throws TypeError when `server` is not a phobos Server; TypeError or RangeError for bad options
 *   (see {@link MetricsOptions}), or when the registry holds one of these names as another kind.
 * @example
 * ```ts
 * import { serverMetrics, serveMetrics } from 'phobos/metrics';
 * serverMetrics(server);
 * await serveMetrics({ address: '0.0.0.0:9464' });
 * ```
 */
export function serverMetrics(server: Server, options?: MetricsOptions): ServerMetrics {
  const events$ = (server as Partial<Server> | null)?.events$;
  if (typeof events$?.subscribe !== 'function')
    throw new TypeError(`serverMetrics needs a phobos Server, got ${describeValue(server)}`);
  const o = resolveMetricsOptions(options);
  const collectors = serverCollectors(o);
  const guard = new LabelGuard(o);
  const byMethod = new Map<string, MethodChildren>();
  // Registered names (a bounded set) find their children in two lookups, no string built.
  const registered = new Map<string, Map<string, MethodChildren>>();
  const childrenOf = (event: CallStartedEvent | CallFinishedEvent): MethodChildren => {
    const fast = event.known ? registered.get(event.service)?.get(event.method) : undefined;
    if (fast) return fast;
    const made = labelledChildren(event);
    if (event.known) {
      let methods = registered.get(event.service);
      if (methods === undefined) {
        methods = new Map();
        registered.set(event.service, methods);
      }
      methods.set(event.method, made);
    }
    return made;
  };
  const labelledChildren = (event: CallStartedEvent | CallFinishedEvent): MethodChildren => {
    const [service, method] = guard.labels(event.service, event.method, event.known);
    const key = `${service}\u0000${method}`;
    let children = byMethod.get(key);
    if (children === undefined) {
      children = {
        started: collectors.started.bind(service, method),
        inFlight: collectors.inFlight.bind(service, method),
        handling: collectors.handling.bind(service, method),
        received: collectors.received.bind(service, method),
        sent: collectors.sent.bind(service, method),
        handled: new Map(),
        goProcessed: collectors.goProcessed?.bind(service, method),
        goDuration: collectors.goDuration?.bind(service, method),
      };
      byMethod.set(key, children);
    }
    return children;
  };
  const count = (event: ServerEvent): void => {
    switch (event.type) {
      case 'call-started': {
        const children = childrenOf(event);
        children.started.value++;
        children.inFlight.value++;
        children.received.observe(event.requestBytes);
        return;
      }
      case 'call-finished': {
        const children = childrenOf(event);
        children.inFlight.value--;
        let handled = children.handled.get(event.code);
        if (handled === undefined) {
          const [service, method] = guard.labels(event.service, event.method, event.known);
          handled = collectors.handled.bind(service, method, event.code);
          children.handled.set(event.code, handled);
        }
        handled.value++;
        const seconds = event.durationMs / 1_000;
        children.handling.observe(seconds);
        if (event.replyBytes > 0 || event.code === 'OK') children.sent.observe(event.replyBytes);
        if (children.goProcessed) children.goProcessed.value++;
        children.goDuration?.observe(seconds);
        return;
      }
      case 'connection-opened':
        collectors.connections.value++;
        collectors.accepted.value++;
        if (collectors.goAccepted) collectors.goAccepted.value++;
        return;
      case 'connection-closed':
        collectors.connections.value--;
        return;
      case 'protocol-error':
        collectors.protocolErrors.bind(event.reason).value++;
        return;
    }
  };
  let subscription: Subscription | undefined = events$.subscribe(count);
  return {
    stop() {
      subscription?.unsubscribe();
      subscription = undefined;
    },
  };
}

interface ServerCollectors {
  readonly started: BoundCounter;
  readonly handled: BoundCounter;
  readonly handling: BoundHistogramMetric;
  readonly received: BoundHistogramMetric;
  readonly sent: BoundHistogramMetric;
  readonly inFlight: BoundGauge;
  readonly connections: BoundValue;
  readonly accepted: BoundValue;
  readonly protocolErrors: BoundCounter;
  readonly goAccepted: BoundValue | undefined;
  readonly goProcessed: BoundCounter | undefined;
  readonly goDuration: BoundHistogramMetric | undefined;
}

function serverCollectors(o: ResolvedMetricsOptions): ServerCollectors {
  const p = `${o.prefix}server_`;
  const call = ['service', 'method'];
  const { registry } = o;
  const counter = (name: string, help: string, labels: readonly string[]): BoundCounter =>
    sharedMetric(registry, new BoundCounter(name, help, labels));
  const gauge = (name: string, help: string, labels: readonly string[]): BoundGauge =>
    sharedMetric(registry, new BoundGauge(name, help, labels));
  const histogram = (name: string, help: string, buckets: readonly number[]): BoundHistogramMetric =>
    sharedMetric(registry, new BoundHistogramMetric(name, help, call, buckets));
  return {
    started: counter(`${p}started_total`, 'Calls the server started.', call),
    handled: counter(
      `${p}handled_total`,
      'Calls the server finished, by outcome code (OK or the error code).',
      [...call, 'code'],
    ),
    handling: histogram(
      `${p}handling_seconds`,
      'Time from taking a call to its reply, in seconds.',
      o.durationBuckets,
    ),
    received: histogram(`${p}msg_received_bytes`, 'Payload bytes of the requests received.', o.sizeBuckets),
    sent: histogram(`${p}msg_sent_bytes`, 'Payload bytes of the replies sent.', o.sizeBuckets),
    inFlight: gauge(`${p}in_flight`, 'Calls being served now.', call),
    connections: gauge(`${p}connections`, 'Client connections open now.', []).bind(),
    accepted: counter(`${p}connections_accepted_total`, 'Client connections accepted.', []).bind(),
    protocolErrors: counter(
      `${p}protocol_errors_total`,
      'Peers that broke the protocol or a limit, by reason.',
      ['reason'],
    ),
    goAccepted: o.goPhobosNames
      ? counter('accepted_connections_total', 'Client connections accepted (the Go Phobos name).', []).bind()
      : undefined,
    goProcessed: o.goPhobosNames
      ? counter('processed_requests_total', 'Requests processed (the Go Phobos name).', call)
      : undefined,
    goDuration: o.goPhobosNames
      ? histogram(
          'request_duration_seconds',
          'Request duration in seconds (the Go Phobos name).',
          o.durationBuckets,
        )
      : undefined,
  };
}
