import type { IncomingHttpHeaders } from 'node:http';
import type { Exchange } from './exchange.js';
import { headerValue, setMetadataHeaders } from './http-io.js';
import { GatewayError, gatewayErrorOf } from './http-status.js';

/**
 * The header names of one header protocol: Go Phobos's `MRPC-Gateway-*` or rpcx's `X-RPCX-*`
 * (whose message type header is spelt `MesssageType`, with three s, by every rpcx client).
 *
 * @internal
 */
export interface HeaderNames {
  readonly prefix: string;
  readonly messageId: string;
  readonly heartbeat: string;
  readonly oneway: string;
  readonly serializeType: string;
  readonly meta: string;
  readonly servicePath: string;
  readonly serviceMethod: string;
  readonly statusType: string;
  readonly errorMessage: string;
}

function namesOf(prefix: string): HeaderNames {
  return {
    prefix,
    messageId: `${prefix}MessageID`,
    heartbeat: `${prefix}Heartbeat`,
    oneway: `${prefix}Oneway`,
    serializeType: `${prefix}SerializeType`,
    meta: `${prefix}Meta`,
    servicePath: `${prefix}ServicePath`,
    serviceMethod: `${prefix}ServiceMethod`,
    statusType: `${prefix}MessageStatusType`,
    errorMessage: `${prefix}ErrorMessage`,
  };
}

/** Go Phobos's gateway headers. */
export const PHOBOS_HEADERS = namesOf('MRPC-Gateway-');
/** rpcx's gateway headers. */
export const RPCX_HEADERS = namesOf('X-RPCX-');

/** The Content-Type of a reply body by serialize type. */
const CONTENT_TYPES: Readonly<Record<number, string>> = {
  0: 'application/octet-stream',
  1: 'application/json',
  2: 'application/proto',
  3: 'application/msgpack',
};

/**
 * The header protocol a request speaks, if any: a header named `MRPC-Gateway-*` or `X-RPCX-*`,
 * or `Content-Type: application/rpcx`.
 *
 * @internal
 */
export function headerProtocolOf(headers: IncomingHttpHeaders): HeaderNames | undefined {
  let rpcx = headers['content-type']?.toLowerCase().startsWith('application/rpcx') === true;
  for (const name in headers) {
    if (name.startsWith('mrpc-gateway-')) return PHOBOS_HEADERS;
    if (name.startsWith('x-rpcx-')) rpcx = true;
  }
  return rpcx ? RPCX_HEADERS : undefined;
}

/**
 * Serves the Go gateways' header protocol: the call is named by headers (or the service by the
 * URL path), the body is the payload in the given serialize type, passed through; the reply
 * copies the protocol's request headers, says `MessageStatusType` (`Normal` or `Error`), puts
 * reply metadata in headers, and its body is the reply payload. Unlike the Go gateway, the HTTP
 * status says what happened (200, 400, 404, 503...).
 *
 * @internal
 */
export async function serveHeaderProtocol(exchange: Exchange, names: HeaderNames): Promise<void> {
  const { request, response } = exchange;
  const lowerPrefix = names.prefix.toLowerCase();
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.toLowerCase().startsWith(lowerPrefix))
      response.setHeader(name, headerValue(raw[i + 1] as string));
  }
  const header = (name: string): string | undefined => {
    const value = request.headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };
  const service = header(names.servicePath) || decodedPath(exchange.path);
  const method = header(names.serviceMethod) ?? '';
  try {
    if (request.method !== 'POST' && request.method !== 'GET' && request.method !== 'PUT') {
      response.setHeader('Allow', 'POST, GET, PUT, OPTIONS');
      throw new GatewayError('unimplemented', `${request.method} is not served; use POST`, { status: 405 });
    }
    const id = header(names.messageId);
    if (id !== undefined && !(/^\d{1,20}$/.test(id) && BigInt(id) <= 0xffff_ffff_ffff_ffffn)) {
      throw new GatewayError('invalid_argument', `${names.messageId} must be a decimal uint64, got "${id}"`);
    }
    if (header(names.heartbeat) !== undefined) {
      response.setHeader(names.statusType, 'Normal');
      await exchange.end(200, new Uint8Array(0));
      return;
    }
    if (service === '')
      throw new GatewayError('invalid_argument', `name the service in ${names.servicePath} or the URL path`);
    if (method === '')
      throw new GatewayError('invalid_argument', `name the method in ${names.serviceMethod}`);
    const typeHeader = header(names.serializeType);
    if (typeHeader !== undefined && !/^(\d|1[0-5])$/.test(typeHeader)) {
      throw new GatewayError('invalid_argument', `${names.serializeType} must be 0..15, got "${typeHeader}"`);
    }
    const serializeType = typeHeader === undefined ? 0 : Number(typeHeader);
    const metadata = exchange.metadata();
    const meta = header(names.meta);
    if (meta !== undefined) {
      for (const [key, value] of new URLSearchParams(meta)) if (!metadata.has(key)) metadata.set(key, value);
    }
    const timeoutMs = exchange.deadlineMs();
    const body = await exchange.body();
    const oneway = header(names.oneway) !== undefined;
    const reply = await exchange.forward({
      service,
      method,
      serializeType,
      payload: body.length === 0 ? undefined : body,
      metadata,
      timeoutMs,
      oneway,
    });
    response.setHeader(names.statusType, 'Normal');
    setMetadataHeaders(response, reply.metadata, '');
    await exchange.end(200, reply.data, CONTENT_TYPES[serializeType] ?? 'application/octet-stream');
  } catch (error) {
    const failure = gatewayErrorOf(error, service, method);
    exchange.retryAfter(failure);
    if (!response.headersSent) {
      response.setHeader(names.statusType, 'Error');
      response.setHeader(names.errorMessage, headerValue(failure.message));
    }
    await exchange.end(failure.status, new Uint8Array(0));
  }
}

/** The service path from the URL path, as the Go gateway takes it (without the leading `/`). */
function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path.slice(1));
  } catch {
    return '';
  }
}
