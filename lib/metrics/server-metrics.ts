import type { Subscription } from 'rxjs';
import type { CallFinishedEvent, CallStartedEvent, Server, ServerEvent } from '../server/index.js';
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
  readonly started: Counter.Internal;
  readonly inFlight: Gauge.Internal<string>;
  readonly handling: Histogram.Internal<string>;
  readonly received: Histogram.Internal<string>;
  readonly sent: Histogram.Internal<string>;
  readonly handled: Map<string, Counter.Internal>;
  readonly goProcessed: Counter.Internal | undefined;
  readonly goDuration: Histogram.Internal<string> | undefined;
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
  const childrenOf = (event: CallStartedEvent | CallFinishedEvent): MethodChildren => {
    const [service, method] = guard.labels(event.service, event.method, event.known);
    const key = `${service}\u0000${method}`;
    let children = byMethod.get(key);
    if (children === undefined) {
      children = {
        started: collectors.started.labels(service, method),
        inFlight: collectors.inFlight.labels(service, method),
        handling: collectors.handling.labels(service, method),
        received: collectors.received.labels(service, method),
        sent: collectors.sent.labels(service, method),
        handled: new Map(),
        goProcessed: collectors.goProcessed?.labels(service, method),
        goDuration: collectors.goDuration?.labels(service, method),
      };
      byMethod.set(key, children);
    }
    return children;
  };
  const count = (event: ServerEvent): void => {
    switch (event.type) {
      case 'call-started': {
        const children = childrenOf(event);
        children.started.inc();
        children.inFlight.inc();
        children.received.observe(event.requestBytes);
        return;
      }
      case 'call-finished': {
        const children = childrenOf(event);
        children.inFlight.dec();
        let handled = children.handled.get(event.code);
        if (handled === undefined) {
          const [service, method] = guard.labels(event.service, event.method, event.known);
          handled = collectors.handled.labels(service, method, event.code);
          children.handled.set(event.code, handled);
        }
        handled.inc();
        const seconds = event.durationMs / 1_000;
        children.handling.observe(seconds);
        if (event.replyBytes > 0 || event.code === 'OK') children.sent.observe(event.replyBytes);
        children.goProcessed?.inc();
        children.goDuration?.observe(seconds);
        return;
      }
      case 'connection-opened':
        collectors.connections.inc();
        collectors.accepted.inc();
        collectors.goAccepted?.inc();
        return;
      case 'connection-closed':
        collectors.connections.dec();
        return;
      case 'protocol-error':
        collectors.protocolErrors.labels(event.reason).inc();
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
  readonly started: Counter<string>;
  readonly handled: Counter<string>;
  readonly handling: Histogram<string>;
  readonly received: Histogram<string>;
  readonly sent: Histogram<string>;
  readonly inFlight: Gauge<string>;
  readonly connections: Gauge<string>;
  readonly accepted: Counter<string>;
  readonly protocolErrors: Counter<string>;
  readonly goAccepted: Counter<string> | undefined;
  readonly goProcessed: Counter<string> | undefined;
  readonly goDuration: Histogram<string> | undefined;
}

function serverCollectors(o: ResolvedMetricsOptions): ServerCollectors {
  const p = `${o.prefix}server_`;
  const call = ['service', 'method'];
  const { registry } = o;
  return {
    started: shared(registry, Counter, {
      name: `${p}started_total`,
      help: 'Calls the server started.',
      labelNames: call,
    }),
    handled: shared(registry, Counter, {
      name: `${p}handled_total`,
      help: 'Calls the server finished, by outcome code (OK or the error code).',
      labelNames: [...call, 'code'],
    }),
    handling: shared(registry, Histogram, {
      name: `${p}handling_seconds`,
      help: 'Time from taking a call to its reply, in seconds.',
      labelNames: call,
      buckets: o.durationBuckets,
    }),
    received: shared(registry, Histogram, {
      name: `${p}msg_received_bytes`,
      help: 'Payload bytes of the requests received.',
      labelNames: call,
      buckets: o.sizeBuckets,
    }),
    sent: shared(registry, Histogram, {
      name: `${p}msg_sent_bytes`,
      help: 'Payload bytes of the replies sent.',
      labelNames: call,
      buckets: o.sizeBuckets,
    }),
    inFlight: shared(registry, Gauge, {
      name: `${p}in_flight`,
      help: 'Calls being served now.',
      labelNames: call,
    }),
    connections: shared(registry, Gauge, {
      name: `${p}connections`,
      help: 'Client connections open now.',
      labelNames: [],
    }),
    accepted: shared(registry, Counter, {
      name: `${p}connections_accepted_total`,
      help: 'Client connections accepted.',
      labelNames: [],
    }),
    protocolErrors: shared(registry, Counter, {
      name: `${p}protocol_errors_total`,
      help: 'Peers that broke the protocol or a limit, by reason.',
      labelNames: ['reason'],
    }),
    goAccepted: o.goPhobosNames
      ? shared(registry, Counter, {
          name: 'accepted_connections_total',
          help: 'Client connections accepted (the Go Phobos name).',
          labelNames: [],
        })
      : undefined,
    goProcessed: o.goPhobosNames
      ? shared(registry, Counter, {
          name: 'processed_requests_total',
          help: 'Requests processed (the Go Phobos name).',
          labelNames: call,
        })
      : undefined,
    goDuration: o.goPhobosNames
      ? shared(registry, Histogram, {
          name: 'request_duration_seconds',
          help: 'Request duration in seconds (the Go Phobos name).',
          labelNames: call,
          buckets: o.durationBuckets,
        })
      : undefined,
  };
}
