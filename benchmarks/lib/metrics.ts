// phobos/metrics as users run it: dist/metrics/index.js, typed by lib/metrics/index.ts (see compiled.ts).
import type * as Metrics from '../../lib/metrics/index.js';
import { compiledModule } from './compiled.js';

/** The compiled metrics module. */
export const metrics: typeof Metrics = await import(compiledModule('metrics/index.js'));
