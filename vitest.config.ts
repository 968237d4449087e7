// Self-tests of the harness (fixtures, expectation logic, reports, VM plumbing). The probe
// suite itself runs without vitest: dist/suites/lib/supervisor.js (README: How a cell runs).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'kernels/**/*.test.ts', 'vm/**/*.test.ts', 'suites/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
