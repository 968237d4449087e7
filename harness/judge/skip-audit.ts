// Every skip must be true: the kernel lacks the feature (its own answer says so), the run
// lacks a need the recorded facts prove (SELinux off, not root, another arch, a container), a
// Seccomp filter is proven to hide the answer, or the probe reports the refusal it got (an
// errno). Any other skip may hide a check that could have run: a probe that found its
// situation missing ("the runner leads its process group") should build that situation.
// Pure function over a stored results.json; `catalog --record` prints what it finds.
import { allCases, type CatalogFeature } from './catalog.js';
import type { CaseResult, CellResult } from '../results.js';
import { unmetNeed } from '../../suites/lib/needs.js';
import { EXEC_REFUSED } from '../../suites/lib/observation.js';

export interface SkipFinding { id: string; reason: string; why: string }

/** Why a skip has no evidence, or null when it does. */
export function skipWithoutEvidence(c: CaseResult, cell: CellResult, needs: Map<string, CatalogFeature['cases'][number]['needs']>): string | null {
  if (c.reason.startsWith('absent as expected')) return Object.keys(c.observed ?? {}).length ? null : 'absent as expected, but no observation was stored';
  if (c.reason.startsWith('blocked by seccomp')) return null;
  const n = needs.get(c.id);
  const now = n && n.length && cell.facts ? unmetNeed(n, cell.facts) : undefined;
  if (now !== undefined && now === c.reason) return null;
  // A refusal the probe got (an errno) is evidence whatever the case's needs say; so is the
  // kernel's refusal to execve the helper (ENOEXEC: no i386 loader), which the judge named.
  if (typeof c.observed?.errno === 'string') return null;
  if (c.observed?.[EXEC_REFUSED] === 'ENOEXEC' && c.reason.includes('execve ENOEXEC')) return null;
  if (now === null) return `the recorded facts meet the case's needs (${n!.join(', ')}): it should have run`;
  return 'the probe skipped without a kernel answer: it should build the situation it needs';
}

/** The skips of a cell that carry no evidence (see above). */
export function auditSkips(cell: CellResult, features: CatalogFeature[]): SkipFinding[] {
  const needs = new Map(allCases(features).map((c) => [c.id, c.needs]));
  return cell.cases.filter((c) => c.status === 'skip').flatMap((c) => {
    const why = skipWithoutEvidence(c, cell, needs);
    return why ? [{ id: c.id, reason: c.reason, why }] : [];
  });
}
