// What a report writer is: a pure function from results to files. The list of writers, and
// which ones a run writes, is harness/report/formats.ts; writing the files is reports.ts.
import type { CellResult } from '../results.js';
import type { TestRow } from './table.js';
import type { Boundary } from '../judge/verification.js';
import type { IssueSources } from './kcidb-issues.js';
import type { IssueVersions } from './kcidb-versions.js';

/** One file a writer makes: `path` relative to the directory it is written into (or absolute). */
export interface ReportFile {
  path: string;
  content: string;
}

/** What the whole-run writers may use besides the cells; gathered by the caller, so writers stay pure. */
export interface ReportContext {
  rows: TestRow[];
  /** Catalog boundaries no real kernel has checked yet (the HTML lists them). */
  boundaries?: Boundary[];
  /** KCIDB: the origin, and the known issues and catalog its issues come from. */
  kcidb?: IssueSources & { origin?: string; issueVersions?: IssueVersions };
  /** Where the KCIDB document goes (`report --kcidb FILE`); default kcidb.json in the run's dir. */
  kcidbFile?: string;
}

export interface ReportWriter {
  /** The name `--reports` selects it by. */
  name: string;
  /** One line for --help. */
  description: string;
  /** Files for one cell, in the cell's own directory (<out>/<kernel-id>/, or probe's --out). */
  cell?(cell: CellResult): ReportFile[];
  /** Files for the whole run, in the run's directory. */
  run?(cells: CellResult[], ctx: ReportContext): ReportFile[];
}

/** results.json: the results themselves, which `report`, `rerun` and `compare` read back. Always written. */
export const resultsWriter: ReportWriter = {
  name: 'results',
  description: 'results.json per cell (always written: the other formats are made from it)',
  cell: (cell) => [{ path: 'results.json', content: JSON.stringify(cell, null, 2) + '\n' }],
};
