import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, sources } from '../support/sources.js';

describe('lib/util', () => {
  it('lib/util - is a leaf: its files import nothing from the other folders of lib/', () => {
    const offenders = sources(join(ROOT, 'lib/util')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)[^;]*?from '(\.\.\/[^']*)'/gm)].map(
        (match) => `${relative(ROOT, file)} imports ${match[1]}`,
      ),
    );
    expect(offenders).toEqual([]);
  });
});
