import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['spec/**/*.spec.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    sequence: { hooks: 'stack' },
    reporters: ['default', './spec/support/summary-reporter.ts'],
  },
});
