// Writes the report files of a run. Every file is written to a temp name and renamed into
// place, so a crash or a concurrent reader never sees a half-written report.
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CellResult } from '../results.js';
import { junitXml } from './junit.js';
import { writeFileAtomic } from './report-text.js';
export { writeFileAtomic } from './report-text.js';
import { ktap } from './ktap.js';
import { matrixHtml } from './html.js';
import { summaryMarkdown } from './markdown.js';
import { policyHtml, policyMarkdown } from './policy.js';
import { testRows } from './table.js';
import { loadCatalog } from '../judge/catalog.js';
import { boundaries, loadVerified, type Boundary } from '../judge/verification.js';


const resultsJson = (cell: CellResult) => JSON.stringify(cell, null, 2) + '\n';

/** One cell's results.json, junit.xml and results.ktap in `dir` (a probe run, or one guest of the matrix). */
export async function writeCellReports(cell: CellResult, dir: string): Promise<void> {
  await writeFileAtomic(join(dir, 'results.json'), resultsJson(cell));
  await writeFileAtomic(join(dir, 'junit.xml'), junitXml([cell]));
  await writeFileAtomic(join(dir, 'results.ktap'), ktap([cell]));
}

/** The merged outputs of a run: junit.xml, results.ktap, index.html, summary.md and <kernelId>/results.json. */
/** Unverified catalog boundaries for the HTML; a run never fails for the record's sake. */
function catalogBoundaries(): Boundary[] | undefined {
  try {
    return boundaries(loadCatalog(), loadVerified());
  } catch {
    return undefined;
  }
}

export async function writeMatrixReports(cells: CellResult[], outDir: string): Promise<void> {
  assertUniqueKernels(cells);
  const rows = testRows(cells);
  // Build everything before writing anything: a rendering bug leaves the old reports intact.
  const junit = junitXml(cells, { rows });
  const html = matrixHtml(cells, { rows, boundaries: catalogBoundaries() });
  const md = summaryMarkdown(cells, { rows });
  const tap = ktap(cells, { rows });
  // The userspace axis: what each seccomp profile and runtime blocked (only when containers ran).
  const policy = cells.some((c) => c.container) ? { md: policyMarkdown(cells), html: policyHtml(cells) } : null;
  // The per-cell files too: the host judges a guest once more (kernel health from its console).
  for (const cell of cells) await writeCellReports(cell, join(outDir, cell.kernelId));
  await writeFileAtomic(join(outDir, 'junit.xml'), junit);
  await writeFileAtomic(join(outDir, 'index.html'), html);
  await writeFileAtomic(join(outDir, 'summary.md'), md);
  await writeFileAtomic(join(outDir, 'results.ktap'), tap);
  if (policy) {
    await writeFileAtomic(join(outDir, 'policy.md'), policy.md);
    await writeFileAtomic(join(outDir, 'policy.html'), policy.html);
  }
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
