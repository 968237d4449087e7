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
    // One worker process runs every file in one module graph: under TCG each extra node
    // process costs seconds of emulated startup and transform. On the host this took the
    // suite from 13 s to 5 s (user CPU 11.9 s -> 2.3 s). Probes are sequential anyway:
    // they spawn and reap their own children, and one file's children must not race another's.
    isolate: false,
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 30_000,
    // Probes spawn and reap children; a second attempt would hide real flakiness.
    retry: 0,
  },
});
