// `bench` end to end with a fake vng (no qemu): one table, reports/bench.json with boot,
// boot+suite and ratio per kernel. No timing assertions: only that the numbers are there.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { benchCommand, benchKernels, benchTable } from './bench.js';
import { parseMatrix } from '../../kernels/matrix.js';
import { allCases, loadCatalog } from '../judge/catalog.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-bench-'));
  const b = Buffer.alloc(0x400);
  b.write('HdrS', 0x202, 'latin1');
  b.writeUInt16LE(0x100, 0x20e);
  b.write('6.1.0-fake (t@t) #1\0', 0x300, 'latin1');
  writeFileSync(join(work, 'bzImage'), b);
  writeFileSync(join(work, 'matrix.yaml'), `kernels:\n  - {id: fake, source: path, kernel: ${join(work, 'bzImage')}}\n`);
  process.env.PIDFD_MATRIX_VNG = new URL('../../vm/fixtures/fake-vng.sh', import.meta.url).pathname;
  process.env.PIDFD_MATRIX_CACHE = join(work, 'cache');
  process.env.FAKE_VNG_MODE = 'ok';
});
afterAll(() => {
  for (const v of ['PIDFD_MATRIX_VNG', 'PIDFD_MATRIX_CACHE', 'FAKE_VNG_MODE']) delete process.env[v];
  rmSync(work, { recursive: true, force: true });
});

describe('bench', () => {
  it('records bare boot, boot + suite and their ratio per kernel', async () => {
    const out: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    try {
      expect(await benchCommand.run(['--matrix', join(work, 'matrix.yaml'), '--accel', 'tcg', '--out', join(work, 'reports')])).toBe(0);
    } finally {
      log.mockRestore();
    }
    const doc = JSON.parse(readFileSync(join(work, 'reports/bench.json'), 'utf8'));
    expect(doc.rows).toHaveLength(1);
    const row = doc.rows[0];
    expect(row).toMatchObject({ kernelId: 'fake', release: '6.1.0-fake', mode: 'guest', accel: 'tcg', status: 'ok', cases: allCases(loadCatalog()).length });
    expect(typeof row.bootMs).toBe('number');
    expect(typeof row.suiteMs).toBe('number');
    expect(out.join('\n')).toMatch(/kernel\s+release\s+accel\s+boot \(true\)\s+boot\+suite\s+ratio/);
    // The phase split, from the fake's recorded console (kernel init 3.0 s: "Run /init" at 3.04).
    expect(out.join('\n')).toMatch(/kernel\s+qemu start\s+kernel init\s+virtme-init\s+command start\s+node ready\s+suite\s+shutdown\s+total\nfake\s+\S+\s+3\.0s\s+17\.8s/);
    expect(row.phases).toMatchObject({ kernelInitMs: 3_041, virtmeInitMs: 17_803 });
  });

  it('formats a host row without boot time or ratio', () => {
    const t = benchTable([{ kernelId: 'host', release: '6.18', mode: 'host', accel: null, bootMs: null, suiteMs: 13_000, ratio: null, status: 'ok', cases: 113 }]);
    expect(t.split('\n')[1]).toMatch(/^host\s+6\.18\s+host\s+-\s+13\.0s\s+-\s+113\s+ok$/);
  });

  it('benches each kernel once by default: lsm entries repeat a kernel and need --kernels', () => {
    const m = parseMatrix(`kernels:
  - {id: host, source: host}
  - {id: six, source: path, kernel: /k}
  - {id: six-selinux, source: path, kernel: /k, lsm: selinux}
  - {id: six-root, source: path, kernel: /k, root: trixie}
  - {id: six-arm64, source: path, kernel: /Image, arch: arm64, root: trixie}
`, 'm.yaml');
    // An arm64 entry's kernel is no other entry's: benched by default, on its root.
    expect(benchKernels(m, undefined).map((k) => k.id)).toEqual(['host', 'six', 'six-arm64']);
    expect(benchKernels(m, 'six-selinux').map((k) => k.id)).toEqual(['six-selinux']);
    expect(benchKernels(m, 'all').map((k) => k.id)).toEqual(['host', 'six', 'six-selinux', 'six-root', 'six-arm64']);
  });
});
