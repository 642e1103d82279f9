// The library as users run it: the compiled JavaScript in dist/ (`npm run build`), typed by lib/.
import { existsSync } from 'node:fs';
import type * as Phobos from '../../lib/index.js';

const compiled = new URL('../../dist/index.js', import.meta.url);
if (!existsSync(compiled))
  throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');

/** The compiled library. */
export const phobos: typeof Phobos = await import(compiled.href);
