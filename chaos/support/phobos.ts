// The library as users run it: the compiled JavaScript in dist/ (`npm run build`, which
// `npm run chaos` runs first), typed by lib/. Every process of the suite loads it from here.
import { existsSync } from 'node:fs';
import type * as Phobos from '../../lib/index.js';
import type * as Protocol from '../../lib/protocol/index.js';

const compiled = new URL('../../dist/index.js', import.meta.url);
if (!existsSync(compiled))
  throw new Error('dist/ is missing: run `npm run build` first (npm run chaos does)');

/** The compiled library. */
export const phobos: typeof Phobos = await import(compiled.href);

/** The compiled wire level (`phobos/protocol`). */
export const protocol: typeof Protocol = await import(
  new URL('../../dist/protocol/index.js', import.meta.url).href
);
