import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttemptFailure,
  attemptsFailedError,
  isServerFailure,
} from '../../lib/client/attempt-failures.js';
import {
  CircuitOpenError,
  ConnectionClosedError,
  ConnectionError,
  DeadlineExceededError,
  NoInstanceError,
  ResourceExhaustedError,
  ServiceError,
  UnauthenticatedError,
} from '../../lib/errors/errors.js';
import { RpcError } from '../../lib/errors/rpc-error.js';

const addressArb = fc
  .tuple(fc.constantFrom('10.0.0.1', '10.0.0.2', 'db.local', '::1'), fc.integer({ min: 1, max: 65535 }))
  .map(([host, port]) => (host.includes(':') ? `tcp@[${host}]:${port}` : `tcp@${host}:${port}`));
const failureArb: fc.Arbitrary<AttemptFailure> = fc.record({
  address: addressArb,
  code: fc.constantFrom(
    'UNAVAILABLE',
    'RESOURCE_EXHAUSTED',
    'CONNECTION_CLOSED',
    'DEADLINE_EXCEEDED',
    'CIRCUIT_OPEN',
  ),
  message: fc.string({ minLength: 1, maxLength: 80 }),
});
/** The call's final error, of each kind that lists the attempts before it. */
const lastArb = fc.constantFrom(
  () => new ConnectionError('cannot connect to tcp@x:1: refused', { details: { address: 'tcp@x:1' } }),
  () => new ConnectionClosedError('connection to tcp@x:1 closed: reset', { details: { address: 'tcp@x:1' } }),
  () => new ResourceExhaustedError('server busy: ...', { details: { address: 'tcp@x:1' } }),
  () => new DeadlineExceededError('no answer', { details: { timeoutMs: 5 } }),
  () => new CircuitOpenError('every server of S has an open circuit breaker', { details: { instances: [] } }),
  () =>
    new CircuitOpenError('the circuit breaker is half-open', { details: { state: { state: 'half-open' } } }),
  () => new NoInstanceError('no server known for service S', { details: { service: 'S' } }),
);

function failure(address: string, message: string, code: AttemptFailure['code'] = 'UNAVAILABLE') {
  return { address, code, message };
}

