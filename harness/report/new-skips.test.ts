// What the arch axis does not run, from two real cells of one kernel version on one root:
// trixie 6.12.118 on x86_64 and on arm64 (harness/fixtures/arm64/, trimmed to the same 8 cases).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';
import { newSkips, newSkipsMarkdown } from './new-skips.js';

const load = (id: string) => JSON.parse(readFileSync(repoPath(`harness/fixtures/arm64/${id}.json`), 'utf8')) as CellResult;
const x86 = load('trixie-root'), arm = load('trixie-arm64');

describe('newSkips: the tests one cell ran that another skipped', () => {
  it('lists each with the skipping cell\'s reason; skips in both cells and tests run in both are not listed', () => {
    const rows = newSkips(x86, arm);
    expect(rows.map((r) => `${r.id} ${r.baseStatus}`)).toEqual(['clone3/exit_signals pass', 'clone3/einval_size_zero pass', 'pidfd_getfd/eperm pass']);
    expect(rows[0].reason).toMatch(/^probe implemented for x86_64 only \(arch aarch64\)/);
    expect(rows[1].reason).toMatch(/needs an x86_64 stub/);
    expect(rows[2].reason).toMatch(/^needs an unprivileged child: the uid drop is implemented for x86_64 only/);
    // The other way round nothing is new: arm64 ran nothing x86_64 skipped.
    expect(newSkips(arm, x86)).toEqual([]);
  });
  it('renders a markdown table by reason, naming both cells and what each observed', () => {
    const md = newSkipsMarkdown(x86, arm);
    expect(md).toMatch(/^3 tests that trixie-root ran and trixie-arm64 skipped, by reason \(trixie-arm64: aarch64; trixie-root: x86_64\)/);
    expect(md).toContain('| 1 | probe implemented for x86_64 only (arch aarch64) | clone3/exit_signals |');
    expect(md.split('\n').filter((l) => l.startsWith('| 1 |'))).toHaveLength(3);
    // A stub skip names its case first; the table shows the cause, so the eight clone3 ones group.
    expect(md).toMatch(/\| 1 \| needs an x86_64 stub: the clone3 child trampoline .* \| clone3\/einval_size_zero \|/);
  });
  it('compare --new-skips prints it from two results dirs', () => {
    const work = mkdtempSync(join(tmpdir(), 'pm-new-skips-'));
    for (const id of ['trixie-root', 'trixie-arm64']) {
      mkdirSync(join(work, id));
      copyFileSync(repoPath(`harness/fixtures/arm64/${id}.json`), join(work, id, 'results.json'));
    }
    const r = spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'compare', join(work, 'trixie-root'), join(work, 'trixie-arm64'), '--new-skips'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 tests that trixie-root ran and trixie-arm64 skipped');
  });
});
