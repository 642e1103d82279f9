// `npm run bench` (quick), `npm run bench -- --full`, `npm run bench -- --soak`: see README.md.
// The arguments are read first, so that --help and a bad command line answer without loading
// the compiled library (dist/) the benchmarks run.
import { HARNESS_USAGE, HarnessUsageError, parseHarnessArgs } from './harness/harness-options.js';

const argv = process.argv.slice(2);
let command: ReturnType<typeof parseHarnessArgs> | undefined;
try {
  command = parseHarnessArgs(argv);
} catch (error) {
  if (!(error instanceof HarnessUsageError)) throw error;
  console.error(`bench: ${error.message} (run with --help for the flags)`);
  process.exitCode = 2;
}
if (command?.kind === 'help') {
  console.log(HARNESS_USAGE);
} else if (command !== undefined) {
  let harness: typeof import('./harness/run.js') | undefined;
  try {
    harness = await import('./harness/run.js');
  } catch (error) {
    // Most likely dist/ is not built: `npm run bench` builds it, `npx tsx benchmarks/run.ts` does not.
    console.error(`bench: cannot load the harness: ${(error as Error).message}`);
    process.exitCode = 1;
  }
  if (harness !== undefined) process.exitCode = await harness.runHarness(command, argv);
}
