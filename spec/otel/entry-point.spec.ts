import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sources } from '../support/sources.js';

/** Every module a file imports or re-exports, statically (types too) or lazily. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gm)].map(
    (match) => match[1] ?? '',
  );
  const bare = [...text.matchAll(/^import\s+'([^']+)'/gm)].map((match) => match[1] ?? '');
  const lazy = [...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((match) => match[1] ?? '');
  return [...found, ...bare, ...lazy];
}

describe('phobos/otel entry point', () => {
  it('phobos/otel - is its own package export, with @opentelemetry/api an optional peer dependency', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, { import?: string }>;
      dependencies: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    expect(pkg.exports['./otel']?.import).toBe('./dist/otel/index.js');
    expect(pkg.dependencies['@opentelemetry/api']).toBeUndefined();
    expect(pkg.peerDependenciesMeta?.['@opentelemetry/api']?.optional).toBe(true);
  });

  it('phobos/otel - nothing outside lib/otel imports @opentelemetry or lib/otel, not even as types', () => {
    const outside = sources(join(ROOT, 'lib')).filter(
      (file) => !relative(join(ROOT, 'lib'), file).startsWith('otel'),
    );
    // A program that does not trace may not have the optional peer @opentelemetry/api installed.
    const offenders = outside
      .filter((file) =>
        importsOf(file).some((module) => module.startsWith('@opentelemetry/') || /(^|\/)otel\//.test(module)),
      )
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
  });

  it('phobos/otel - imports @opentelemetry/api only, the one peer dependency', () => {
    const imported = sources(join(ROOT, 'lib/otel')).flatMap((file) =>
      importsOf(file).filter((module) => module.startsWith('@opentelemetry/')),
    );
    // The rule above would see these imports if the core had them.
    expect(imported).toContain('@opentelemetry/api');
    expect(new Set(imported)).toEqual(new Set(['@opentelemetry/api']));
  });
});
