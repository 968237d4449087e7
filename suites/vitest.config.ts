// The probe suite: runs on the running kernel (host mode, or inside a guest).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['suites/**/*.probe.ts'],
    root: new URL('..', import.meta.url).pathname,
    pool: 'forks',
    testTimeout: 30_000,
    // Probes spawn and reap children; a second attempt would hide real flakiness.
    retry: 0,
  },
});
