import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIOME = fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url));

/**
 * Formats generated files (RESULTS.md, results JSON) with the repository's Biome, so they pass
 * `biome check` like hand-written files. Warns, without failing, when Biome is not installed or
 * cannot format them.
 *
 * @example
 * ```ts
 * formatGenerated([RESULTS_FILE, jsonFile]);
 * ```
 */
export function formatGenerated(files: readonly URL[]): void {
  if (!existsSync(BIOME)) {
    console.warn('warning: Biome is not installed; generated files are left unformatted');
    return;
  }
  const result = spawnSync(BIOME, ['format', '--write', ...files.map((file) => fileURLToPath(file))], {
    encoding: 'utf8',
  });
  if (result.status !== 0)
    console.warn(`warning: biome format failed on the generated files:\n${result.stderr}${result.stdout}`);
}
