// `--reports FORMAT,...` and `--kcidb-origin` of matrix, probe and report: which writers of
// harness/report/formats.ts a run uses, and what the KCIDB writer needs.
import { DEFAULT_REPORTS, ReportsError, selectWriters } from '../report/formats.js';
import { KCIDB_ORIGIN_RE } from '../report/kcidb.js';
import type { ReportContext, ReportWriter } from '../report/writer.js';
import { CatalogError, catalogCommits, loadCatalog } from '../judge/catalog.js';
import { KnownIssuesError, loadKnownIssues } from '../judge/known-issues.js';
import { issueContents } from '../report/kcidb-issues.js';
import {
  ISSUE_VERSIONS_PATH, IssueVersionsError, loadIssueVersions, staleIssues, staleIssuesMessage,
} from '../report/kcidb-versions.js';
import { updateCommand } from './kcidb.js';
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

/**
 * What the KCIDB writer reads besides the cells (the known issues and catalog of this checkout);
 * nothing when it is not selected. Called before the run: a stale issue version (an edited
 * known issue or broken range without `kcidb versions --update`) or a broken input file stops
 * the command here, naming the fix, instead of after a run of many minutes.
 */
export function kcidbContext(writers: ReportWriter[], origin?: string, versionsFile?: string): Partial<ReportContext> {
  if (!writers.some((w) => w.name === 'kcidb')) return {};
  const file = versionsFile ?? ISSUE_VERSIONS_PATH;
  try {
    const sources = { knownIssues: loadKnownIssues(), catalog: loadCatalog(), commits: catalogCommits() };
    const issueVersions = loadIssueVersions(file);
    const stale = staleIssues(issueVersions, issueContents(sources));
    if (stale.length) {
      throw new UsageError(`--reports kcidb: ${staleIssuesMessage(stale, file, updateCommand({ versions: versionsFile }))}\n`
        + 'Nothing was run.');
    }
    return { kcidb: { origin, ...sources, issueVersions } };
  } catch (e) {
    if (e instanceof IssueVersionsError || e instanceof KnownIssuesError || e instanceof CatalogError)
      throw new UsageError(`--reports kcidb: ${e.message}`);
    throw e;
  }
}
