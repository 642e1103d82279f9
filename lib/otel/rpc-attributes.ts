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

type Endpoint = { readonly host: string; readonly port: number | undefined };

/** Most addresses an {@link endpointSetter} remembers parsed; past it, it parses each time. */
const MAX_REMEMBERED_ENDPOINTS = 1_024;

/**
 * A function that sets the host (or socket path) and port of a Phobos address under `addressKey`
 * and `portKey`; an address with no endpoint (`in-process@`, `unix@` of an unnamed peer) sets
 * nothing. Each setter remembers the addresses it parsed (a client calls the same few servers
 * over and over), up to 1,024 of them: made by each instrumented client or server, so that the
 * memory goes with it.
 */
export function endpointSetter(): (
  attributes: Attributes,
  address: string | undefined,
  addressKey: string,
  portKey: string,
) => Attributes {
  const endpoints = new Map<string, Endpoint | null>();
  const endpointOf = (address: string): Endpoint | undefined => {
    const known = endpoints.get(address);
    if (known !== undefined) return known ?? undefined;
    const endpoint = parseEndpoint(address);
    if (endpoints.size < MAX_REMEMBERED_ENDPOINTS) endpoints.set(address, endpoint);
    return endpoint ?? undefined;
  };
  return (attributes, address, addressKey, portKey) => {
    if (address === undefined) return attributes;
    const endpoint = endpointOf(address);
    if (endpoint === undefined) return attributes;
    attributes[addressKey] = endpoint.host;
    if (endpoint.port !== undefined) attributes[portKey] = endpoint.port;
    return attributes;
  };
}

function parseEndpoint(address: string): Endpoint | null {
  try {
    const parsed = parseAddress(address);
    return parsed.network === 'unix'
      ? { host: parsed.path, port: undefined }
      : parsed.network === 'memory'
        ? { host: parsed.name, port: undefined }
        : { host: parsed.host, port: parsed.port };
  } catch {
    return null;
  }
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
