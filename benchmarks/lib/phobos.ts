// The library as users run it: dist/index.js, typed by lib/index.ts (see compiled.ts).
import type * as Phobos from '../../lib/index.js';
import { compiledModule } from './compiled.js';

/** The compiled library. */
export const phobos: typeof Phobos = await import(compiledModule('index.js'));
