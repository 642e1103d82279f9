export type { TraceContext, TraceMetadata } from './trace-context.js';
export {
  formatTraceparent,
  formatTracestate,
  MAX_TRACESTATE_CHARS,
  MAX_TRACESTATE_MEMBERS,
  parseTraceparent,
  parseTracestate,
  TRACE_FLAG_SAMPLED,
  TRACEPARENT_KEY,
  TRACESTATE_KEY,
  traceContextOf,
  traceMetadata,
} from './trace-context.js';
