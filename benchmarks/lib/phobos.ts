// The library as users run it: the compiled JavaScript in dist/ (`npm run build`), typed by lib/.
// PHOBOS_DIST names another build's dist/ directory (benchmarks/builds.ts compares two).
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type * as Phobos from '../../lib/index.js';

const compiled = process.env.PHOBOS_DIST
  ? pathToFileURL(`${process.env.PHOBOS_DIST}/index.js`)
  : new URL('../../dist/index.js', import.meta.url);
if (!existsSync(compiled))
  throw new Error(`${compiled.pathname} is missing: run \`npm run build\` first (npm run bench does)`);

/** The compiled library. */
export const phobos: typeof Phobos = await import(compiled.href);
