import { SerializeType } from '../codec/codec.js';
import type { Exchange } from './exchange.js';
import { setMetadataHeaders } from './http-io.js';
import { GatewayError, gatewayErrorOf } from './http-status.js';
import { isJson } from './json-dialect.js';

/** A JSON-RPC id: a string, a number or null. */
type Id = string | number | null;

/** JSON-RPC 2.0's own error codes. */
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;

/** A response already written as JSON text, or nothing for a notification. */
type Answer = string | undefined;

function errorAnswer(id: Id, code: number, message: string, data?: unknown): string {
  const error = data === undefined ? { code, message } : { code, message, data };
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

/**
 * Serves JSON-RPC 2.0 at the gateway's `jsonRpcPath`: `method` is `Service.Method`, `params` the
 * argument (an object, or the one element of a one-element array; another array is passed as it
 * is), a request without `id` is a notification (a oneway call, never answered), and a batch
 * runs its calls at once and answers those that have an id. The result is the reply's JSON,
 * spliced in as it is. Errors use the standard codes (-32700 parse error, -32600 invalid request,
 * -32601 unknown service or method, -32602 arguments the service cannot decode, -32603 internal)
 * and, for the rest, -32000 (the service failed), -32001 deadline, -32002 unavailable, -32003
 * overloaded, -32004 unauthenticated, -32008 cancelled; `error.data` holds the Connect code.
 *
 * @internal
 */
export async function serveJsonRpc(exchange: Exchange): Promise<void> {
  const { request, response } = exchange;
  if (request.method !== 'POST') {
    response.setHeader('Allow', 'POST, OPTIONS');
    await exchange.end(
      405,
      Buffer.from(errorAnswer(null, INVALID_REQUEST, 'POST JSON-RPC requests')),
      'application/json',
    );
    return;
  }
  let batch: unknown;
  let timeoutMs: number;
  let metadata: Map<string, string>;
  try {
    if (!isJson(exchange.contentType)) {
      throw new GatewayError('invalid_argument', `Content-Type "${exchange.contentType}" is not JSON`, {
        status: 415,
      });
    }
    timeoutMs = exchange.deadlineMs();
    metadata = exchange.metadata();
    const body = await exchange.body();
    try {
      batch = JSON.parse(body.toString('utf8'));
    } catch (error) {
      await exchange.end(
        200,
        Buffer.from(errorAnswer(null, PARSE_ERROR, `parse error: ${(error as Error).message}`)),
        'application/json',
      );
      return;
    }
  } catch (error) {
    const failure = gatewayErrorOf(error, '', '');
    exchange.retryAfter(failure);
    await exchange.end(
      failure.status,
      Buffer.from(errorAnswer(null, failure.jsonRpcCode, failure.message, { code: failure.code })),
      'application/json',
    );
    return;
  }
  if (!Array.isArray(batch)) {
    const answer = await answerOne(exchange, batch, timeoutMs, metadata, true);
    if (answer === undefined) await exchange.end(204, new Uint8Array(0));
    else await exchange.end(200, Buffer.from(answer), 'application/json');
    return;
  }
  if (batch.length === 0 || batch.length > exchange.options.maxBatchSize) {
    const why =
      batch.length === 0 ? 'an empty batch' : `a batch of more than ${exchange.options.maxBatchSize} calls`;
    await exchange.end(
      200,
      Buffer.from(errorAnswer(null, INVALID_REQUEST, `invalid request: ${why}`)),
      'application/json',
    );
    return;
  }
  const answers = await Promise.all(batch.map((one) => answerOne(exchange, one, timeoutMs, metadata, false)));
  const written = answers.filter((answer): answer is string => answer !== undefined);
  if (written.length === 0) await exchange.end(204, new Uint8Array(0));
  else await exchange.end(200, Buffer.from(`[${written.join(',')}]`), 'application/json');
}

/** Runs one JSON-RPC request; its answer as JSON text, or undefined for a notification. */
async function answerOne(
  exchange: Exchange,
  value: unknown,
  timeoutMs: number,
  metadata: ReadonlyMap<string, string>,
  single: boolean,
): Promise<Answer> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return errorAnswer(null, INVALID_REQUEST, 'invalid request: each request must be an object');
  }
  const call = value as Record<string, unknown>;
  const rawId = call.id;
  const notification = !('id' in call);
  const idOk =
    rawId === null || typeof rawId === 'string' || (typeof rawId === 'number' && Number.isFinite(rawId));
  const id: Id = idOk ? (rawId as Id) : null;
  if (call.jsonrpc !== '2.0' || typeof call.method !== 'string' || (!notification && !idOk)) {
    return errorAnswer(
      id,
      INVALID_REQUEST,
      'invalid request: it needs jsonrpc "2.0", a string method and a string, number or null id',
    );
  }
  const dot = call.method.lastIndexOf('.');
  const service = dot > 0 ? call.method.slice(0, dot) : '';
  const method = dot > 0 ? call.method.slice(dot + 1) : '';
  if (service === '' || method === '') {
    return notification
      ? undefined
      : errorAnswer(id, METHOD_NOT_FOUND, `method not found: name it "Service.Method", got "${call.method}"`);
  }
  const params = call.params;
  if (params !== undefined && (typeof params !== 'object' || params === null)) {
    return notification
      ? undefined
      : errorAnswer(id, INVALID_PARAMS, 'invalid params: params must be an object or an array');
  }
  const args = Array.isArray(params) && params.length === 1 ? params[0] : params;
  try {
    const reply = await exchange.forward({
      service,
      method,
      serializeType: SerializeType.JSON,
      payload: args === undefined ? undefined : Buffer.from(JSON.stringify(args)),
      metadata,
      timeoutMs,
      oneway: notification,
    });
    if (notification) return undefined;
    if (single) setMetadataHeaders(exchange.response, reply.metadata, exchange.options.metadataPrefix);
    const result = reply.data.length === 0 ? 'null' : Buffer.from(reply.data).toString('utf8');
    return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${result}}`;
  } catch (error) {
    if (notification) return undefined;
    const failure = gatewayErrorOf(error, service, method);
    return errorAnswer(id, failure.jsonRpcCode, failure.message, {
      code: failure.code,
      details: failure.details,
    });
  }
}
