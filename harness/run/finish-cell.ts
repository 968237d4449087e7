// The end of every cell, whoever judged it (matrix, probe, report, report --rejudge): the
// post-judge chain (harness/judge/post-judge.ts: known issues, then kernel health) and the
// cell's files, written once.
import type { CellProvenance, CellResult } from '../results.js';
import { postJudge, type PostJudge } from '../judge/post-judge.js';
import { writeCellReports } from '../report/reports.js';
import type { ReportWriter } from '../report/writer.js';

export interface FinishCell extends PostJudge {
  /** Provenance found after the suite ran (probe: the running kernel's /proc/config.gz). */
  provenance?: Partial<CellProvenance>;
  /** Where the cell's files go, and which formats (results.json always). */
  dir: string;
  writers?: ReportWriter[];
  warn(w: string): void;
}

export async function finishCell(cell: CellResult, o: FinishCell): Promise<CellResult> {
  const withProvenance = o.provenance ? { ...cell, provenance: { ...cell.provenance, ...o.provenance } } : cell;
  const { cell: done, warnings } = postJudge(withProvenance, o);
  for (const w of warnings) o.warn(w);
  await writeCellReports(done, o.dir, o.writers);
  return done;
}
