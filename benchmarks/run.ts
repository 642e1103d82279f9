// `npm run bench`: every benchmark in turn, with their default settings.
import { spawnSync } from 'node:child_process';

const benchmarks = ['one-connection.ts'];
let failed = false;
for (const file of benchmarks) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', new URL(`./${file}`, import.meta.url).pathname, ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  failed ||= result.status !== 0;
}
process.exitCode = failed ? 1 : 0;
