// The HTTP gateway as users run it: dist/gateway/index.js, typed by lib/gateway/index.ts (see compiled.ts).
import type * as Gateway from '../../lib/gateway/index.js';
import { compiledModule } from './compiled.js';

/** The compiled gateway module. */
export const gateway: typeof Gateway = await import(compiledModule('gateway/index.js'));
