// Which tests one cell ran that another skipped, each with the skipping cell's reason: an arm64
// cell beside its x86_64 twin (same kernel version, same root) lists exactly what the arch axis
// costs (issue 23). Pure: cells in, rows and text out; `compare --new-skips` prints it.
import type { CaseResult, CellResult } from '../results.js';

export interface NewSkip { id: string; baseStatus: CaseResult['status']; reason: string }

/** The tests `base` ran (any status but skip) that `next` skips, in `next`'s order. */
export function newSkips(base: CellResult, next: CellResult): NewSkip[] {
  const before = new Map(base.cases.map((c) => [c.id, c]));
  return next.cases.flatMap((c) => {
    const b = before.get(c.id);
    return c.status === 'skip' && b && b.status !== 'skip' ? [{ id: c.id, baseStatus: b.status, reason: c.reason }] : [];
  });
}

/**
 * A skip reason without what varies per case: its first line, less a leading "<test id>: " (the
 * runner's stub skips name their case), so rows that skip for the same cause group together.
 */
const causeOf = (r: NewSkip) => {
  const first = r.reason.split('\n')[0].trim();
  return first.startsWith(`${r.id}: `) ? first.slice(r.id.length + 2) : first;
};

/** Markdown: a count per cause, then every test under it (as the README's table shows them). */
export function newSkipsMarkdown(base: CellResult, next: CellResult, rows = newSkips(base, next)): string {
  const groups = new Map<string, NewSkip[]>();
  for (const r of rows) groups.set(causeOf(r), [...(groups.get(causeOf(r)) ?? []), r]);
  const head = `${rows.length} tests that ${base.kernelId} ran and ${next.kernelId} skipped, by reason `
    + `(${next.kernelId}: ${archOf(next)}; ${base.kernelId}: ${archOf(base)})`;
  const lines = [head, '', '| tests | reason | test ids |', '|---|---|---|'];
  for (const [cause, rs] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    lines.push(`| ${rs.length} | ${cell(cause)} | ${rs.map((r) => r.id).join(', ')} |`);
  }
  return lines.join('\n') + '\n';
}

/** The architecture the cell's guest observed (uname -m), or why it is unknown. */
const archOf = (c: CellResult) => c.facts?.arch ?? 'arch unknown (no facts)';
const cell = (s: string) => s.replace(/\|/g, '\\|');
