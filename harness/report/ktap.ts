// KTAP v1 (Documentation/dev-tools/ktap.rst) for kernel CI lanes that read the kernel's own
// test format. Pure: cells in, text out. Each kernel cell is a parent test whose subtests are
// the catalog cases, in the same (kernel, test) grid the JUnit writer uses, so the two agree.
//
// Status mapping (the spec's directives; a parser that does not know one falls back to ok/not ok):
//   pass   ok N feature.case
//   xpass  ok N feature.case            (it works; the reason is a diagnostic line)
//   skip   ok N feature.case # SKIP <reason>
//   xfail  ok N feature.case # XFAIL <reason>
//   fail   not ok N feature.case        (expected/observed as diagnostic lines)
//   error  not ok N feature.case # ERROR <reason>
// kunit.py counts XFAIL as passed and ERROR as failed; JUnit counts xfail as skipped and error
// as an error. ktapCounts() gives the numbers a KTAP parser must report for a set of cells.
import type { CaseResult, CellResult } from '../results.js';
import { fmt } from '../judge/judge.js';
import { countStatuses, effectiveCases, testRows, type TestRow } from './table.js';
import type { ReportWriter } from './writer.js';

/** Diagnostic data is one line. */
function oneLine(s: string, max = 300): string {
  const l = s.replace(/\s+/g, ' ').trim();
  return l.length > max ? l.slice(0, max - 1) + '…' : l;
}

/** Test ids are `feature/case`; KTAP consumers (and KCIDB paths) use dots. */
export function ktapName(id: string): string {
  return id.replace(/\//g, '.').replace(/[#\s]/g, '_'); // a description may not contain '#'
}

function diagnostics(c: CaseResult, indent: string): string[] {
  const lines: string[] = [];
  if (c.status === 'fail') {
    lines.push(`# ${c.id}: expected (${c.expected ?? 'n/a'}) ${oneLine(fmt(c.expectedAnswer), 500)}`);
    lines.push(`# ${c.id}: observed ${oneLine(fmt(c.observed), 500)}`);
  }
  if (c.status === 'fail' || c.status === 'xpass') lines.push(`# ${c.id}: ${oneLine(c.reason, 500)}`);
  if (c.status === 'fail' || c.status === 'error') lines.push(`# ${c.id}: rerun: ${oneLine(c.rerun, 500)}`);
  return lines.map((l) => indent + l);
}

function resultLine(c: CaseResult, n: number): string {
  const name = ktapName(c.id);
  switch (c.status) {
    case 'pass':
    case 'xpass':
      return `ok ${n} ${name}`;
    case 'skip':
      return `ok ${n} ${name} # SKIP ${oneLine(c.reason || 'skipped')}`;
    case 'xfail':
      return `ok ${n} ${name} # XFAIL ${oneLine(c.reason || c.knownIssue?.reason || 'known deviation')}`;
    case 'fail':
      return `not ok ${n} ${name}`;
    case 'error':
      return `not ok ${n} ${name} # ERROR ${oneLine(c.reason || 'could not run')}`;
  }
}

export interface KtapOptions { rows?: TestRow[] }

/** The KTAP document for one or more kernel cells (one parent test per kernel). */
export function ktap(cells: CellResult[], opts: KtapOptions = {}): string {
  const rows = opts.rows ?? testRows(cells);
  const out = ['KTAP version 1', `1..${cells.length}`];
  cells.forEach((cell, i) => {
    const cases = effectiveCases(cell, rows);
    const release = cell.facts ? ` (${cell.facts.release})` : '';
    out.push('  KTAP version 1', `  # Subtest: ${ktapName(cell.kernelId)}`, `  # kernel ${oneLine(cell.kernelId + release)}; rerun: ${oneLine(cell.rerun)}`);
    out.push(`  1..${cases.length}`);
    cases.forEach((c, j) => {
      out.push(...diagnostics(c, '  '));
      out.push('  ' + resultLine(c, j + 1));
    });
    const bad = cases.some((c) => c.status === 'fail' || c.status === 'error');
    const cellNote = cell.error ? ` # ERROR ${oneLine(cell.error.reason)}` : '';
    out.push(`${bad || cell.error ? 'not ok' : 'ok'} ${i + 1} ${ktapName(cell.kernelId)}${cellNote}`);
  });
  return out.join('\n') + '\n';
}

/** What a KTAP parser such as kunit.py must count for these cells (leaf tests only). */
export function ktapCounts(cells: CellResult[], rows: TestRow[] = testRows(cells)): { passed: number; failed: number; skipped: number; total: number } {
  let passed = 0, failed = 0, skipped = 0;
  for (const cell of cells) {
    const n = countStatuses(effectiveCases(cell, rows));
    passed += n.pass + n.xpass + n.xfail;
    failed += n.fail + n.error;
    skipped += n.skip;
  }
  return { passed, failed, skipped, total: passed + failed + skipped };
}

/** results.ktap per cell and merged. */
export const ktapWriter: ReportWriter = {
  name: 'ktap',
  description: 'KTAP v1: results.ktap per cell and for the run (kunit.py parse reads it)',
  cell: (cell) => [{ path: 'results.ktap', content: ktap([cell]) }],
  run: (cells, ctx) => [{ path: 'results.ktap', content: ktap(cells, { rows: ctx.rows }) }],
};
