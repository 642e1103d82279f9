import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { interval, type Subscription } from 'rxjs';
import { SerializeType } from '../codec/codec.js';
import { MAX_TIMER_MS } from '../util/validate.js';
import type { ForwardStream } from './backend.js';
import {
  connectEnvelope,
  ENVELOPE_COMPRESSED,
  endStreamEnvelope,
  readConnectEnvelope,
} from './connect-envelope.js';
import type { Exchange } from './exchange.js';
import { deadlineOf, endWith, hasBody } from './http-io.js';
import { GatewayError, gatewayErrorOf } from './http-status.js';
import { callOfPath, checkedJson, isJson, jsonToProto, protoToJson } from './json-dialect.js';
import {
  acceptsEventStream,
  EVENT_STREAM_TYPE,
  SSE_KEEPALIVE,
  sseData,
  sseEvent,
} from './server-sent-events.js';
import { WriteCredit } from './write-credit.js';

const gunzipAsync = promisify(gunzip);
const EMPTY = new Uint8Array(0);
const EMPTY_JSON = Buffer.from('{}');
const CONNECT_JSON = 'application/connect+json';
const CONNECT_PROTO = 'application/connect+proto';

/**
 * The stream dialects of `/{service}/{method}`: Server-Sent Events (an `Accept` naming
 * `text/event-stream`), and Connect server streams (`application/connect+json` or `+proto`).
 *
 * @internal
 */
export type StreamDialect = 'sse' | 'connect';

/**
 * The stream dialect a request speaks, if any: a Connect streaming Content-Type
 * (`application/connect+…`) first, then an `Accept` header naming `text/event-stream`.
 *
 * @internal
 */
export function streamDialectOf(exchange: Exchange): StreamDialect | undefined {
  if (exchange.contentType.startsWith('application/connect+')) return 'connect';
  if (acceptsEventStream(exchange.request.headers.accept)) return 'sse';
  return undefined;
}

/**
 * The streams a gateway is serving: at most `max` at once, each with its way to end early (when
 * the gateway closes).
 *
 * @internal
 */
export class GatewayStreams {
  readonly max: number;
  private readonly open = new Set<(error: GatewayError) => void>();

  constructor(max: number) {
    this.max = max;
  }

  /** Streams being served now. */
  get size(): number {
    return this.open.size;
  }

  /** Takes a slot for a stream that `stop` ends; false when every slot is taken. */
  add(stop: (error: GatewayError) => void): boolean {
    if (this.open.size >= this.max) return false;
    this.open.add(stop);
    return true;
  }

  /** Gives a stream's slot back. */
  delete(stop: (error: GatewayError) => void): void {
    this.open.delete(stop);
  }

  /** Ends every stream with `error` (cancelled on the server, the error told to the client). */
  stopAll(error: GatewayError): void {
    for (const stop of [...this.open]) stop(error);
  }
}

/** A stream request read and checked: what to forward, and how its values are framed. */
interface StreamRequest {
  readonly stream: Omit<ForwardStream, 'demand'>;
  readonly contentType: string;
  /** A value's bytes as the response carries them. @throws GatewayError when they do not fit. */
  readonly frame: (data: Uint8Array | undefined) => Uint8Array;
  /** The last bytes of the response: the end of the stream, or its error. */
  readonly end: (error: GatewayError | undefined) => Uint8Array | string;
}

/**
 * Serves a stream request: Server-Sent Events (`GET /{service}/{method}?args=<JSON>` or `POST`
 * with a JSON body) or a Connect server stream (`POST`, one enveloped message). Once the request
 * is checked, the response is 200 and each value is written as the server sends it, with credit
 * granted as the client's socket takes them; the stream ends with `event: end` (or `event:
 * error`), or Connect's end-of-stream envelope. A client that goes away cancels the stream on the
 * server.
 *
 * Refused before it starts: with an HTTP status and a JSON error body for Server-Sent Events (404,
 * 405, 413, 415, 429 past `maxStreams`...), and for Connect in its end-of-stream envelope (HTTP
 * 200) as the Connect protocol does, except 405 and 415.
 *
 * @internal
 */
