// `npm run bench` (quick), `npm run bench -- --full`, `npm run bench -- --soak`: see README.md.
import { runHarness } from './harness/run.js';

process.exitCode = await runHarness(process.argv.slice(2));
