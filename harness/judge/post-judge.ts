// What happens to a judged cell before it is written, the same for matrix, probe, report and
// rejudge: known issues first (they turn listed deviations into xfail), then kernel health
// (a kernel report during a case makes it an error, whatever the catalog said).
import type { CellResult, KernelHealth } from '../results.js';
import { applyKnownIssues, type KnownIssue } from './known-issues.js';
import { applyKernelHealth } from './health.js';

export interface PostJudge {
  /** The known issues to apply; null keeps the statuses as recorded (`report --no-known-issues`, or applied already). */
  knownIssues: KnownIssue[] | null;
  /** What the console or the taint record says; absent for a stored cell (its verdict on health stays). */
  health?: KernelHealth;
  today?: Date;
}

export function postJudge(cell: CellResult, o: PostJudge): { cell: CellResult; warnings: string[] } {
  const known = o.knownIssues ? applyKnownIssues(cell, o.knownIssues, o.today) : { cell, warnings: [] };
  return { cell: o.health ? applyKernelHealth(known.cell, o.health) : known.cell, warnings: known.warnings };
}
