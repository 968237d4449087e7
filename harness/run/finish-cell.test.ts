// Each cell's files are written exactly once in a matrix run (finishCell, after its boot
// retries), and the merged files once: every atomic write of a real `matrix` command is
// counted, with a fake vng (vm/fixtures/fake-vng.sh): a good guest and one that panics at
// boot and is booted again.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fakeBzImage } from '../../vm/fixtures/fake-bzimage.js';

const writes = vi.hoisted(() => [] as string[]);
vi.mock('../report/report-text.js', async (orig) => {
  const real = await orig<typeof import('../report/report-text.js')>();
  return { ...real, writeFileAtomic: async (path: string, data: string) => { writes.push(path); await real.writeFileAtomic(path, data); } };
});
const { matrixCommand } = await import('../commands/matrix.js');

const FAKE = new URL('../../vm/fixtures/fake-vng.sh', import.meta.url).pathname;
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-writes-'));
  process.env.PIDFD_MATRIX_VNG = FAKE;
  process.env.PIDFD_MATRIX_CACHE = join(work, 'cache');
  mkdirSync(join(work, 'k'));
  writeFileSync(join(work, 'k/bzImage'), fakeBzImage('6.1.0-fake'));
});
afterAll(() => {
  delete process.env.PIDFD_MATRIX_VNG;
  delete process.env.PIDFD_MATRIX_CACHE;
  rmSync(work, { recursive: true, force: true });
});

describe('a matrix run writes each file once', () => {
  it('cell files once per cell (retried boots included), merged files once', async () => {
    const kernel = join(work, 'k/bzImage');
    const matrix = join(work, 'matrix.yaml');
    writeFileSync(matrix, `kernels:
  - id: good
    source: path
    kernel: ${kernel}
    append: fake_mode=ok
  - id: boom
    source: path
    kernel: ${kernel}
    append: fake_mode=panic
`);
    const out = join(work, 'out');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const code = await matrixCommand.run(['--matrix', matrix, '--out', out, '--accel', 'tcg', '--test', 'pidfd_open/self', '--boot-retries', '1']).finally(() => log.mockRestore());
    expect(code).toBe(1); // boom is an error cell
    const counts = new Map<string, number>();
    for (const w of writes) counts.set(relative(out, w), (counts.get(relative(out, w)) ?? 0) + 1);
    expect(Object.fromEntries(counts)).toEqual({
      'good/results.json': 1, 'good/junit.xml': 1, 'good/results.ktap': 1,
      'boom/results.json': 1, 'boom/junit.xml': 1, 'boom/results.ktap': 1,
      'junit.xml': 1, 'results.ktap': 1, 'index.html': 1, 'summary.md': 1,
    });
    // What was written once is the finished cell: health applied, the retried boot recorded.
    const boom = JSON.parse(readFileSync(join(out, 'boom/results.json'), 'utf8'));
    expect(boom.error.reason).toMatch(/^kernel panic/);
    expect(boom.earlierAttempts).toHaveLength(1);
    const good = JSON.parse(readFileSync(join(out, 'good/results.json'), 'utf8'));
    expect(good.cases.map((c: { id: string }) => c.id)).toEqual(['pidfd_open/self', 'kernel_health']);
  });
});
