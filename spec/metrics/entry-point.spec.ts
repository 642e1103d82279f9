import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sources } from '../support/sources.js';

describe('phobos/metrics entry point', () => {
  it('phobos/metrics - is its own package export; nothing outside it loads it or prom-client', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { import?: string }>;
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    expect(pkg.exports['./metrics']?.import).toBe('./dist/metrics/index.js');
    expect(pkg.dependencies['prom-client']).toBeUndefined();
    expect(pkg.peerDependencies['prom-client']).toBeDefined();
    expect(pkg.peerDependenciesMeta['prom-client']?.optional).toBe(true);
    const outside = sources(join(ROOT, 'lib')).filter(
      (file) => !relative(join(ROOT, 'lib'), file).startsWith('metrics'),
    );
    const offenders = outside
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        return /from '[./]+\/metrics\/[^']*'/.test(text) || /['"]prom-client['"]/.test(text);
      })
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
  });
});
