import type { IncomingMessage, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { SchedulerLike, Subscription } from 'rxjs';
import { MetadataKey } from '../protocol/constants.js';
import type { Metadata } from '../protocol/message.js';
import { GatewayError } from './http-status.js';

const gunzipAsync = promisify(gunzip);
const gzipAsync = promisify(gzip);

/** What reading a request body may take. @internal */
export interface BodyLimits {
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
  readonly scheduler: SchedulerLike;
}

/**
 * Reads a request body whole, gunzipped when `Content-Encoding: gzip`.
 *
 * Rejects with a GatewayError: 413 past `maxBodyBytes` (announced or arrived, before or after
 * gzip), 408 past `bodyTimeoutMs`, 415 for an encoding other than gzip, 400 for gzip that does
 * not inflate; `canceled` when the client goes away first.
 *
 * @internal
 */
export function readBody(request: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    return Promise.reject(
      new GatewayError(
        'invalid_argument',
        `Content-Encoding "${encoding}" is not supported; send gzip or none`,
        {
          status: 415,
        },
      ),
    );
  }
  const announced = Number(request.headers['content-length'] ?? 0);
  if (announced > limits.maxBodyBytes) return Promise.reject(tooLarge(limits.maxBodyBytes));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    let timer: Subscription | undefined;
    // A body that came in with its headers (most requests) has nothing left to wait for: the
    // clock starts only for one still arriving once the parser is done with this read.
    process.nextTick(() => {
      if (settled || request.complete) return;
      timer = limits.scheduler.schedule(() => {
        done(
          new GatewayError(
            'deadline_exceeded',
            `the request body did not arrive within ${limits.bodyTimeoutMs} ms`,
            { status: 408 },
          ),
        );
      }, limits.bodyTimeoutMs);
    });
    const done = (error: GatewayError | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      timer?.unsubscribe();
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('close', onClose);
      if (error) {
        // Nothing more of this body is wanted: stop reading it.
        request.pause();
        reject(error);
      } else resolve(body as Buffer);
    };
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > limits.maxBodyBytes) done(tooLarge(limits.maxBodyBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      // The request closes once read; only the response's close says the client went away now.
      request.off('close', onClose);
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes);
      if (encoding !== 'gzip') {
        done(undefined, body);
        return;
      }
      gunzipAsync(body, { maxOutputLength: Math.max(1, limits.maxBodyBytes) }).then(
        (inflated) => done(undefined, inflated),
        (error: NodeJS.ErrnoException) =>
          done(
            error.code === 'ERR_BUFFER_TOO_LARGE'
              ? tooLarge(limits.maxBodyBytes)
              : new GatewayError('invalid_argument', `the gzip body does not inflate: ${error.message}`),
          ),
      );
    };
    const onClose = (): void => done(new GatewayError('canceled', 'the client went away'));
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('close', onClose);
  });
}

function tooLarge(maxBodyBytes: number): GatewayError {
  return new GatewayError('resource_exhausted', `the request body is larger than ${maxBodyBytes} bytes`, {
    status: 413,
    details: { maxBodyBytes },
  });
}

/** Whether the client takes gzip (`Accept-Encoding`, with a q-value above 0). @internal */
export function acceptsGzip(request: IncomingMessage): boolean {
  const accept = request.headers['accept-encoding'];
  if (accept === undefined) return false;
  for (const part of accept.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== '*') continue;
    const q = params.map((param) => param.trim()).find((param) => param.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  }
  return false;
}

/**
 * Ends a response with `body`, gzipped when the client accepts it and it is large enough.
 * Does nothing when the client has gone.
 *
 * @internal
 */
export async function endWith(
  request: IncomingMessage,
  response: ServerResponse,
  status: number,
  body: Uint8Array,
  gzipThresholdBytes: number,
): Promise<void> {
  if (response.destroyed || response.headersSent) return;
  // A body left unread (refused, too large, too slow) would be taken for the next request.
  if (!request.complete && hasBody(request)) response.setHeader('Connection', 'close');
  let out = body;
  if (body.length >= gzipThresholdBytes && body.length > 0 && acceptsGzip(request)) {
    out = await gzipAsync(body, { level: 6 });
    if (response.destroyed) return;
    response.setHeader('Content-Encoding', 'gzip');
  }
  if (body.length >= gzipThresholdBytes) response.appendHeader('Vary', 'Accept-Encoding');
  response.statusCode = status;
  response.setHeader('Content-Length', out.length);
  response.end(out);
}

