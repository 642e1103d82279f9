/**
 * Prometheus metrics of servers, clients, registries and discoveries, on prom-client (an
 * optional peer dependency that only this entry point loads), and an endpoint that serves them.
 *
 * @module phobos/metrics
 */
export type { ClientMetrics } from './client-metrics.js';
export { clientMetrics } from './client-metrics.js';
export type { MetricsServer, ServeMetricsOptions } from './metrics-http.js';
export {
  DEFAULT_METRICS_HEADERS_TIMEOUT_MS,
  DEFAULT_METRICS_MAX_CONNECTIONS,
  DEFAULT_METRICS_PATH,
  DEFAULT_METRICS_REQUEST_TIMEOUT_MS,
  metricsHandler,
  serveMetrics,
} from './metrics-http.js';
export type { MetricsOptions } from './metrics-options.js';
export {
  DEFAULT_DURATION_BUCKETS,
  DEFAULT_MAX_LABEL_VALUES,
  DEFAULT_SIZE_BUCKETS,
  UNKNOWN_LABEL,
} from './metrics-options.js';
export type { WatchMetrics } from './registry-metrics.js';
export { discoveryMetrics, registryMetrics } from './registry-metrics.js';
export type { ServerMetrics } from './server-metrics.js';
export { serverMetrics } from './server-metrics.js';
