// Real guests (slow: minutes under TCG). One matrix run with two guests in parallel:
//   - bookworm (6.1, the anon_inode era): the whole suite runs inside; no case fails or errors;
//   - the same kernel with `init=/nonexistent` appended, which really panics at boot: it must
//     become an error cell within its timeout while the other guest still completes;
//   - the same kernel with a 20 s limit, which a TCG boot never meets: the stand-in for a hung
//     guest, killed (qemu's process group) and reported as a timeout error cell.
// Needs `make deps` (vm/setup.sh) and the network to Debian's mirror for the first fetch.
// Runs in CI (CI=true) or with PIDFD_MATRIX_GUEST_TESTS=1 (make test sets it): a casual
// `npx vitest run` would otherwise start two TCG guests for 10+ minutes each time.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runMatrix, type MatrixRun } from '../harness/matrix.js';
import { loadMatrix, type KernelEntry } from '../kernels/matrix.js';
import { isBad } from '../harness/status.js';

const enabled = process.env.PIDFD_MATRIX_GUEST_TESTS === '1' || (!!process.env.CI && process.env.PIDFD_MATRIX_GUEST_TESTS !== '0');
const PANIC_TIMEOUT_SEC = 300;
const HANG_TIMEOUT_SEC = 20;

describe.skipIf(!enabled)('guest smoke (bookworm 6.1 under virtme-ng, accel auto)', () => {
  let run: MatrixRun;
  // Own dir per run: two test runs at once must not share reports/<id>/.
  const outDir = mkdtempSync(join(tmpdir(), 'pidfd-matrix-guest-smoke-'));
  const lines: string[] = [];
  beforeAll(async () => {
    const bookworm = loadMatrix().kernels.find((k) => k.id === 'bookworm');
    if (!bookworm || bookworm.source !== 'debian') throw new Error('kernels/matrix.yaml lost its bookworm entry');
    const panics: KernelEntry = { ...bookworm, id: 'bookworm-panic', append: 'init=/nonexistent', timeout: PANIC_TIMEOUT_SEC, ci: false };
    const hangs: KernelEntry = { ...bookworm, id: 'bookworm-hang', timeout: HANG_TIMEOUT_SEC, ci: false };
    run = await runMatrix({
      kernels: [bookworm, panics, hangs],
      outDir,
      jobs: 2,
      timeoutSec: 2400,
      accel: 'auto',
      command: 'vitest vm/guest-smoke.test.ts',
      progress: (l) => {
        lines.push(l);
        console.log(`guest-smoke: ${l}`);
      },
    });
  }, 45 * 60_000);

  it('bookworm ran the suite in a guest: cases ran, none failed or errored', () => {
    const cell = run.cells.find((c) => c.kernelId === 'bookworm')!;
    const detail = cell.error ? `${cell.error.reason} (console: ${outDir}/bookworm/console.log)\n${cell.error.consoleExcerpt ?? ''}` : '';
    expect(cell.error, detail).toBeNull();
    expect(cell.mode).toBe('guest');
    expect(cell.accel).toBe(run.accel!.accel);
    expect(cell.facts?.release).toMatch(/^6\.1\./);
    expect(cell.cases.length).toBeGreaterThan(0);
    const bad = cell.cases.filter((c) => isBad(c.status)).map((c) => `${c.status} ${c.id}: ${c.reason}`);
    expect(bad).toEqual([]);
    expect(cell.provenance.kernelSource).toMatch(/^debian bookworm linux-image-6\.1\./);
  });

  it('a kernel command line that panics at boot becomes an error cell within its timeout', () => {
    const cell = run.cells.find((c) => c.kernelId === 'bookworm-panic')!;
    expect(cell.error?.reason).toMatch(/^kernel panic: /);
    expect(cell.error?.consoleExcerpt).toContain('Kernel panic - not syncing');
    expect(cell.cases).toEqual([]);
    expect(cell.durationMs).toBeLessThan(PANIC_TIMEOUT_SEC * 1000);
    expect(run.cells.map((c) => c.kernelId)).toEqual(['bookworm', 'bookworm-panic', 'bookworm-hang']);
  });

  it('a guest that does not finish within its timeout is killed and becomes a timeout error cell', () => {
    const cell = run.cells.find((c) => c.kernelId === 'bookworm-hang')!;
    expect(cell.error?.reason).toMatch(new RegExp(`^no result within ${HANG_TIMEOUT_SEC}s \\(.*\\); killed$`));
    expect(cell.cases).toEqual([]);
    // Killed at the limit, not left running: well under the next-larger limit in this run.
    expect(cell.durationMs).toBeLessThan(PANIC_TIMEOUT_SEC * 1000);
  });
});
