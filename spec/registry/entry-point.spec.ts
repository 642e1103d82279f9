import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sources } from '../support/sources.js';

describe('phobos/etcd entry point', () => {
  it('phobos/etcd - is its own package export, and nothing outside lib/registry imports etcd3 or lib/registry', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { import?: string; default?: string }>;
      dependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(pkg.exports['./etcd']?.import).toBe('./dist/registry/index.js');
    expect(pkg.exports['./etcd']?.default).toBe('./dist/registry/index.js');
    // etcd3 (and the gRPC stack under it) is installed only by programs that use this entry point.
    expect(pkg.dependencies.etcd3).toBeUndefined();
    expect(pkg.dependencies.cockatiel).toBeUndefined();
    expect(pkg.peerDependenciesMeta.etcd3?.optional).toBe(true);
    const offenders = sources(join(ROOT, 'lib'))
      .filter((file) => !relative(join(ROOT, 'lib'), file).startsWith('registry'))
      .filter((file) => /from '(etcd3|cockatiel|[./]+\/registry\/[^']*)'/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
    // The rule above would see an import of etcd3 if there were one: lib/registry has them.
    expect(readFileSync(join(ROOT, 'lib/registry/etcd-client.ts'), 'utf8')).toMatch(/from 'etcd3'/);
  });
});
