import { describe, expect, it } from 'vitest';
import {
  CancelledError,
  CircuitOpenError,
  CodecError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  NoInstanceError,
  ProtocolError,
  ResourceExhaustedError,
  RpcError,
  ServiceError,
  UnauthenticatedError,
} from '../../lib/errors/index.js';
import { isRetryable } from '../../lib/operators/index.js';

describe('isRetryable', () => {
  it.each([
    ['a refused connection (UNAVAILABLE)', new ConnectionError('refused')],
    ['a busy server (RESOURCE_EXHAUSTED)', new ResourceExhaustedError('server busy')],
    ['a connection closed mid-call', new ConnectionClosedError('gone')],
    ['a per-attempt deadline', new DeadlineExceededError('slow')],
  ])('isRetryable - retries %s', (_, error) => {
    expect(isRetryable(error)).toBe(true);
  });

  it.each([
    ['a ServiceError (the service itself failed)', new ServiceError('divide by zero')],
    ['a CancelledError (the caller gave up)', new CancelledError('aborted')],
    [
      'an UnauthenticatedError (every server would refuse the token)',
      new UnauthenticatedError('unauthorized'),
    ],
    ['a CodecError', new CodecError('bad bytes')],
    ['a CircuitOpenError', new CircuitOpenError('open')],
    ['a NoInstanceError', new NoInstanceError('none')],
    ['a ProtocolError', new ProtocolError('bad magic', { field: 'magic' })],
    ['an UNKNOWN RpcError', new RpcError('bug')],
    ['a plain Error', new Error('bug')],
    ['a thrown string', 'oops'],
    ['undefined', undefined],
    ['an object that only looks like an RpcError', { code: 'UNAVAILABLE' }],
  ])('isRetryable - does not retry %s', (_, error) => {
    expect(isRetryable(error)).toBe(false);
  });
});
