import type { Type } from 'protobufjs';
import { SerializeType } from '../codec/codec.js';
import type { Exchange } from './exchange.js';
import { setMetadataHeaders } from './http-io.js';
import { GatewayError, gatewayErrorOf } from './http-status.js';

const EMPTY = new Uint8Array(0);

/** The two dialects of `POST /{service}/{method}`. @internal */
export type JsonDialect = 'json' | 'connect';

/**
 * `/{service}/{method}` as the service and the method (percent-decoded), or undefined when the
 * path has another shape.
 *
 * @internal
 */
export function callOfPath(path: string): { service: string; method: string } | undefined {
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== 0x2f || slash < 0 || path.indexOf('/', slash + 1) >= 0) return undefined;
  try {
    const service = decoded(path.slice(1, slash));
    const method = decoded(path.slice(slash + 1));
    if (service === '' || method === '' || service.length > 256 || method.length > 256) return undefined;
    return { service, method };
  } catch {
    return undefined;
  }
}

/** A path segment percent-decoded. @throws URIError for a malformed escape. */
function decoded(segment: string): string {
  return segment.includes('%') ? decodeURIComponent(segment) : segment;
}

/** Whether a request to `/{service}/{method}` speaks the Connect protocol rather than plain JSON. @internal */
export function isConnect(exchange: Exchange): boolean {
  return (
    exchange.request.headers['connect-protocol-version'] !== undefined ||
    exchange.contentType === 'application/proto' ||
    exchange.contentType.startsWith('application/connect+')
  );
}

/**
 * Serves `POST /{service}/{method}`: plain JSON (for curl and `fetch`), or a Connect unary call
 * (`application/json` or `application/proto`). A JSON body is checked, then passed through as
 * the payload (serialize type JSON) and the reply's bytes are the response body. A Protobuf body
 * is decoded with the types registered on the gateway for the method and the call made in JSON,
 * or, with no types there, passed through as serialize type Protobuf.
 *
 * @internal
 */
export async function serveJson(exchange: Exchange, dialect: JsonDialect): Promise<void> {
  const target = callOfPath(exchange.path);
  const service = target?.service ?? '';
  const method = target?.method ?? '';
  try {
    if (!target) throw new GatewayError('not_found', 'the path must be /{service}/{method}');
    if (exchange.request.method !== 'POST') {
      exchange.response.setHeader('Allow', 'POST, OPTIONS');
      throw new GatewayError(
        'unimplemented',
        `${exchange.request.method} is not served here; POST the call`,
        {
          status: 405,
        },
      );
    }
    if (dialect === 'connect') {
      const version = exchange.request.headers['connect-protocol-version'];
      if (version !== undefined && version !== '1')
        throw new GatewayError('invalid_argument', `Connect-Protocol-Version must be 1, got "${version}"`);
    }
    const type = exchange.contentType;
    const proto = dialect === 'connect' && type === 'application/proto';
    if (!proto && !isJson(type)) {
      throw new GatewayError(
        'invalid_argument',
        `Content-Type "${type}" is not served here: send application/json` +
          (dialect === 'connect'
            ? ' or application/proto (streams: application/connect+json or +proto)'
            : ''),
        { status: 415 },
      );
    }
    const timeoutMs = exchange.deadlineMs();
    const metadata = exchange.metadata();
    const body = await exchange.body();
    const types = exchange.options.client.protobuf?.[`${service}.${method}`];
    let payload: Uint8Array | undefined;
    let serializeType: number = SerializeType.JSON;
    if (!proto) payload = checkedJson(body);
    else if (types?.requestType) payload = protoToJson(body, types.requestType);
    else {
      payload = body.length === 0 ? undefined : body;
      serializeType = SerializeType.Protobuf;
    }
    const reply = await exchange.forward({
      service,
      method,
      serializeType,
      payload,
      metadata,
      timeoutMs,
      oneway: false,
    });
    setMetadataHeaders(exchange.response, reply.metadata, exchange.options.metadataPrefix);
    if (!proto) {
      const empty = dialect === 'connect' ? '{}' : 'null';
      await exchange.end(200, reply.data.length === 0 ? Buffer.from(empty) : reply.data, 'application/json');
    } else if (types?.replyType) {
      await exchange.end(200, jsonToProto(reply.data, types.replyType), 'application/proto');
    } else {
      await exchange.end(200, reply.data, 'application/proto');
    }
  } catch (error) {
    const failure = gatewayErrorOf(error, service, method);
    exchange.retryAfter(failure);
    const body =
      dialect === 'connect'
        ? { code: failure.code, message: failure.message }
        : { code: failure.code, message: failure.message, details: failure.details };
    await exchange.endJson(failure.status, body);
  }
}

/**
 * JSON, or a `+json` type other than the framed ones of streaming protocols (Connect streams,
 * gRPC-web); no Content-Type at all is taken as JSON.
 *
 * @internal
 */
export function isJson(type: string): boolean {
  if (type === '' || type === 'application/json') return true;
  if (type.startsWith('application/connect+') || type.startsWith('application/grpc')) return false;
  return type.startsWith('application/') && type.endsWith('+json');
}

/**
 * The body as a JSON payload: checked to parse, passed on as it is; empty means no payload.
 *
 * @throws GatewayError (400) when it is not JSON.
 * @internal
 */
export function checkedJson(body: Uint8Array): Uint8Array | undefined {
  if (body.length === 0) return undefined;
  try {
    JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8'));
  } catch (error) {
    throw new GatewayError('invalid_argument', `the body is not JSON: ${(error as Error).message}`);
  }
  return body;
}

/**
 * A Protobuf message as the JSON payload of a call, by its registered type.
 *
 * @throws GatewayError (400) when the bytes are not such a message.
 * @internal
 */
export function protoToJson(body: Uint8Array, type: Type): Uint8Array | undefined {
  try {
    const message = type.decode(body);
    return Buffer.from(
      JSON.stringify(type.toObject(message, { longs: String, enums: String, bytes: String })),
    );
  } catch (error) {
    throw new GatewayError('invalid_argument', `the body is not a ${type.name}: ${(error as Error).message}`);
  }
}

/**
 * A JSON reply payload as a Protobuf message of its registered type.
 *
 * @throws GatewayError (`internal`, 500) when the reply does not fit the type.
 * @internal
 */
export function jsonToProto(data: Uint8Array, type: Type): Uint8Array {
  if (data.length === 0) return EMPTY;
  try {
    const value: unknown = JSON.parse(
      Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8'),
    );
    return type.encode(type.fromObject(value as Record<string, unknown>)).finish();
  } catch (error) {
    throw new GatewayError('internal', `the reply is not a ${type.name}: ${(error as Error).message}`);
  }
}
