// Harness self-tests (*.test.ts outside suites/): `npx vitest run harness/`. The probe suite
// has its own config in suites/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['harness/**/*.test.ts', 'kernels/**/*.test.ts', 'vm/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