export async function serveStream(
  exchange: Exchange,
  dialect: StreamDialect,
  streams: GatewayStreams,
): Promise<void> {
  const target = callOfPath(exchange.path);
  const service = target?.service ?? '';
  const method = target?.method ?? '';
  let request: StreamRequest;
  try {
    request = await streamRequestOf(exchange, dialect, service, method, target !== undefined);
  } catch (error) {
    await refuseStream(exchange, dialect, gatewayErrorOf(error, service, method));
    return;
  }
  const { response } = exchange;
  // The client may have left while its body was read: the stream is not started at all.
  if (response.destroyed) return;
  const options = exchange.options;
  const { frame, end } = request;
  let stopStream = (_error: GatewayError): void => {};
  const stop = (error: GatewayError): void => stopStream(error);
  if (!streams.add(stop)) {
    const refusal = new GatewayError(
      'resource_exhausted',
      `more than ${streams.max} streams at once; retry later`,
      {
        retryAfterS: 1,
        details: { maxStreams: streams.max },
      },
    );
    await refuseStream(exchange, dialect, refusal);
    return;
  }
  await new Promise<void>((resolve) => {
    const credit = new WriteCredit(response, options.streamWindow);
    let subscription: Subscription | undefined;
    let keepalive: Subscription | undefined;
    let over = false;
    const release = (): void => {
      if (over) return;
      over = true;
      streams.delete(stop);
      keepalive?.unsubscribe();
      subscription?.unsubscribe();
      resolve();
    };
    const finish = (error: GatewayError | undefined): void => {
      if (over) return;
      if (!response.destroyed) response.end(end(error));
      release();
    };
    stopStream = (error) => {
      subscription?.unsubscribe();
      finish(error);
    };
    response.once('close', release);
    response.statusCode = 200;
    response.setHeader('Content-Type', request.contentType);
    response.setHeader('Cache-Control', 'no-cache');
    // Proxies that buffer responses (nginx) would hold the events back.
    if (dialect === 'sse') response.setHeader('X-Accel-Buffering', 'no');
    if (!exchange.request.complete && hasBody(exchange.request)) response.setHeader('Connection', 'close');
    response.flushHeaders();
    if (dialect === 'sse' && options.streamKeepaliveMs > 0) {
      // A full socket needs no keepalive, and would only hold it in memory.
      keepalive = interval(options.streamKeepaliveMs, options.scheduler).subscribe(() => {
        if (!credit.backpressured) credit.write(SSE_KEEPALIVE);
      });
    }
    subscription = exchange.stream$({ ...request.stream, demand: credit.demand }).subscribe({
      next: (reply) => {
        let chunk: Uint8Array;
        try {
          chunk = frame(reply.data);
        } catch (error) {
          stop(gatewayErrorOf(error, service, method));
          return;
        }
        credit.value(chunk);
      },
      error: (error: unknown) => finish(gatewayErrorOf(error, service, method)),
      complete: () => finish(undefined),
    });
  });
}

/**
 * Reads and checks a stream request, cheapest checks first (nothing is read of a body that the
 * path, method, Content-Type or allow-list refuse).
 *
 * @throws GatewayError for each refusal.
 */
async function streamRequestOf(
  exchange: Exchange,
  dialect: StreamDialect,
  service: string,
  method: string,
  named: boolean,
): Promise<StreamRequest> {
  const { request, response, options } = exchange;
  if (!named) throw new GatewayError('not_found', 'the path must be /{service}/{method}');
  const verb = request.method ?? '';
  if (dialect === 'connect' ? verb !== 'POST' : verb !== 'POST' && verb !== 'GET') {
    response.setHeader('Allow', dialect === 'connect' ? 'POST, OPTIONS' : 'GET, POST, OPTIONS');
    throw new GatewayError(
      'unimplemented',
      `${verb} is not served here; ${dialect === 'connect' ? 'POST' : 'GET or POST'} the stream`,
      { status: 405 },
    );
  }
  const type = exchange.contentType;
  if (dialect === 'connect') {
    if (type !== CONNECT_JSON && type !== CONNECT_PROTO) {
      throw new GatewayError(
        'invalid_argument',
        `Content-Type "${type}" is not served here: send ${CONNECT_JSON} or ${CONNECT_PROTO}`,
        { status: 415 },
      );
    }
    const version = request.headers['connect-protocol-version'];
    if (version !== undefined && version !== '1')
      throw new GatewayError('invalid_argument', `Connect-Protocol-Version must be 1, got "${version}"`);
  } else if (verb === 'POST' && !isJson(type)) {
    throw new GatewayError(
      'invalid_argument',
      `Content-Type "${type}" is not served here: POST a stream's arguments as application/json`,
      { status: 415 },
    );
  }
  // A stream's deadline is the whole stream's: capped by maxStreamMs, which is also the default.
  const timeoutMs = deadlineOf(request, options.maxStreamMs, options.maxStreamMs || MAX_TIMER_MS);
  const metadata = exchange.metadata();
  if (!exchange.allows(service))
    throw new GatewayError('not_found', `unknown service "${service}"`, { details: { service, method } });
  if (!exchange.streams) throw new GatewayError('unimplemented', 'this gateway forwards no streams');
  const stream = (payload: Uint8Array | undefined, serializeType: number = SerializeType.JSON) => ({
    service,
    method,
    serializeType,
    payload,
    metadata,
    timeoutMs,
  });
  if (dialect === 'sse') {
    const payload = verb === 'GET' ? queryArgs(exchange) : checkedJson(await exchange.body());
    return {
      stream: stream(payload),
      contentType: EVENT_STREAM_TYPE,
      frame: sseData,
      end: (error) =>
        error === undefined
          ? sseEvent('end', {})
          : sseEvent('error', { code: error.code, message: error.message }),
    };
  }
  const data = await envelopeData(exchange);
  const end = (error: GatewayError | undefined): Uint8Array => endStreamEnvelope(error);
  if (type === CONNECT_JSON) {
    return {
      stream: stream(checkedJson(data)),
      contentType: CONNECT_JSON,
      frame: (value) => connectEnvelope(0, value === undefined || value.length === 0 ? EMPTY_JSON : value),
      end,
    };
  }
  const types = options.client.protobuf?.[`${service}.${method}`];
  const replyType = types?.replyType;
  return {
    stream: types?.requestType
      ? stream(protoToJson(data, types.requestType))
      : stream(data.length === 0 ? undefined : data, SerializeType.Protobuf),
    contentType: CONNECT_PROTO,
    frame: (value) =>
      connectEnvelope(0, replyType ? jsonToProto(value ?? EMPTY, replyType) : (value ?? EMPTY)),
    end,
  };
}

