// The architecture in a cell's reports (issue 23), on a real arm64 cell: Debian trixie's
// 6.12.118 arm64 under qemu-system-aarch64 (harness/fixtures/arm64/trixie-arm64.json, trimmed
// to 8 of its 261 cases). JUnit and KCIDB name it as the kernel does (arm64) from what the guest
// observed (uname -m: aarch64), known issues select on either name, and the rerun line of an
// arm64 cell says --accel tcg whatever the run's --accel was.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';
import { junitXml } from './junit.js';
import { kcidb } from './kcidb.js';
import { kcidbErrors } from './kcidb-validate.js';
import { applyKnownIssues, parseKnownIssues, selectorMatches } from '../judge/known-issues.js';
import { archMatches, kernelArchName } from '../judge/arch.js';
import { rerunPrefix } from '../run/run-matrix.js';
import { parseMatrix } from '../../kernels/matrix.js';

const arm = JSON.parse(readFileSync(repoPath('harness/fixtures/arm64/trixie-arm64.json'), 'utf8')) as CellResult;
const x86 = JSON.parse(readFileSync(repoPath('harness/fixtures/results/trixie/results.json'), 'utf8')) as CellResult;
type Obj = Record<string, unknown>;

describe('the arch of a real arm64 cell', () => {
  it('is what the guest observed (uname -m), never the matrix entry', () => {
    expect(arm.facts?.arch).toBe('aarch64');
    expect(arm.facts?.release).toBe('6.12.118+deb13-arm64');
  });
  it('kernel names of uname machines: aarch64 is arm64, x86_64 stays, unknown ones stay', () => {
    expect(kernelArchName('aarch64')).toBe('arm64');
    expect(kernelArchName('x86_64')).toBe('x86_64');
    expect(kernelArchName('i686')).toBe('i386');
    expect(kernelArchName('armv7l')).toBe('arm');
    expect(kernelArchName('loongarch64')).toBe('loongarch64');
    expect(archMatches('arm64', 'aarch64') && archMatches('aarch64', 'aarch64')).toBe(true);
    expect(archMatches('x86_64', 'aarch64')).toBe(false);
  });
  it('JUnit: <property name="arch"> is arm64 beside kernel.arch aarch64; x86_64 for the x86 cell', () => {
    const xml = junitXml([arm, x86]);
    const suites = xml.split('<testsuite ').slice(1);
    expect(suites[0]).toContain('<property name="arch" value="arm64"/>');
    expect(suites[0]).toContain('<property name="kernel.arch" value="aarch64"/>');
    expect(suites[1]).toContain('<property name="arch" value="x86_64"/>');
  });
  it('KCIDB: the build architecture is arm64 (the schema validates), uname_machine aarch64 in misc', () => {
    const doc = kcidb([arm, x86], { origin: 'my_lab' }) as { builds: Obj[] };
    expect(kcidbErrors(doc)).toEqual([]);
    expect(doc.builds.map((b) => b.architecture)).toEqual(['arm64', 'x86_64']);
    expect((doc.builds[0].misc as Obj).uname_machine).toBe('aarch64');
  });
  it('known issues select on arch: arm64 or aarch64; an x86_64 entry leaves the arm64 cell alone', () => {
    const yaml = (arch: string) => `issues:\n  - kernel: { arch: ${arch} }\n    test: clone3/einval_size32\n    reason: "demo"\n`;
    for (const a of ['arm64', 'aarch64']) {
      const [entry] = parseKnownIssues(yaml(a));
      expect(selectorMatches(entry.kernel, arm)).toBe(true);
      expect(selectorMatches(entry.kernel, x86)).toBe(false);
      // The entry applies: a listed test that passes is an xpass on the arm64 cell ("remove this entry").
      const out = applyKnownIssues(arm, [entry]).cell.cases.find((c) => c.id === 'clone3/einval_size32')!;
      expect(out.status).toBe('xpass');
    }
    const [x86Only] = parseKnownIssues(yaml('x86_64'));
    expect(applyKnownIssues(arm, [x86Only]).cell.cases.find((c) => c.id === 'clone3/einval_size32')!.status).toBe('pass');
  });
  it('its rerun line reproduces the cell: the matrix file, the options, and --accel tcg', () => {
    expect(arm.rerun).toMatch(/^npx pidfd-matrix matrix --kernels trixie-arm64 --matrix \S+\/kernels\/matrix-arm64\.yaml .*--accel tcg/);
    const [entry] = parseMatrix('kernels:\n  - {id: trixie-arm64, source: debian, suite: trixie, package: linux-image-arm64, arch: arm64, root: trixie}\n', '/m.yaml').kernels;
    const o = { matrixFile: '/m/arm.yaml', outDir: '/r', timeoutSec: 2400, accel: 'auto' as const, cpus: 2 };
    // A run with --accel auto ran the arm64 cell under TCG: its line says so; an x86_64 cell's keeps auto.
    expect(rerunPrefix('trixie-arm64', o, entry)).toBe('npx pidfd-matrix matrix --kernels trixie-arm64 --matrix /m/arm.yaml --out /r --accel tcg --cpus 2');
    expect(rerunPrefix('trixie', o, {})).toBe('npx pidfd-matrix matrix --kernels trixie --matrix /m/arm.yaml --out /r --cpus 2');
  });
});
