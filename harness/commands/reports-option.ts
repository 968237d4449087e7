// `--reports FORMAT,...` and `--kcidb-origin` of matrix, probe and report: which writers of
// harness/report/formats.ts a run uses, and what the KCIDB writer needs.
import { DEFAULT_REPORTS, ReportsError, selectWriters } from '../report/formats.js';
import { KCIDB_ORIGIN_RE } from '../report/kcidb.js';
import type { ReportContext, ReportWriter } from '../report/writer.js';
import { catalogCommits, loadCatalog } from '../judge/catalog.js';
import { loadKnownIssues } from '../judge/known-issues.js';
import { ISSUE_VERSIONS_PATH, loadIssueVersions } from '../report/kcidb-versions.js';
import { UsageError } from './types.js';

export function reportsOption(value: string | undefined, defaults: readonly string[] = DEFAULT_REPORTS.run, origin?: string): ReportWriter[] {
  if (origin !== undefined && !KCIDB_ORIGIN_RE.test(origin)) throw new UsageError(`--kcidb-origin '${origin}' must be lower-case letters, digits and _ (KCIDB's origin pattern)`);
  let writers: ReportWriter[];
  try {
    writers = selectWriters(value ?? defaults);
  } catch (e) {
    if (e instanceof ReportsError) throw new UsageError(`--reports: ${e.message}`);
    throw e;
  }
  if (origin !== undefined && !writers.some((w) => w.name === 'kcidb')) throw new UsageError('--kcidb-origin goes with --reports ...,kcidb');
  return writers;
}

/** What the KCIDB writer reads besides the cells (the known issues and catalog of this checkout); nothing when it is not selected. */
export function kcidbContext(writers: ReportWriter[], origin?: string): Partial<ReportContext> {
  if (!writers.some((w) => w.name === 'kcidb')) return {};
  const issueVersions = loadIssueVersions(ISSUE_VERSIONS_PATH);
  return { kcidb: { origin, knownIssues: loadKnownIssues(), catalog: loadCatalog(), commits: catalogCommits(), issueVersions } };
}
