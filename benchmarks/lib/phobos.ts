// The library as users run it: dist/index.js, typed by lib/index.ts (see compiled.ts).
import type * as Phobos from '../../lib/index.js';
import type * as Protocol from '../../lib/protocol/index.js';
import { compiledModule } from './compiled.js';

/** The compiled library. */
export const phobos: typeof Phobos = await import(compiledModule('index.js'));

/** The compiled wire level (`phobos/protocol`). */
export const protocol: typeof Protocol = await import(compiledModule('protocol/index.js'));
