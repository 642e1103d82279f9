import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sources } from '../support/sources.js';

describe('phobos/gateway entry point', () => {
  it('phobos/gateway - is its own package export; the core imports it only as types, or lazily for the http option', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { import?: string }>;
    };
    expect(pkg.exports['./gateway']?.import).toBe('./dist/gateway/index.js');
    const outside = sources(join(ROOT, 'lib')).filter(
      (file) => !relative(join(ROOT, 'lib'), file).startsWith('gateway'),
    );
    // A value import (not `import type`) of lib/gateway from the core would load it for every program.
    const offenders = outside
      .filter((file) =>
        /^import (?!type )[^;]*from '[./]+\/gateway\/[^']*'/m.test(readFileSync(file, 'utf8')),
      )
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
    const lazy = outside.filter((file) => /await import\('[./]+\/gateway\//.test(readFileSync(file, 'utf8')));
    expect(lazy.map((file) => relative(ROOT, file))).toEqual(['lib/server/server.ts']);
    // The rule above sees value imports: lib/gateway has them between its own files.
    expect(readFileSync(join(ROOT, 'lib/gateway/in-process.ts'), 'utf8')).toMatch(
      /^import \{[^}]*Gateway[^}]*\} from '\.\/gateway\.js'/m,
    );
  });
});
