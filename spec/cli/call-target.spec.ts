import { describe, expect, it } from 'vitest';
import { callTarget, splitServiceMethod } from '../../lib/cli/call-target.js';
import { UsageError } from '../../lib/cli/usage-error.js';

const ETCD = { hosts: ['http://127.0.0.1:2379'], basePath: '/phobos' };

describe('callTarget', () => {
  it('callTarget - reads ADDRESS Service.Method [ARGS]', () => {
    expect(callTarget(['tcp@127.0.0.1:8972', 'HelloWorld.Greet', '{}'], undefined)).toEqual({
      destination: { kind: 'address', address: 'tcp@127.0.0.1:8972' },
      service: 'HelloWorld',
      method: 'Greet',
      args: '{}',
    });
    expect(callTarget(['localhost:1', 'pkg.Arith/Mul', undefined], undefined)).toMatchObject({
      service: 'pkg.Arith',
      method: 'Mul',
      args: undefined,
    });
  });

  it('callTarget - with --etcd reads Service.Method [ARGS]', () => {
    expect(callTarget(['HelloWorld.Greet', '{"First":"a"}', undefined], ETCD)).toEqual({
      destination: { kind: 'etcd', ...ETCD },
      service: 'HelloWorld',
      method: 'Greet',
      args: '{"First":"a"}',
    });
  });

  it('callTarget - refuses what is missing, extra or malformed with a UsageError', () => {
    const refused: ReadonlyArray<
      readonly [readonly (string | undefined)[], typeof ETCD | undefined, RegExp]
    > = [
      [['HelloWorld.Greet'], undefined, /missing ADDRESS/],
      [['tcp@127.0.0.1:1'], undefined, /missing Service\.Method after ADDRESS/],
      [['tcp@127.0.0.1:1', 'Greet'], undefined, /not Service\.Method/],
      [['tcp@127.0.0.1:1', '.Greet'], undefined, /not Service\.Method/],
      [['tcp@127.0.0.1:1', 'HelloWorld.'], undefined, /not Service\.Method/],
      [['127.0.0.1', 'A.B'], undefined, /bad ADDRESS/],
      [['tcp@127.0.0.1:1', 'A.B', '{}'], ETCD, /either ADDRESS or --etcd/],
      [['A.B', '{}', 'extra'], ETCD, /either ADDRESS or --etcd/],
    ];
    for (const [positionals, etcd, message] of refused) {
      expect(() => callTarget(positionals, etcd)).toThrow(UsageError);
      expect(() => callTarget(positionals, etcd)).toThrow(message);
    }
  });

  it('splitServiceMethod - splits at the last dot, or at a slash', () => {
    expect(splitServiceMethod('a.b.C')).toEqual({ service: 'a.b', method: 'C' });
    expect(splitServiceMethod('a.b/C')).toEqual({ service: 'a.b', method: 'C' });
  });
});
