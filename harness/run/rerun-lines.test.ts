// Rerun lines reproduce the run that wrote them: a custom matrix file, report dir, time limit
// and guest size are all carried, so `rerun my-build` works from anywhere. Real host cells
// through the CLI; the guest options are checked on the lines of a fake-vng guest.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';
import { defaultGuestCpus, rerunArgs, rerunPrefix } from './run-matrix.js';

const work = mkdtempSync(join(tmpdir(), 'pidfd-matrix-rerun-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const cli = (args: string[], cwd = work) => spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), ...args], { encoding: 'utf8', cwd });
const cellOf = (dir: string, id: string) => JSON.parse(readFileSync(join(dir, id, 'results.json'), 'utf8')) as CellResult;

describe('rerun lines of a matrix run', () => {
  it('carry --matrix, --out and --timeout, so `rerun my-build` reruns the cell and one test of it', { timeout: 120_000 }, () => {
    const file = join(work, 'my.yaml');
    writeFileSync(file, 'kernels:\n  - id: my-build\n    source: host\n  - id: other\n    source: host\n');
    const out = join(work, 'out');
    const first = cli(['matrix', '--matrix', 'my.yaml', '--kernels', 'my-build,other', '--out', 'out', '--timeout', '300', '--test', 'pidfd_open']);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    const cell = cellOf(out, 'my-build');
    const opts = `--matrix ${file} --out ${out} --timeout 300`;
    expect(cell.rerun).toBe(`npx pidfd-matrix matrix --kernels my-build ${opts} --test pidfd_open`);
    const self = cell.cases.find((c) => c.id === 'pidfd_open/self')!;
    expect(self.rerun).toBe(`npx pidfd-matrix matrix --kernels my-build ${opts} --test pidfd_open/self`);
    // From another directory, by kernel id: the recorded line runs and rewrites that cell.
    const elsewhere = mkdtempSync(join(tmpdir(), 'pidfd-matrix-rerun-cwd-'));
    const again = cli(['rerun', 'my-build', '--results', out, '--test', 'pidfd_open/self'], elsewhere);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(`$ ${self.rerun}`);
    const rerun = cellOf(out, 'my-build');
    expect(rerun.cases.map((c) => `${c.id} ${c.status}`)).toEqual(['pidfd_open/self pass', 'kernel_health pass']);
    expect(rerun.provenance.command).toContain('--test pidfd_open/self');
    // The run's merged reports still hold both cells, not only the one rerun.
    expect(again.stdout).toContain('merged again from its 2 cells');
    const junit = readFileSync(join(out, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuite name="my-build"/);
    expect(junit).toMatch(/<testsuite name="other"/);
  });

  it('name the guest options that shaped the cell: accel, cpus, memory, boot retries', () => {
    const o = { matrixFile: '/m/x.yaml', outDir: '/r', timeoutSec: 600, accel: 'tcg' as const, cpus: 1, memory: '1536M', bootRetries: 0 };
    expect(rerunArgs(o)).toEqual(['--matrix', '/m/x.yaml', '--out', '/r', '--timeout', '600', '--accel', 'tcg', '--cpus', '1', '--memory', '1536M', '--boot-retries', '0']);
    expect(rerunPrefix('v6-1', { ...o, outDir: '/my reports' })).toContain(`--out '/my reports'`);
    // Defaults stay implicit: the default matrix, reports/, the default limit, accel auto.
    expect(rerunArgs({ outDir: repoPath('reports'), timeoutSec: 2400, accel: 'auto' })).toEqual([]);
  });
});

describe('defaultGuestCpus (vCPUs per guest when --cpus is not given)', () => {
  it('gives each guest running at once its share of the cores, 1 to 2', () => {
    expect(defaultGuestCpus(2, 8, 2)).toBe(1);  // this machine, --jobs 2: one core each
    expect(defaultGuestCpus(1, 8, 2)).toBe(2);  // one at a time: both cores
    expect(defaultGuestCpus(2, 1, 2)).toBe(2);  // one guest (a rerun line's case) has both
    expect(defaultGuestCpus(16, 3, 16)).toBe(2); // a big host: never more than the default 2
    expect(defaultGuestCpus(4, 8, 2)).toBe(1);  // more jobs than cores: still 1
    expect(defaultGuestCpus(2, 0, 2)).toBe(2);  // no guests (host, containers): unused
  });
});
