// KTAP output, read back by a consumer nobody here wrote: the kernel's own kunit.py parser
// (from Debian's linux-source-6.1, unpacked by scripts/setup/kunit.sh in `make deps`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureCells, useFixtureCatalog } from '../fixtures/load.js';
import { junitXml } from './junit.js';
import { ktap, ktapCounts, ktapName } from './ktap.js';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';

const KUNIT = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pidfd-matrix/tools/linux-kunit/tools/testing/kunit/kunit.py');

interface KunitGroup { name: string; sub_groups: KunitGroup[]; test_cases: { name: string; status: string }[] }

/** kunit.py parse --json of a KTAP text: leaf test statuses per parent test. */
function kunitParse(text: string): { groups: KunitGroup[]; counts: Record<string, number>; stdout: string } {
  if (!existsSync(KUNIT)) throw new Error(`${KUNIT} is missing: run 'make deps' (scripts/setup/kunit.sh fetches it)`);
  const dir = mkdtempSync(join(tmpdir(), 'pm-ktap-'));
  writeFileSync(join(dir, 'in.ktap'), text);
  const r = spawnSync('python3', [KUNIT, 'parse', `--json=${join(dir, 'out.json')}`, join(dir, 'in.ktap')], { encoding: 'utf8' });
  if (!existsSync(join(dir, 'out.json'))) throw new Error(`kunit.py parse wrote no JSON (exit ${r.status}): ${r.stdout}${r.stderr}`);
  const top = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as KunitGroup;
  const counts: Record<string, number> = {};
  const walk = (g: KunitGroup) => {
    for (const t of g.test_cases) counts[t.status] = (counts[t.status] ?? 0) + 1;
    g.sub_groups.forEach(walk);
  };
  walk(top);
  return { groups: top.sub_groups, counts, stdout: r.stdout };
}

/** The totals of a JUnit document's <testsuites> element. */
function junitTotals(xml: string): { tests: number; failures: number; errors: number; skipped: number } {
  const head = /<testsuites [^>]*>/.exec(xml)![0];
  const n = (a: string) => Number(new RegExp(`\\b${a}="(\\d+)"`).exec(head)![1]);
  return { tests: n('tests'), failures: n('failures'), errors: n('errors'), skipped: n('skipped') };
}

/** kunit.py's counts must be JUnit's, under the documented mapping (xfail: ok; error: not ok). */
function expectAgreement(cells: CellResult[]): void {
  const text = ktap(cells);
  const { counts, groups } = kunitParse(text);
  const j = junitTotals(junitXml(cells));
  const xfail = cells.flatMap((c) => c.cases).filter((c) => c.status === 'xfail').length;
  expect(groups.map((g) => g.name)).toEqual(cells.map((c) => c.kernelId));
  expect((counts.PASS ?? 0) + (counts.FAIL ?? 0) + (counts.SKIP ?? 0)).toBe(j.tests);
  expect(counts.FAIL ?? 0).toBe(j.failures + j.errors);
  expect(counts.SKIP ?? 0).toBe(j.skipped - xfail);
  expect(counts.PASS ?? 0).toBe(j.tests - j.failures - j.errors - j.skipped + xfail);
  const k = ktapCounts(cells);
  expect([k.passed, k.failed, k.skipped]).toEqual([counts.PASS ?? 0, counts.FAIL ?? 0, counts.SKIP ?? 0]);
}

describe('ktap() on the fixture run (every status, one cell error)', () => {
  beforeAll(useFixtureCatalog);

  it('follows KTAP v1: version line, plan, one indented parent test per kernel', () => {
    const text = ktap(fixtureCells());
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(0, 2)).toEqual(['KTAP version 1', '1..3']);
    expect(lines.filter((l) => /^(ok|not ok) \d+ /.test(l)).map((l) => l.replace(/ #.*/, ''))).toEqual(['ok 1 host', 'not ok 2 trixie', 'not ok 3 bookworm']);
    for (const l of lines.slice(2).filter((x) => !/^(ok|not ok) /.test(x))) expect(l).toMatch(/^ {2}/);
  });

  it('maps each status to its directive', () => {
    const line = (status: string) => {
      const cell = fixtureCells().find((x) => x.cases.some((k) => k.status === status))!;
      const c = cell.cases.find((k) => k.status === status)!;
      return ktap([cell]).split('\n').find((l) => new RegExp(`^ {2}(ok|not ok) \\d+ ${ktapName(c.id)}( |$)`).test(l))!;
    };
    expect(line('pass')).toMatch(/^ {2}ok \d+ \S+$/);
    expect(line('skip')).toMatch(/^ {2}ok \d+ \S+ # SKIP \S/);
    expect(line('xfail')).toMatch(/^ {2}ok \d+ \S+ # XFAIL \S/);
    expect(line('fail')).toMatch(/^ {2}not ok \d+ \S+$/);
    expect(line('error')).toMatch(/^ {2}not ok \d+ \S+ # ERROR \S/);
  });

  it('kunit.py parse reads it and its counts match the JUnit of the same cells', () => {
    expectAgreement(fixtureCells());
  });

  it('a cell that did not boot is a failed parent with one ERROR per catalog case', () => {
    const down = fixtureCells().find((c) => c.error)!;
    const { groups } = kunitParse(ktap([down]));
    expect(groups[0].test_cases.length).toBeGreaterThan(1);
    expect(new Set(groups[0].test_cases.map((t) => t.status))).toEqual(new Set(['FAIL']));
  });
});

describe('KTAP of a real host run', () => {
  it('probe writes results.ktap; kunit.py agrees with its junit.xml', { timeout: 180_000 }, () => {
    delete process.env.PIDFD_MATRIX_CATALOG;
    const out = mkdtempSync(join(tmpdir(), 'pm-ktap-host-'));
    const r = spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'probe', '--out', out], { encoding: 'utf8', cwd: repoPath() });
    expect(r.status, r.stderr).toBe(0);
    const cell = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CellResult;
    expect(readFileSync(join(out, 'results.ktap'), 'utf8')).toBe(ktap([cell]));
    expectAgreement([cell]);
    const { counts } = kunitParse(readFileSync(join(out, 'results.ktap'), 'utf8'));
    expect(counts.PASS).toBeGreaterThan(50);
  });
});
