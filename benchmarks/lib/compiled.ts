// The library as users run it: the compiled JavaScript in dist/ (`npm run build`), typed by lib/.
// PHOBOS_DIST names another build's dist/ directory (benchmarks/builds.ts compares two).
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * The URL of a compiled module of the library: `file` (as `index.js` or `gateway/index.js`) under
 * `$PHOBOS_DIST`, or under the repository's `dist/`.
 *
 * @throws Error when the file is missing (the library is not built).
 * @example
 * ```ts
 * const phobos: typeof Phobos = await import(compiledModule('index.js'));
 * ```
 */
export function compiledModule(file: string): string {
  const url = process.env.PHOBOS_DIST
    ? pathToFileURL(`${process.env.PHOBOS_DIST}/${file}`)
    : new URL(`../../dist/${file}`, import.meta.url);
  if (!existsSync(url))
    throw new Error(`${url.pathname} is missing: run \`npm run build\` first (npm run bench does)`);
  return url.href;
}