describe('attemptsFailedError', () => {
  it('attemptsFailedError - names every server tried with its own error, keeps the kind of the last error, and lists the attempts in details (property)', () => {
    fc.assert(
      fc.property(
        fc.array(failureArb, { minLength: 1, maxLength: 8 }),
        lastArb,
        fc.option(fc.integer({ min: 0, max: 10 }), { nil: undefined }),
        (attempts, makeLast, known) => {
          const last = makeLast();
          const error = attemptsFailedError('S', 'M', attempts, last, known);
          expect(error).toBeInstanceOf(last.constructor as typeof RpcError);
          expect(error.code).toBe(last.code);
          expect(error.name).toBe(last.name);
          expect(error.cause).toBe(last);
          expect(error.details).toMatchObject({ ...last.details, service: 'S', method: 'M' });
          expect(error.details.attempts).toEqual(attempts);
          expect(error.message.startsWith('S.M: ')).toBe(true);
          for (const attempt of attempts) {
            expect(error.message).toContain(`${attempt.address} (`);
            expect(error.message).toContain(attempt.message.slice(0, 300));
          }
          // What decides a retry is the same as for the last error.
          expect(isServerFailure(error)).toBe(true);
          expect('state' in error.details).toBe('state' in last.details);
        },
      ),
    );
  });

  it('attemptsFailedError - "all 3 servers failed" when each server discovery lists was tried, without repeating the address in each reason', () => {
    const error = attemptsFailedError(
      'HelloWorld',
      'Greet',
      [
        failure('tcp@a:1', 'cannot connect to tcp@a:1: connect ECONNREFUSED'),
        failure('tcp@b:2', 'connection to tcp@b:2 closed: the server closed it', 'CONNECTION_CLOSED'),
        failure('tcp@c:3', 'cannot connect to tcp@c:3: no answer within 5000 ms'),
      ],
      new ConnectionError('cannot connect to tcp@c:3: no answer within 5000 ms', {
        details: { address: 'tcp@c:3' },
      }),
      3,
    );
    expect(error).toBeInstanceOf(ConnectionError);
    expect(error.message).toBe(
      'HelloWorld.Greet: all 3 servers failed: tcp@a:1 (cannot connect: connect ECONNREFUSED), ' +
        'tcp@b:2 (connection closed: the server closed it), tcp@c:3 (cannot connect: no answer within 5000 ms); ' +
        'check that they are up and reachable from here',
    );
  });

  it('attemptsFailedError - repeated attempts on one server are counted; some of the known servers, or a deadline, say so', () => {
    const refused = 'cannot connect to tcp@a:1: connect ECONNREFUSED';
    const retried = attemptsFailedError(
      'S',
      'M',
      [failure('tcp@a:1', refused), failure('tcp@a:1', refused), failure('tcp@a:1', refused)],
      new ConnectionError(refused),
      4,
    );
    expect(retried.message).toBe(
      'S.M: 1 of 4 servers failed: tcp@a:1 (3 attempts: cannot connect: connect ECONNREFUSED); check that it is up and reachable from here',
    );
    const onTwo = (last: RpcError, known: number | undefined) =>
      attemptsFailedError(
        'S',
        'M',
        ['tcp@a:1', 'tcp@b:1'].map((address) => failure(address, last.message, last.code)),
        last,
        known,
      );
    const slow = onTwo(new DeadlineExceededError('M did not answer'), undefined);
    expect(slow).toBeInstanceOf(DeadlineExceededError);
    expect(slow.message).toMatch(/^S\.M: 2 servers failed: .*; they are slow to answer: raise timeoutMs/);
    const busy = onTwo(new ResourceExhaustedError('server busy'), 2);
    expect(busy).toBeInstanceOf(ResourceExhaustedError);
    expect(busy.message).toBe(
      'S.M: all 2 servers failed: tcp@a:1 (server busy), tcp@b:1 (server busy); they are busy: send fewer calls at once, or add servers',
    );
  });

  it('attemptsFailedError - every breaker open, or no server left, after failures: the error says so and lists them', () => {
    const attempts = [failure('tcp@a:1', 'refused'), failure('tcp@b:1', 'refused')];
    const open = attemptsFailedError(
      'S',
      'M',
      attempts,
      new CircuitOpenError('every server of S has an open circuit breaker', {
        details: { instances: ['tcp@a:1'] },
      }),
      2,
    );
    expect(open).toBeInstanceOf(CircuitOpenError);
    expect(open.message).toMatch(
      /^S\.M: every server's circuit breaker is open, after all 2 servers failed: tcp@a:1 \(refused\), tcp@b:1 \(refused\)/,
    );
    expect(open.details.instances).toEqual(['tcp@a:1']);
    const gone = attemptsFailedError(
      'S',
      'M',
      attempts,
      new NoInstanceError('no server known for service S'),
      0,
    );
    expect(gone).toBeInstanceOf(NoInstanceError);
    expect(gone.message).toMatch(
      /^S\.M: no server left to try after 2 servers failed: .*; no server known for service S$/,
    );
  });

  it('attemptsFailedError - a reason past 300 characters is cut', () => {
    const long = 'x'.repeat(1_000);
    const error = attemptsFailedError(
      'S',
      'M',
      [failure('tcp@a:1', long), failure('tcp@b:1', 'refused')],
      new ConnectionError('refused'),
      2,
    );
    expect(error.message).toContain(`tcp@a:1 (${'x'.repeat(300)}...)`);
    expect(error.message.length).toBeLessThan(500);
  });
});

describe('isServerFailure', () => {
  it.each<[string, unknown, boolean]>([
    ['a ConnectionError', new ConnectionError('x'), true],
    ['a ConnectionClosedError', new ConnectionClosedError('x'), true],
    ['a ResourceExhaustedError: the server was busy', new ResourceExhaustedError('x'), true],
    ['a DeadlineExceededError', new DeadlineExceededError('x'), true],
    ['a CircuitOpenError', new CircuitOpenError('x'), true],
    ['a NoInstanceError', new NoInstanceError('x'), true],
    ['a ServiceError: the service answered', new ServiceError('x'), false],
    ['an UnauthenticatedError: the token was refused', new UnauthenticatedError('x'), false],
    ['an RpcError of code CANCELLED', new RpcError('x', { code: 'CANCELLED' }), false],
    ['a plain Error', new Error('x'), false],
    ['a string', 'x', false],
  ])('isServerFailure - %s: %s', (_name, error, expected) => {
    expect(isServerFailure(error)).toBe(expected);
  });
});
