// The probe suite: runs on the running kernel (host mode, or inside a guest).
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Never write caches into the checkout: inside a guest it is a read-only share.
  cacheDir: process.env.PIDFD_MATRIX_VITE_CACHE ?? join(tmpdir(), 'pidfd-matrix-vite'),
  test: {
    include: ['suites/**/*.probe.ts'],
    root: new URL('..', import.meta.url).pathname,
    pool: 'forks',
    testTimeout: 30_000,
    // Probes spawn and reap children; a second attempt would hide real flakiness.
    retry: 0,
  },
});
