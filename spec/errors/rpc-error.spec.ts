import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeThrown, UNDESCRIBABLE } from '../../lib/errors/describe-thrown.js';
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
} from '../../lib/index.js';
import { hostileValue } from '../support/hostile-values.js';

describe('RpcError', () => {
  it.each([
    [new ServiceError('x'), 'SERVICE_ERROR', 'ServiceError'],
    [new DeadlineExceededError('x'), 'DEADLINE_EXCEEDED', 'DeadlineExceededError'],
    [new CancelledError('x'), 'CANCELLED', 'CancelledError'],
    [new CircuitOpenError('x'), 'CIRCUIT_OPEN', 'CircuitOpenError'],
    [new NoInstanceError('x'), 'NO_INSTANCE', 'NoInstanceError'],
    [new ConnectionError('x'), 'UNAVAILABLE', 'ConnectionError'],
    [new ConnectionClosedError('x'), 'CONNECTION_CLOSED', 'ConnectionClosedError'],
    [new ProtocolError('x', { field: 'magic' }), 'PROTOCOL_ERROR', 'ProtocolError'],
    [new CodecError('x'), 'CODEC_ERROR', 'CodecError'],
    [new UnauthenticatedError('x'), 'UNAUTHENTICATED', 'UnauthenticatedError'],
    [new ResourceExhaustedError('x'), 'RESOURCE_EXHAUSTED', 'ResourceExhaustedError'],
    [new RpcError('x'), 'UNKNOWN', 'RpcError'],
    [new RpcError('x', { code: 'UNAVAILABLE' }), 'UNAVAILABLE', 'RpcError'],
  ])('%s has its code and its class name', (error, code, name) => {
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(RpcError);
    expect(error).toBeInstanceOf(Error);
  });

  it('instanceof follows the hierarchy and nothing else', () => {
    const closed = new ConnectionClosedError('gone');
    expect(closed instanceof ConnectionError).toBe(true);
    expect(closed instanceof ConnectionClosedError).toBe(true);
    expect(closed instanceof ServiceError).toBe(false);
    expect(new ConnectionError('x') instanceof ConnectionClosedError).toBe(false);
    expect(new Error('x') instanceof RpcError).toBe(false);
    expect((null as unknown) instanceof RpcError).toBe(false);
    expect(('ServiceError' as unknown) instanceof ServiceError).toBe(false);
  });

  it('instanceof works for an error made by another copy of the package (brand check)', () => {
    // Another copy has other class objects but stamps the same brand on its errors.
    const foreign = Object.create(Error.prototype) as Error;
    Object.defineProperty(foreign, Symbol.for('phobos.RpcError.kinds'), {
      value: ['ConnectionClosedError', 'ConnectionError', 'RpcError'],
    });
    expect(foreign instanceof ConnectionError).toBe(true);
    expect(foreign instanceof RpcError).toBe(true);
    expect(foreign instanceof ServiceError).toBe(false);
  });

  it('keeps cause and details', () => {
    const cause = new Error('socket hang up');
    const error = new ConnectionClosedError('closed', { cause, details: { address: 'tcp@127.0.0.1:1' } });
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ address: 'tcp@127.0.0.1:1' });
    const tooLong = new ProtocolError('too long', { field: 'length', cause, details: { frameBytes: 9 } });
    expect(tooLong.field).toBe('length');
    expect(tooLong.details).toEqual({ field: 'length', frameBytes: 9 });
    expect(tooLong.cause).toBe(cause);
    expect(tooLong.message).toBe('too long');
  });

  it('every class takes (message, options): a code given in the options of a subclass is not taken', () => {
    const options = { cause: 'why', details: { k: 1 }, code: 'CANCELLED' } as const;
    const made = [
      new ServiceError('m', options),
      new DeadlineExceededError('m', options),
      new CircuitOpenError('m', options),
      new NoInstanceError('m', options),
      new ConnectionError('m', options),
      new ConnectionClosedError('m', options),
      new ProtocolError('m', { ...options, field: 'magic' }),
      new CodecError('m', options),
      new UnauthenticatedError('m', options),
      new ResourceExhaustedError('m', options),
    ];
    for (const error of made) {
      expect([error.message, error.cause, error.details.k]).toEqual(['m', 'why', 1]);
      expect(error.code).not.toBe('CANCELLED');
    }
    expect(new ConnectionClosedError('m').code).toBe('CONNECTION_CLOSED');
  });

  it('from() returns an RpcError as is, wraps an Error as its cause, and describes anything else', () => {
    const own = new ServiceError('mine');
    expect(RpcError.from(own)).toBe(own);
    const type = new TypeError('bad');
    const wrapped = RpcError.from(type);
    expect(wrapped).toBeInstanceOf(RpcError);
    expect(wrapped.message).toBe('bad');
    expect(wrapped.cause).toBe(type);
    expect(wrapped.code).toBe('UNKNOWN');
    expect(RpcError.from('plain text').message).toBe('plain text');
    expect(RpcError.from({ a: 1 }).message).toBe('non-error value thrown: {"a":1}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(RpcError.from(cyclic).message).toBe('non-error value thrown: [object Object]');
    expect(RpcError.from(undefined).message).toBe('non-error value thrown: undefined');
  });

  it('from() turns the platform timeout into DeadlineExceededError and an abort into CancelledError, keeping them as the cause', () => {
    const timedOut = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const deadline = RpcError.from(timedOut);
    expect(deadline).toBeInstanceOf(DeadlineExceededError);
    expect(deadline.code).toBe('DEADLINE_EXCEEDED');
    expect(deadline.cause).toBe(timedOut);
    const rxjsTimeout = Object.assign(new Error('Timeout has occurred'), { name: 'TimeoutError' });
    expect(RpcError.from(rxjsTimeout)).toBeInstanceOf(DeadlineExceededError);
    const aborted = new DOMException('This operation was aborted', 'AbortError');
    const cancelled = RpcError.from(aborted);
    expect(cancelled).toBeInstanceOf(CancelledError);
    expect(cancelled.code).toBe('CANCELLED');
    expect(cancelled.message).toBe('This operation was aborted');
    // Only errors: a plain object that says it is one is described, not trusted.
    expect(RpcError.from({ name: 'TimeoutError' }).code).toBe('UNKNOWN');
  });

  it('from() and instanceof never throw, whatever the value (property)', () => {
    fc.assert(
      fc.property(hostileValue, (recipe) => {
        const value = recipe.make();
        const error = RpcError.from(value);
        expect(error).toBeInstanceOf(RpcError);
        expect(typeof error.message).toBe('string');
        expect(value instanceof ServiceError).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('describeThrown', () => {
  it('falls back step by step: message, JSON, String, then a fixed text', () => {
    expect(describeThrown(new TypeError('bad'))).toBe('bad');
    expect(describeThrown('text')).toBe('text');
    expect(describeThrown([1, 'a'])).toBe('non-error value thrown: [1,"a"]');
    expect(describeThrown(10n)).toBe('non-error value thrown: 10');
    expect(describeThrown(Symbol('s'))).toBe('non-error value thrown: Symbol(s)');
    const nullPrototype = Object.create(null) as Record<string, unknown>;
    nullPrototype.big = 1n;
    expect(describeThrown(nullPrototype)).toBe(UNDESCRIBABLE);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(describeThrown(proxy)).toBe(UNDESCRIBABLE);
    const badMessage = new Error('unused');
    Object.defineProperty(badMessage, 'message', {
      get() {
        throw new Error('getter');
      },
    });
    expect(describeThrown(badMessage)).toMatch(/^non-error value thrown: /);
  });

  it('never shows the source of a function', () => {
    expect(describeThrown(function secret() {})).toBe('non-error value thrown: a function');
  });
});
