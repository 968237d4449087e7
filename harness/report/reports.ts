// Writes the report files of a run. Every file is written to a temp name and renamed into
// place, so a crash or a concurrent reader never sees a half-written report.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CellResult } from '../results.js';
import { writeFileAtomic } from './report-text.js';
export { writeFileAtomic } from './report-text.js';
import { testRows } from './table.js';
import { loadCatalog } from '../judge/catalog.js';
import { boundaries, loadVerified, type Boundary } from '../judge/verification.js';
import { DEFAULT_REPORTS, selectWriters } from './formats.js';
import type { ReportContext, ReportFile, ReportWriter } from './writer.js';

/** Write files into `dir`, each atomically; returns their paths. */
async function writeFiles(dir: string, files: ReportFile[]): Promise<string[]> {
  const paths = files.map((f) => resolve(dir, f.path));
  for (const [i, f] of files.entries()) await writeFileAtomic(paths[i], f.content);
  return paths;
}

/**
 * One cell's files in `dir` (a probe run, or one cell of the matrix): results.json, and by
 * default junit.xml and results.ktap. harness/run/finish-cell.ts is the one caller in a run.
 */
export async function writeCellReports(cell: CellResult, dir: string, writers: ReportWriter[] = selectWriters(DEFAULT_REPORTS.run)): Promise<string[]> {
  return writeFiles(dir, writers.flatMap((w) => w.cell?.(cell) ?? []));
}

/** Unverified catalog boundaries for the HTML; a run never fails for the record's sake. */
function catalogBoundaries(): Boundary[] | undefined {
  try {
    return boundaries(loadCatalog(), loadVerified());
  } catch {
    return undefined;
  }
}

/**
 * The run's own files in `outDir` (by default junit.xml, results.ktap, index.html, summary.md,
 * and policy.md/.html when containers ran). The cells' files are not written here: each cell's
 * are written once, when it is finished (harness/run/finish-cell.ts).
 */
export async function writeMatrixReports(
  cells: CellResult[], outDir: string,
  o: { writers?: ReportWriter[]; context?: Partial<ReportContext> } = {},
): Promise<string[]> {
  assertUniqueKernels(cells);
  const writers = o.writers ?? selectWriters(DEFAULT_REPORTS.run);
  const ctx: ReportContext = {
    rows: testRows(cells),
    ...(writers.some((w) => w.name === 'html') ? { boundaries: catalogBoundaries() } : {}),
    ...o.context,
  };
  // Render everything before writing anything: a rendering bug leaves the old reports intact.
  const files = writers.flatMap((w) => w.run?.(cells, ctx) ?? []);
  return writeFiles(outDir, files);
}

export function assertUniqueKernels(cells: CellResult[]): void {
  const seen = new Set<string>();
  for (const c of cells) {
    if (seen.has(c.kernelId)) throw new Error(`two cells have kernel id '${c.kernelId}': kernel ids must be unique within a run`);
    seen.add(c.kernelId);
  }
}

export class ResultsError extends Error {}

/** Parse and sanity-check one results.json; the message names the file and what is wrong. */
export function parseCellResult(text: string, file: string): CellResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ResultsError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const c = doc as Partial<CellResult> | null;
  if (!c || typeof c !== 'object') throw new ResultsError(`${file}: expected a JSON object (a CellResult)`);
  if (c.schema !== 1) throw new ResultsError(`${file}: unknown schema ${JSON.stringify(c.schema)} (this harness reads schema 1)`);
  if (typeof c.kernelId !== 'string' || !c.kernelId) throw new ResultsError(`${file}: 'kernelId' is missing`);
  if (!Array.isArray(c.cases)) throw new ResultsError(`${file}: 'cases' must be a list`);
  if (typeof c.rerun !== 'string') throw new ResultsError(`${file}: 'rerun' is missing`);
  return c as CellResult;
}

/**
 * Every results.json under `dir` (dir/results.json, dir/<kernel>/results.json, deeper), sorted;
 * `exclude` skips directories (a report output dir inside the results dir).
 */
export async function findResultFiles(dir: string, exclude: string[] = []): Promise<string[]> {
  const found: string[] = [];
  const skip = new Set(exclude.map((d) => resolve(d)).filter((d) => d !== resolve(dir)));
  async function walk(d: string, depth: number): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory() && depth < 4 && !e.name.startsWith('.') && !skip.has(resolve(p))) await walk(p, depth + 1);
      else if (e.isFile() && e.name === 'results.json') found.push(p);
    }
  }
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new ResultsError(`${dir}: no such directory`);
  await walk(dir, 0);
  return found.sort();
}

/** The cells of a run, in the order they ran (startedAt), so reports follow the matrix order. */
export async function loadCellResults(dir: string, exclude: string[] = []): Promise<{ file: string; cell: CellResult }[]> {
  const files = await findResultFiles(dir, exclude);
  const loaded = await Promise.all(files.map(async (file) => ({ file, cell: parseCellResult(await readFile(file, 'utf8'), file) })));
  const byId = new Map<string, string>();
  for (const { file, cell } of loaded) {
    const other = byId.get(cell.kernelId);
    if (other) throw new ResultsError(`kernel id '${cell.kernelId}' appears in both ${other} and ${file}: keep one of them`);
    byId.set(cell.kernelId, file);
  }
  return loaded.sort((a, b) => String(a.cell.startedAt).localeCompare(String(b.cell.startedAt)) || a.cell.kernelId.localeCompare(b.cell.kernelId));
}
