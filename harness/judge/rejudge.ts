// Judge a stored run again after a catalog or known-issues edit, with no guest booted: the raw
// observations and kernel facts in results.json are all the judge needs.
import { catalogCommits, type CatalogCase } from './catalog.js';
import { findCommit, tableAnswer, type CommitAnswers, type CommitTable } from './commits.js';
import { namedCommits } from './commit-oracle.js';
import type { Version } from './version.js';
import { judge } from './judge.js';
import type { KnownIssue } from './known-issues.js';
import { postJudge } from './post-judge.js';
import type { CaseResult, CellResult } from '../results.js';
import type { Status } from '../status.js';
import { withVersion } from './version.js';
import { KERNEL_HEALTH_ID } from './health.js';

export interface VerdictChange { kernelId: string; id: string; from: Status; to: Status; reason: string }

/** A case the runner could not answer (deadline, crash, not reached) has no observation to judge. */
function unanswered(c: CaseResult): boolean {
  return c.status === 'error' && Object.keys(c.observed).length === 0;
}

/** Stored answers plus table answers for commits named since the cell ran (their reason says so). */
function addedCommits(stored: CommitAnswers, catalog: CatalogCase[], table: CommitTable, v: Version): CommitAnswers {
  const out = { ...stored };
  for (const sha of namedCommits(catalog)) {
    const e = findCommit(table, sha);
    if (out[sha] || !e) continue;
    const a = tableAnswer(e, v);
    out[sha] = { has: a.has, by: `${a.by} (named after this cell ran: asked of the table at rejudge)` };
  }
  return out;
}

export function rejudgeCell(cell: CellResult, catalog: CatalogCase[], entries: KnownIssue[], today = new Date(), table?: CommitTable): { cell: CellResult; changes: VerdictChange[]; warnings: string[] } {
  const warnings: string[] = [];
  if (!cell.facts) return { cell, changes: [], warnings };
  // Files written since the guest streams its raw /proc/version carry it: derive the version anew.
  const derived = cell.facts.procVersion !== undefined ? withVersion(cell.facts) : cell.facts;
  // The stored commit answers stay; a commit the catalog names since is asked of the table (and says so).
  const facts = derived.commits ? { ...derived, commits: addedCommits(derived.commits, catalog, table ?? catalogCommits(), derived.version) } : derived;
  const byId = new Map(catalog.map((c) => [c.id, c]));
  const cases = cell.cases.map((c): CaseResult => {
    // The console's verdict on kernel health is not the catalog's to change: keep it as it is.
    if (unanswered(c) || c.id === KERNEL_HEALTH_ID) return c;
    if (c.preHealth) {
      // A kernel report during the case made it an error; the probe's own verdict is judged anew beneath it.
      const cat = byId.get(c.id);
      if (!cat) return c;
      const v = judge(cat, facts, c.observed);
      return { ...c, preHealth: { ...c.preHealth, status: v.status, reason: v.reason }, expected: v.expected, expectedAnswer: v.expectedAnswer };
    }
    const cat = byId.get(c.id);
    if (!cat) {
      warnings.push(`${cell.kernelId} ${c.id}: no longer in the catalog; its stored verdict stays`);
      return c;
    }
    // --repeat: runs that gave one answer are judged again by it; an unstable or errored set of
    // runs keeps its error (one stored observation cannot stand for runs that disagreed).
    const runs = c.repeat;
    if (runs && (runs.answers.length !== 1 || runs.answers[0].status === 'error' || runs.runs < runs.planned)) {
      warnings.push(`${cell.kernelId} ${c.id}: its ${runs.runs} runs did not give one answer; the stored error stays (rerun it)`);
      return c;
    }
    const v = judge(cat, facts, c.observed);
    const { knownIssue: _old, ...rest } = c;
    const all = runs ? ` (${runs.runs}/${runs.runs} runs)` : '';
    const repeat = runs ? { repeat: { ...runs, answers: [{ ...runs.answers[0], status: v.status }] } } : {};
    const verdict = { status: v.status, reason: v.reason + all, expected: v.expected, expectedAnswer: v.expectedAnswer };
    return { ...rest, ...repeat, area: cat.area, title: cat.title, ...verdict };
  });
  // The stored health verdict stays (no console here): only the known issues are applied anew.
  const applied = postJudge({ ...cell, facts, cases }, { knownIssues: entries, today });
  warnings.push(...applied.warnings);
  const before = new Map(cell.cases.map((c) => [c.id, c.status]));
  const changes = applied.cell.cases
    .filter((c) => before.get(c.id) !== c.status)
    .map((c) => ({ kernelId: cell.kernelId, id: c.id, from: before.get(c.id)!, to: c.status, reason: c.reason }));
  return { cell: applied.cell, changes, warnings };
}
