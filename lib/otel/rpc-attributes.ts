import type { Attributes, Context, Span, SpanKind, Tracer } from '@opentelemetry/api';
import { parseAddress } from '../transport/address.js';

/**
 * `rpc.system` of every span: `phobos`. The conventions name the framework that makes the call,
 * and leave the client's and the server's free to differ. The frames are rpcx's, and a Go rpcx
 * peer would say `rpcx`, but this side is Phobos (its own magic byte, cancel notices, error
 * codes), and a dashboard that filters on `rpcx` should not mistake these spans for a Go
 * program's.
 */
export const RPC_SYSTEM = 'phobos';

/** The span attributes this package sets, by the OpenTelemetry RPC semantic conventions. */
export const Attr = {
  rpcSystem: 'rpc.system',
  rpcService: 'rpc.service',
  rpcMethod: 'rpc.method',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  peerAddress: 'network.peer.address',
  peerPort: 'network.peer.port',
  errorType: 'error.type',
  /** Which request of a logical call an attempt span is: `first`, `retry` or `backup`. */
  attempt: 'rpc.phobos.attempt',
  /** Set on a span whose call was given up before it ended: a hedge that lost, a cancel. */
  cancelled: 'rpc.phobos.cancelled',
} as const;

/** The span name the conventions give a call: `service/method`. */
export function spanName(service: string, method: string): string {
  return `${service}/${method}`;
}

/** `rpc.system`, `rpc.service` and `rpc.method`. */
export function rpcAttributes(service: string, method: string): Attributes {
  return { [Attr.rpcSystem]: RPC_SYSTEM, [Attr.rpcService]: service, [Attr.rpcMethod]: method };
}

/**
 * Sets the host (or socket path) and port of a Phobos address under `addressKey` and `portKey`.
 * An address with no endpoint (`in-process@`, `unix@` of an unnamed peer) sets nothing.
 */
export function setEndpoint(
  attributes: Attributes,
  address: string | undefined,
  addressKey: string,
  portKey: string,
): Attributes {
  if (address === undefined) return attributes;
  const endpoint = endpointOf(address);
  if (endpoint === undefined) return attributes;
  attributes[addressKey] = endpoint.host;
  if (endpoint.port !== undefined) attributes[portKey] = endpoint.port;
  return attributes;
}

/** Addresses parsed once: a client calls the same few servers over and over. */
const endpoints = new Map<string, { readonly host: string; readonly port: number | undefined } | null>();
const MAX_REMEMBERED_ENDPOINTS = 1_024;

function endpointOf(
  address: string,
): { readonly host: string; readonly port: number | undefined } | undefined {
  const known = endpoints.get(address);
  if (known !== undefined) return known ?? undefined;
  let endpoint: { readonly host: string; readonly port: number | undefined } | null;
  try {
    const parsed = parseAddress(address);
    endpoint =
      parsed.network === 'unix'
        ? { host: parsed.path, port: undefined }
        : parsed.network === 'memory'
          ? { host: parsed.name, port: undefined }
          : { host: parsed.host, port: parsed.port };
  } catch {
    endpoint = null;
  }
  if (endpoints.size < MAX_REMEMBERED_ENDPOINTS) endpoints.set(address, endpoint);
  return endpoint ?? undefined;
}

/**
 * Starts a span of `kind` and gives it `attributes()` once the sampler has kept it: for the spans
 * a sampler drops, building and cleaning the attributes would cost more than the call they trace.
 * (Samplers therefore see no attributes; the RPC conventions mark none as needed for sampling.)
 *
 * @internal
 */
export function startRpcSpan(
  tracer: Tracer,
  name: string,
  kind: SpanKind,
  attributes: () => Attributes,
  parent: Context,
): Span {
  const span = tracer.startSpan(name, { kind }, parent);
  if (span.isRecording()) span.setAttributes(attributes());
  return span;
}
