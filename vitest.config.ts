import { defineConfig } from 'vitest/config';

/**
 * The etcd fault tests race a lease's TTL against moves through a cluster with a member frozen:
 * on a loaded 2-core machine the rest of the suite running beside them can eat their margin. They
 * run last, alone (a second project, group 1), after everything else (group 0).
 */
const ALONE = ['spec/integration/etcd-faults.spec.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    sequence: { hooks: 'stack' },
    reporters: ['default', './spec/support/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['spec/**/*.spec.ts'], exclude: ALONE, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'alone', include: ALONE, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