/** Whether a request carries a body (a length above 0, or chunks). @internal */
export function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  if (request.headers['transfer-encoding'] !== undefined) return true;
  return length !== undefined && length !== '0';
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const SAFE_VALUE = /^[\t\x20-\x7e]*$/;

/**
 * A metadata value as an HTTP header value: as it is when it is printable ASCII, else
 * percent-encoded (`decodeURIComponent` restores it), so no CR, LF or other byte can break the
 * response.
 *
 * @internal
 */
export function headerValue(value: string): string {
  return SAFE_VALUE.test(value) ? value : encodeURIComponent(value);
}

/** Whether `name` can be an HTTP header name. @internal */
export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

/** Headers a reply's metadata must never set: they frame the response or belong to CORS. */
const FRAMING = new Set([
  'connection',
  'content-encoding',
  'content-length',
  'content-type',
  'date',
  'keep-alive',
  'proxy-connection',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'vary',
  'retry-after',
]);

/**
 * Puts reply metadata in response headers, `prefix + key` (the Go header protocol uses no
 * prefix). Protocol keys (`__...`), names that cannot be header names and headers that frame
 * the response are left out.
 *
 * @internal
 */
export function setMetadataHeaders(response: ServerResponse, metadata: Metadata, prefix: string): void {
  for (const [key, value] of metadata) {
    if (key.startsWith('__')) continue;
    const name = prefix + key;
    const lower = name.toLowerCase();
    if (!isHeaderName(name) || FRAMING.has(lower) || lower.startsWith('access-control-')) continue;
    response.setHeader(name, headerValue(value));
  }
}

/**
 * The call metadata an HTTP request carries: `prefix`ed headers (without the prefix, and never a
 * protocol key `__...`), `Authorization: Bearer t` as `__AUTH`, W3C trace context, and
 * `x-forwarded-for` with the client's address appended.
 *
 * @internal
 */
export function metadataOf(request: IncomingMessage, prefix: string): Map<string, string> {
  const metadata = new Map<string, string>();
  const headers = request.headers;
  for (const name in headers) {
    if (!name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    const value = headers[name];
    if (key === '' || key.startsWith('__') || value === undefined) continue;
    metadata.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const authorization = headers.authorization;
  if (authorization !== undefined && /^bearer\s+/i.test(authorization)) {
    metadata.set(MetadataKey.Auth, authorization.replace(/^bearer\s+/i, ''));
  }
  const traceparent = headers.traceparent;
  if (typeof traceparent === 'string') metadata.set(MetadataKey.TraceParent, traceparent);
  const tracestate = headers.tracestate;
  if (typeof tracestate === 'string') metadata.set(MetadataKey.TraceState, tracestate);
  const peer = request.socket.remoteAddress;
  if (peer !== undefined) {
    const forwarded = headers['x-forwarded-for'];
    metadata.set('x-forwarded-for', forwarded ? `${forwarded}, ${peer}` : peer);
  }
  return metadata;
}

/**
 * The deadline a request asks for (`Connect-Timeout-Ms`, or `Phobos-Timeout-Ms`), capped at
 * `maxMs`; `fallbackMs` when it names none.
 *
 * @throws GatewayError (400) for a value that is not 1 to 10 digits.
 * @internal
 */
export function deadlineOf(request: IncomingMessage, fallbackMs: number, maxMs: number): number {
  const header = request.headers['connect-timeout-ms'] ?? request.headers['phobos-timeout-ms'];
  if (header === undefined) return fallbackMs;
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,10}$/.test(value)) {
    throw new GatewayError(
      'invalid_argument',
      `the timeout header must be 1 to 10 digits (ms), got "${value}"`,
    );
  }
  return Math.max(1, Math.min(Number(value), maxMs));
}
