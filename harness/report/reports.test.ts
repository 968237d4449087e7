import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summaryMarkdown, mdCell, mdCode } from './markdown.js';
import { statusTable, testRows, effectiveCases } from './table.js';
import { findResultFiles, loadCellResults, parseCellResult, ResultsError, writeCellReports, writeMatrixReports } from './reports.js';
import { STATUSES } from '../status.js';
import { FIXTURE_RESULTS, fixtureCell, fixtureCells, useFixtureCatalog } from '../fixtures/load.js';

beforeAll(useFixtureCatalog);

describe('summary.md', () => {
  it('has the matrix table, totals, every status, failures with reasons and rerun commands', () => {
    const md = summaryMarkdown(fixtureCells());
    expect(md).toContain('| test | host | trixie | bookworm |');
    expect(md).toMatch(/\| `pidfd_info\/exit_status` \| ⚠️ xfail \| ❌ fail \| 💥 error \|/);
    for (const s of STATUSES) expect(md).toMatch(new RegExp(`\\| [^|]+ ${s} \\|`));
    expect(md).toContain('| **totals** | 2 pass, 1 skip, 1 xfail, 1 xpass | 2 pass, 1 fail, 1 xfail, 1 error | 5 error |');
    expect(md).toContain('❌ 7 fail/error');
    // the failure and the probe error, each with its reason and rerun; the cell error once
    expect(md).toMatch(/- ❌ \*\*fail\*\* `pidfd_info\/exit_status` on \*\*trixie\*\*: pidfd_info\/exit_status: kernel .* should have it/);
    expect(md).toContain('  - rerun: `pidfd-matrix matrix --kernel trixie --test pidfd_info/exit_status`');
    expect(md).toMatch(/- 💥 \*\*error\*\* `pidfd_info\/cgroupid` on \*\*trixie\*\*: probe crashed/);
    expect(md).toMatch(/- 💥 \*\*bookworm\*\*: timeout: guest did not report results/);
    expect(md).toContain('  - rerun: `pidfd-matrix matrix --kernel bookworm`');
    expect(md).toContain('  [    2.345678] Kernel panic - not syncing: VFS: Unable to mount root fs\n');
    expect(md.match(/on \*\*bookworm\*\*/g)).toBeNull();
    expect(md).toMatch(/## Unexpected passes \(xpass\)\n\n- 🟣 `pidfd_info\/cgroupid` on \*\*host\*\*/);
    expect(md).toContain('Known deviations (xfail)');
    for (const s of STATUSES) expect(md).toContain(`**${s}**: `);
    expect(md).not.toMatch(/[\x00-\x08\x0B\x0C\x0E-\x1F]/);
  });
  it('a known-issue xpass says "remove this entry"', () => {
    const cell = fixtureCell('host');
    cell.cases[0] = { ...cell.cases[0], status: 'xpass', reason: 'ok [known issue: r; passes now: remove this entry]', knownIssue: { reason: 'r' } };
    expect(summaryMarkdown([cell])).toMatch(/pidfd_open\/basic` on \*\*host\*\*: .* — \*\*remove this entry\*\* from kernels\/known-issues.yaml/);
  });
  it('an empty run says so instead of drawing an empty table', () => {
    expect(summaryMarkdown([])).toContain('No kernel results');
  });
  it('escapes table cells and code spans', () => {
    expect(mdCell('a|b\nc')).toBe('a\\|b c');
    expect(mdCode('make test')).toBe('`make test`');
    expect(mdCode('echo `x`')).toBe('`` echo `x` ``');
  });
});

describe('statusTable', () => {
  it('rows are test ids, columns kernel ids, plus a totals line per kernel', () => {
    const t = statusTable(fixtureCells());
    const lines = t.split('\n');
    expect(lines[0]).toMatch(/^test\s+host\s+trixie\s+bookworm$/);
    expect(lines.filter((l) => /^pidfd_\w+\/\w+ /.test(l))).toHaveLength(5);
    expect(t).toMatch(/pidfd_info\/exit_status\s+xfail\s+FAIL\s+ERROR/);
    expect(t).toMatch(/\nhost\s+2 pass, 1 skip, 1 xfail, 1 xpass \(6\.12\.48\+deb13-amd64\)/);
    expect(t).toMatch(/\nbookworm\s+5 error\s+ERROR: timeout/);
    expect(t).not.toContain('\x1b[');
    expect(statusTable(fixtureCells(), { color: true })).toContain('\x1b[31;1mFAIL');
  });
  it('rows: catalog order first, then tests the catalog does not list', () => {
    const cell = fixtureCell('host');
    cell.cases.push({ ...cell.cases[0], id: 'zzz/new', feature: 'zzz', case: 'new' });
    expect(testRows([cell]).map((r) => r.id)).toEqual(['pidfd_open/basic', 'pidfd_open/nonblock', 'pidfd_getfd/basic', 'pidfd_info/exit_status', 'pidfd_info/cgroupid', 'zzz/new']);
    expect(testRows([fixtureCell('host')], null).map((r) => r.id)).toEqual(['pidfd_getfd/basic', 'pidfd_info/cgroupid', 'pidfd_info/exit_status', 'pidfd_open/basic', 'pidfd_open/nonblock']);
    expect(effectiveCases(fixtureCell('bookworm'), testRows([fixtureCell('bookworm')])).every((c) => c.status === 'error')).toBe(true);
  });
});

describe('report files', () => {
  it('writeCellReports writes results.json, junit.xml and results.ktap; writeMatrixReports the merged set only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-rep-'));
    await writeCellReports(fixtureCell('host'), join(dir, 'cell'));
    expect(readdirSync(join(dir, 'cell')).sort()).toEqual(['junit.xml', 'results.json', 'results.ktap']);
    expect(JSON.parse(readFileSync(join(dir, 'cell', 'results.json'), 'utf8'))).toEqual(fixtureCell('host'));
    // The cells' own files are written once, by finishCell, never again with the merged set.
    await writeMatrixReports(fixtureCells(), join(dir, 'm'));
    expect(readdirSync(join(dir, 'm')).sort()).toEqual(['index.html', 'junit.xml', 'results.ktap', 'summary.md']);
    // atomic writes leave no temp files behind
    expect(readdirSync(join(dir, 'm')).some((f) => f.endsWith('.tmp'))).toBe(false);
  });
  it('refuses two cells with the same kernel id', async () => {
    await expect(writeMatrixReports([fixtureCell('host'), fixtureCell('host')], mkdtempSync(join(tmpdir(), 'pm-rep-')))).rejects.toThrow(/two cells have kernel id 'host'/);
  });
  it('finds and validates results.json files', async () => {
    expect((await findResultFiles(FIXTURE_RESULTS)).map((f) => f.slice(FIXTURE_RESULTS.length))).toEqual(['bookworm/results.json', 'host/results.json', 'trixie/results.json']);
    expect((await loadCellResults(FIXTURE_RESULTS)).map((l) => l.cell.kernelId)).toEqual(['host', 'trixie', 'bookworm']);
    expect(() => parseCellResult('{', 'x/results.json')).toThrow(ResultsError);
    expect(() => parseCellResult('{"schema":2}', 'x/results.json')).toThrow(/x\/results.json: unknown schema 2/);
    await expect(findResultFiles('/nonexistent-dir')).rejects.toThrow(/no such directory/);
  });
});
