// The feature x kernel grid every report shares (terminal table, JUnit, HTML, markdown), and
// the terminal rendering of it. One place decides which (kernel, test) rows exist, so the
// outputs cannot disagree about them.
import { allCases, loadCatalog } from '../judge/catalog.js';
import type { CaseResult, CellResult } from '../results.js';
import { STATUSES, type Status } from '../status.js';

/** One row of the grid: a test id with what is known about it. */
export interface TestRow { id: string; feature: string; case: string; area: string; title: string }

/**
 * The rows of the grid: every test a cell reported, plus every catalog case when the catalog
 * loads (so a cell that never ran still gets one row per test). Catalog order first, then
 * tests the catalog no longer lists, sorted.
 */
export function testRows(cells: CellResult[], catalogRows: TestRow[] | null = catalogTestRows()): TestRow[] {
  const rows = new Map<string, TestRow>();
  for (const r of catalogRows ?? []) rows.set(r.id, r);
  const extra: TestRow[] = [];
  for (const cell of cells)
    for (const c of cell.cases)
      if (!rows.has(c.id) && !extra.some((e) => e.id === c.id))
        extra.push({ id: c.id, feature: c.feature, case: c.case, area: c.area, title: c.title });
  extra.sort((a, b) => a.id.localeCompare(b.id));
  return [...rows.values(), ...extra];
}

/** Catalog cases as rows; null when the catalog is missing or invalid (reports still work). */
export function catalogTestRows(): TestRow[] | null {
  try {
    return allCases(loadCatalog()).map((c) => ({ id: c.id, feature: c.feature, case: c.case, area: c.area, title: c.title }));
  } catch {
    return null;
  }
}

/** Is this row part of a --test selection (feature or feature/case ids; none: everything)? */
export function selectedRow(row: { id: string; feature: string }, tests: string[] | undefined): boolean {
  return !tests?.length || tests.some((t) => t === row.id || t === row.feature);
}

/**
 * The cases of a cell as every report shows them. A cell-level error (boot failure, panic,
 * timeout) ran no case: it stands for an error in every row the run selected (the whole
 * catalog, or its --test ids), carrying the cell's reason and rerun command, so the
 * (kernel, test) grid keeps the same shape from run to run.
 */
export function effectiveCases(cell: CellResult, rows: TestRow[]): CaseResult[] {
  if (!cell.error) return cell.cases;
  const ran = new Map(cell.cases.map((c) => [c.id, c]));
  return rows.filter((r) => ran.has(r.id) || selectedRow(r, cell.tests)).map((r) => ran.get(r.id) ?? {
    id: r.id, feature: r.feature, case: r.case, area: r.area, title: r.title,
    status: 'error' as const,
    reason: `kernel ${cell.kernelId} did not run the suite: ${cell.error!.reason}`,
    expected: null, expectedAnswer: null, observed: {}, durationMs: 0,
    rerun: cell.rerun,
  });
}

/**
 * The guest console log relative to the run's output dir (where index.html and summary.md
 * live). results.json records it relative to the cell's own dir (reports/<kernel>/).
 */
export function consoleLogPath(cell: CellResult): string | null {
  if (!cell.consoleLog) return null;
  return cell.consoleLog.startsWith(`${cell.kernelId}/`) ? cell.consoleLog : `${cell.kernelId}/${cell.consoleLog}`;
}

export type Counts = Record<Status, number>;

export function countStatuses(cases: Iterable<{ status: Status }>): Counts {
  const n = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Counts;
  for (const c of cases) n[c.status]++;
  return n;
}

/** "3 pass, 1 fail, 2 skip" with zero counts left out; "no tests" when empty. */
export function fmtCounts(n: Counts): string {
  const parts = STATUSES.filter((s) => n[s] > 0).map((s) => `${n[s]} ${s}`);
  return parts.length ? parts.join(', ') : 'no tests';
}

const ANSI: Record<Status, string> = { pass: '32', fail: '31;1', skip: '2', xfail: '33', xpass: '35;1', error: '41;97;1' };

/** Terminal label: the bad ones in capitals so they stand out without colour too. */
function label(s: Status | undefined): string {
  if (!s) return '-';
  return s === 'fail' || s === 'error' || s === 'xpass' ? s.toUpperCase() : s;
}

/**
 * The terminal table: rows = test ids, columns = kernel ids, then a totals line per kernel
 * (and the cell-level error, if any). `color` adds ANSI colours (callers pass isTTY).
 */
export function statusTable(cells: CellResult[], opts: { color?: boolean; rows?: TestRow[] } = {}): string {
  const rows = opts.rows ?? testRows(cells);
  const cols = cells.map((cell) => new Map(effectiveCases(cell, rows).map((c) => [c.id, c.status])));
  const idW = Math.max('test'.length, ...rows.map((r) => r.id.length));
  const colW = cells.map((c) => Math.max(c.kernelId.length, 5));
  const paint = (s: Status | undefined, text: string) => (opts.color && s ? `\x1b[${ANSI[s]}m${text}\x1b[0m` : text);
  const lines = [
    ['test'.padEnd(idW), ...cells.map((c, i) => c.kernelId.padEnd(colW[i]))].join('  ').trimEnd(),
    ['-'.repeat(idW), ...colW.map((w) => '-'.repeat(w))].join('  '),
  ];
  for (const r of rows) {
    lines.push([r.id.padEnd(idW), ...cols.map((col, i) => {
      const s = col.get(r.id);
      return paint(s, label(s).padEnd(colW[i]));
    })].join('  ').trimEnd());
  }
  lines.push('');
  const kW = Math.max(...cells.map((c) => c.kernelId.length), 0);
  for (const cell of cells) {
    const n = countStatuses(effectiveCases(cell, rows));
    const release = cell.facts?.release ? ` (${cell.facts.release})` : '';
    const err = cell.error ? `  ERROR: ${cell.error.reason}` : '';
    lines.push(`${cell.kernelId.padEnd(kW)}  ${fmtCounts(n)}${release}${err}`);
  }
  return lines.join('\n');
}
