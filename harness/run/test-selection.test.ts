// `matrix --test` on a kernel that does not boot: the cell stands for the selected tests only,
// not a row of errors for the whole catalog (fake vng that panics; the real catalog).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMatrix } from './run-matrix.js';
import { writeMatrixReports } from '../report/reports.js';
import { allCases, loadCatalog } from '../judge/catalog.js';
import { effectiveCases, testRows } from '../report/table.js';

const FAKE = new URL('../../vm/fixtures/fake-vng.sh', import.meta.url).pathname;
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-sel-'));
  process.env.PIDFD_MATRIX_VNG = FAKE;
  process.env.PIDFD_MATRIX_CACHE = join(work, 'cache');
  mkdirSync(join(work, 'k'));
  const b = Buffer.alloc(0x400);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x100, 0x20e);
  b.write('6.1.0-fake (t@t) #1\0', 0x300, 'latin1');
  writeFileSync(join(work, 'k/bzImage'), b);
});
afterAll(() => {
  delete process.env.PIDFD_MATRIX_VNG;
  delete process.env.PIDFD_MATRIX_CACHE;
  rmSync(work, { recursive: true, force: true });
});

describe('--test with a failed boot', () => {
  it('errors only the selected tests (a case id and a whole feature), in every report', async () => {
    const out = join(work, 'out');
    const tests = ['pidfd_open/self', 'pidfd_send_signal'];
    const run = await runMatrix({
      kernels: [{ id: 'boom', source: 'path', kernel: join(work, 'k/bzImage'), append: 'fake_mode=panic' }],
      outDir: out, jobs: 1, timeoutSec: 60, accel: 'tcg', command: 'test', tests, bootRetries: 0,
    });
    const cell = run.cells[0];
    expect(cell.error?.reason).toMatch(/^kernel panic: /);
    expect(cell.tests).toEqual(tests);
    const want = allCases(loadCatalog()).filter((c) => c.id === 'pidfd_open/self' || c.feature === 'pidfd_send_signal').map((c) => c.id);
    expect(want.length).toBeGreaterThan(1);
    const shown = effectiveCases(cell, testRows([cell]));
    expect(shown.map((c) => c.id)).toEqual(want);
    expect(shown.every((c) => c.status === 'error')).toBe(true);
    await writeMatrixReports(run.cells, out);
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect(junit).toContain(`<testsuite name="boom" tests="${want.length}" failures="0" errors="${want.length}"`);
    // A cell of a whole-catalog run that fails to boot still stands for every case.
    const whole = { ...cell, tests: undefined };
    expect(effectiveCases(whole, testRows([whole]))).toHaveLength(allCases(loadCatalog()).length);
  });
});
