import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsOptions } from './gateway-options.js';

/**
 * Applies CORS to a request: allowed origins get `Access-Control-Allow-Origin` (and may read
 * every response header); a preflight (`OPTIONS` with `Access-Control-Request-Method`) is
 * answered here, 204 when the origin is allowed, 403 when it is not.
 *
 * @returns true when the request was a preflight and has been answered.
 * @internal
 */
export function applyCors(
  request: IncomingMessage,
  response: ServerResponse,
  cors: Required<CorsOptions> | undefined,
): boolean {
  const origin = request.headers.origin;
  const preflight =
    request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
  const allowed =
    cors !== undefined && origin !== undefined && (cors.origins === '*' || cors.origins.includes(origin));
  if (allowed) {
    response.setHeader('Access-Control-Allow-Origin', cors.origins === '*' ? '*' : origin);
    if (cors.origins !== '*') response.appendHeader('Vary', 'Origin');
    if (cors.credentials) response.setHeader('Access-Control-Allow-Credentials', 'true');
    // Metadata, status and Connect headers are all readable by the page.
    response.setHeader('Access-Control-Expose-Headers', '*');
  }
  if (!preflight) return false;
  if (!allowed) {
    response.statusCode = 403;
    response.end();
    return true;
  }
  response.setHeader('Access-Control-Allow-Methods', 'POST, GET, PUT, OPTIONS');
  const asked = request.headers['access-control-request-headers'];
  if (asked !== undefined && /^[\w\-, ]{0,4096}$/.test(asked))
    response.setHeader('Access-Control-Allow-Headers', asked);
  response.setHeader('Access-Control-Max-Age', String(cors.maxAgeS));
  response.statusCode = 204;
  response.end();
  return true;
}
