import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { errorSummary } from '../../lib/cli/error-report.js';
import { ExitCode, exitCodeOf } from '../../lib/cli/exit-code.js';
import { UsageError } from '../../lib/cli/usage-error.js';
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
  ServiceError,
  UnauthenticatedError,
} from '../../lib/errors/errors.js';
import { RpcError } from '../../lib/errors/rpc-error.js';

describe('exitCodeOf', () => {
  it('exitCodeOf - maps each error class to its documented exit code', () => {
    const table: ReadonlyArray<readonly [unknown, number]> = [
      [new ServiceError('divide by zero'), ExitCode.ServiceError],
      [new UnauthenticatedError('unauthorized'), ExitCode.ServiceError],
      [new UsageError('bad flag'), ExitCode.Usage],
      [new CommanderError(1, 'commander.unknownOption', 'unknown option'), ExitCode.Usage],
      [new RangeError('timeoutMs must be an integer'), ExitCode.Usage],
      [new ConnectionError('refused'), ExitCode.Unavailable],
      [new ResourceExhaustedError('server busy'), ExitCode.Unavailable],
      [new ConnectionClosedError('gone'), ExitCode.Unavailable],
      [new NoInstanceError('none'), ExitCode.Unavailable],
      [new CircuitOpenError('open'), ExitCode.Unavailable],
      [new DeadlineExceededError('slow'), ExitCode.DeadlineExceeded],
      [new CancelledError('interrupted'), ExitCode.Cancelled],
      [new ProtocolError('bad magic', { field: 'magic' }), ExitCode.Protocol],
      [new CodecError('not JSON'), ExitCode.Protocol],
      [
        new ConnectionClosedError('closed', {
          cause: new ProtocolError('bad magic 0x48', { field: 'magic' }),
        }),
        ExitCode.Protocol,
      ],
      [new RpcError('what'), ExitCode.Internal],
      [new Error('bug'), ExitCode.Internal],
      [new TypeError('x is undefined'), ExitCode.Internal],
      ['a string', ExitCode.Internal],
    ];
    for (const [error, code] of table) expect(exitCodeOf(error), String(error)).toBe(code);
  });

  it('errorSummary - names the kind with the server reason, and never throws', () => {
    expect(errorSummary(new ServiceError('no method', { details: { reason: 'NOT_FOUND' } }))).toEqual({
      kind: 'SERVICE_ERROR/NOT_FOUND',
      message: 'no method',
      exitCode: 1,
    });
    expect(errorSummary(new UsageError('bad')).kind).toBe('USAGE');
    const hostile = new Proxy(
      {},
      {
        get: () => {
          throw new Error('no');
        },
      },
    );
    expect(errorSummary(hostile)).toMatchObject({ kind: 'INTERNAL', exitCode: ExitCode.Internal });
  });
});
