import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acceptsGzip, deadlineOf, headerValue, isHeaderName } from '../../lib/gateway/http-io.js';
import { GatewayError, gatewayErrorOf } from '../../lib/gateway/http-status.js';
import {
  CancelledError,
  CircuitOpenError,
  CodecError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  NoInstanceError,
  ResourceExhaustedError,
  ServiceError,
  UnauthenticatedError,
} from '../../lib/index.js';

function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe('gateway HTTP helpers', () => {
  it('headerValue - any string becomes a header value with no CR, LF or byte outside printable ASCII, and reads back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (value) => {
        const header = headerValue(value);
        expect(header).toMatch(/^[\t\x20-\x7e]*$/);
        expect(header === value || decodeURIComponent(header) === value).toBe(true);
      }),
    );
  });

  it('isHeaderName - only tokens are header names', () => {
    expect(isHeaderName('served-by')).toBe(true);
    for (const bad of ['', 'a b', 'a:b', 'a\r\nb', 'é']) expect(isHeaderName(bad)).toBe(false);
  });

  it('acceptsGzip - reads Accept-Encoding with q-values', () => {
    expect(acceptsGzip(request({ 'accept-encoding': 'gzip, deflate, br' }))).toBe(true);
    expect(acceptsGzip(request({ 'accept-encoding': 'br;q=1, gzip;q=0' }))).toBe(false);
    expect(acceptsGzip(request({ 'accept-encoding': '*' }))).toBe(true);
    expect(acceptsGzip(request({ 'accept-encoding': 'identity' }))).toBe(false);
    expect(acceptsGzip(request({}))).toBe(false);
  });

  it('deadlineOf - takes Connect-Timeout-Ms or Phobos-Timeout-Ms, capped; 1 to 10 digits only', () => {
    expect(deadlineOf(request({}), 30_000, 60_000)).toBe(30_000);
    expect(deadlineOf(request({ 'connect-timeout-ms': '250' }), 30_000, 60_000)).toBe(250);
    expect(deadlineOf(request({ 'phobos-timeout-ms': '9999999999' }), 30_000, 60_000)).toBe(60_000);
    expect(deadlineOf(request({ 'connect-timeout-ms': '0' }), 30_000, 60_000)).toBe(1);
    for (const bad of ['', '-1', '1.5', '12345678901', 'soon']) {
      expect(() => deadlineOf(request({ 'connect-timeout-ms': bad }), 30_000, 60_000)).toThrow(GatewayError);
    }
  });

  it('gatewayErrorOf - maps each error kind to its Connect code, HTTP status and JSON-RPC code', () => {
    const reasons = (reason: string) => new ServiceError('x', { details: { reason } });
    const cases: [unknown, string, number, number][] = [
      [new ServiceError('boom'), 'unknown', 500, -32000],
      [reasons('NOT_FOUND'), 'not_found', 404, -32601],
      [reasons('INVALID_ARGUMENT'), 'invalid_argument', 400, -32602],
      [new UnauthenticatedError('unauthorized'), 'unauthenticated', 401, -32004],
      [new DeadlineExceededError('late'), 'deadline_exceeded', 504, -32001],
      [new CancelledError('gone'), 'canceled', 499, -32008],
      [new NoInstanceError('none'), 'unavailable', 503, -32002],
      [new CircuitOpenError('open'), 'unavailable', 503, -32002],
      [new ConnectionError('shutting down'), 'unavailable', 503, -32002],
      [new ResourceExhaustedError('busy'), 'resource_exhausted', 429, -32003],
      [new ConnectionClosedError('dropped'), 'unavailable', 502, -32002],
      [new CodecError('bad reply'), 'internal', 502, -32603],
      [new Error('plain'), 'internal', 500, -32603],
      ['a string', 'internal', 500, -32603],
    ];
    for (const [error, code, status, jsonRpc] of cases) {
      const mapped = gatewayErrorOf(error, 'S', 'M');
      expect([mapped.code, mapped.status, mapped.jsonRpcCode]).toEqual([code, status, jsonRpc]);
      expect(mapped.details).toMatchObject({ service: 'S', method: 'M' });
    }
    expect(gatewayErrorOf(new NoInstanceError('none'), 'S', 'M').retryAfterS).toBe(1);
    expect(gatewayErrorOf(new ResourceExhaustedError('busy'), 'S', 'M').retryAfterS).toBe(1);
    // Details never say where the servers are.
    const closed = new ConnectionClosedError('dropped', { details: { address: 'tcp@10.0.0.1:1' } });
    expect(gatewayErrorOf(closed, 'S', 'M').details).toEqual({ service: 'S', method: 'M' });
  });
});