/**
 * A Server-Sent Events GET's arguments: the `args` query parameter, URL-encoded JSON (none when
 * it is absent).
 *
 * @throws GatewayError: 400 when given twice or not JSON, 413 past `maxBodyBytes`.
 */
function queryArgs(exchange: Exchange): Uint8Array | undefined {
  const url = exchange.request.url ?? '/';
  const query = url.indexOf('?');
  if (query < 0) return undefined;
  const values = new URLSearchParams(url.slice(query + 1)).getAll('args');
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new GatewayError('invalid_argument', 'give the args parameter once');
  const args = Buffer.from(values[0] as string);
  const maxBodyBytes = exchange.options.maxBodyBytes;
  if (args.length > maxBodyBytes) {
    throw new GatewayError('resource_exhausted', `the args parameter is larger than ${maxBodyBytes} bytes`, {
      status: 413,
      details: { maxBodyBytes },
    });
  }
  try {
    JSON.parse(args.toString('utf8'));
  } catch (error) {
    throw new GatewayError(
      'invalid_argument',
      `the args parameter is not JSON (URL-encode it): ${(error as Error).message}`,
    );
  }
  return args;
}

/**
 * The message of a Connect stream request: its one envelope's data, inflated when the envelope
 * says it is compressed (`Connect-Content-Encoding: gzip`, within `maxBodyBytes`).
 *
 * @throws GatewayError: `unimplemented` for an encoding other than gzip or identity,
 *   `invalid_argument` for a body that is not one envelope or does not inflate, 413 past
 *   `maxBodyBytes`.
 */
async function envelopeData(exchange: Exchange): Promise<Uint8Array> {
  const header = exchange.request.headers['connect-content-encoding'];
  const encoding = (Array.isArray(header) ? header[0] : header)?.trim().toLowerCase() ?? 'identity';
  if (encoding !== 'identity' && encoding !== 'gzip') {
    exchange.response.setHeader('Connect-Accept-Encoding', 'gzip');
    throw new GatewayError(
      'unimplemented',
      `unknown compression "${encoding}": supported encodings are gzip`,
    );
  }
  const { flags, data } = readConnectEnvelope(await exchange.body());
  if ((flags & ENVELOPE_COMPRESSED) === 0) return data;
  if (encoding !== 'gzip') {
    throw new GatewayError(
      'invalid_argument',
      'the message is flagged compressed, but no Connect-Content-Encoding names how',
    );
  }
  const maxBodyBytes = exchange.options.maxBodyBytes;
  try {
    return await gunzipAsync(data, { maxOutputLength: Math.max(1, maxBodyBytes) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new GatewayError('resource_exhausted', `the message is larger than ${maxBodyBytes} bytes`, {
        status: 413,
        details: { maxBodyBytes },
      });
    }
    throw new GatewayError('invalid_argument', `the message does not inflate: ${(error as Error).message}`);
  }
}

/**
 * Answers a stream request that is not served: for Server-Sent Events, the HTTP status and a JSON
 * error body (as the unary dialects do); for Connect, HTTP 200 and the error in the end-of-stream
 * envelope (405 and 415 keep their status, as the protocol says).
 *
 * @internal
 */
export async function refuseStream(
  exchange: Exchange,
  dialect: StreamDialect,
  failure: GatewayError,
): Promise<void> {
  exchange.retryAfter(failure);
  if (dialect === 'connect' && failure.status !== 405 && failure.status !== 415) {
    const { request, response } = exchange;
    // Never gzipped: a Connect client reads the envelope's own compression, not the body's.
    if (!response.headersSent)
      response.setHeader(
        'Content-Type',
        exchange.contentType === CONNECT_PROTO ? CONNECT_PROTO : CONNECT_JSON,
      );
    await endWith(request, response, 200, endStreamEnvelope(failure), Number.POSITIVE_INFINITY);
    return;
  }
  await exchange.endJson(failure.status, {
    code: failure.code,
    message: failure.message,
    details: failure.details,
  });
}
