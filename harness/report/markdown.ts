// reports/summary.md: the matrix for CI logs and job summaries (GitLab, GitHub step summary):
// a markdown table, totals, and every failure/error with its reason and rerun command.
import type { CellResult } from '../results.js';
import { STATUSES, STATUS_MEANING, type Status } from '../status.js';
import { KERNEL_HEALTH_ID } from '../judge/health.js';
import { consoleLogPath, countStatuses, effectiveCases, fmtCounts, testRows, type TestRow } from './table.js';
import { mdCell, mdCode, seccompLabel, stripAnsi, xmlSafe } from './report-text.js';
import type { ReportWriter } from './writer.js';
export { mdCell, mdCode, stripAnsi } from './report-text.js';

const ICON: Record<Status, string> = { pass: '✅', fail: '❌', skip: '⏭️', xfail: '⚠️', xpass: '🟣', error: '💥' };

const mdText = (s: string) => xmlSafe(stripAnsi(s)).replace(/\r?\n/g, ' ').replace(/</g, '&lt;');

export function summaryMarkdown(cells: CellResult[], opts: { rows?: TestRow[] } = {}): string {
  const rows = opts.rows ?? testRows(cells);
  const eff = cells.map((cell) => effectiveCases(cell, rows));
  const cols = eff.map((cases) => new Map(cases.map((c) => [c.id, c])));
  const total = countStatuses(eff.flat());
  const bad = total.fail + total.error;
  const out: string[] = [];

  out.push('# pidfd-matrix summary', '');
  if (cells.length === 0) return [...out, 'No kernel results (no results.json was found or the run recorded no cell).', ''].join('\n');
  out.push(`**${bad ? `❌ ${bad} fail/error` : '✅ no failures'}** — ${cells.length} kernel${cells.length === 1 ? '' : 's'}, ${rows.length} tests: ${fmtCounts(total)}`, '');

  out.push(`| test | ${cells.map((c) => mdCell(c.kernelId)).join(' | ')} |`);
  out.push(`| --- | ${cells.map(() => ':---:').join(' | ')} |`);
  for (const r of rows)
    out.push(`| ${mdCode(r.id)} | ${cols.map((m) => {
      const c = m.get(r.id);
      return c ? `${ICON[c.status]} ${c.status}` : '–';
    }).join(' | ')} |`);
  out.push(`| **totals** | ${eff.map((cases) => mdCell(fmtCounts(countStatuses(cases)))).join(' | ')} |`, '');

  out.push('## Kernels', '');
  out.push('| kernel | release | mode | accel | lsm | result | rerun |');
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  cells.forEach((cell, i) => {
    const result = cell.error ? `💥 error: ${cell.error.reason}` : fmtCounts(countStatuses(eff[i]));
    const c = cell.container;
    const mode = c ? `container: ${c.userspace} (libc6 ${c.packages.libc6 ?? '?'}), seccomp ${seccompLabel(c.seccomp)}, ${c.runtime}, host kernel` : cell.mode;
    const columns = [mdCell(cell.kernelId), mdCell(cell.facts?.release ?? '–'), mdCell(mode), cell.accel ?? '–', mdCell(cell.lsm ?? '–'), mdCell(result), mdCode(cell.rerun)];
    out.push(`| ${columns.join(' | ')} |`);
  });
  out.push('');
  // Container cells share the host's kernel: their differences are the userspace's, profile's or runtime's.
  if (cells.some((c) => c.container)) out.push('Container cells run on the host kernel; `policy.md` (next to this file) shows which pidfd calls each seccomp profile and runtime blocked, and why each verdict differs from the host cell.', '');

  const cellErrors = cells.filter((c) => c.error);
  if (cellErrors.length) {
    out.push('## Kernels that did not run the suite', '');
    for (const cell of cellErrors) {
      out.push(`- 💥 **${mdText(cell.kernelId)}**: ${mdText(cell.error!.reason)}`);
      if (cell.consoleLog) out.push(`  - console log: ${mdCode(consoleLogPath(cell)!)}`);
      out.push(`  - rerun: ${mdCode(cell.rerun)}`);
      if (cell.error!.consoleExcerpt) out.push('', '  ```text', ...xmlSafe(stripAnsi(cell.error!.consoleExcerpt)).replace(/```/g, "'''").split('\n').map((l) => `  ${l}`), '  ```');
    }
    out.push('');
  }

  // Case-level problems. The tests a cell error kept from running are listed once above,
  // not once per test; the cases that did run before it (a panic mid-run) are listed here.
  const listed = (want: Status[]) => cells.flatMap((cell) => cell.cases.filter((c) => want.includes(c.status)).map((c) => ({ cell, c })));
  const problems = listed(['fail', 'error']);
  if (problems.length) {
    out.push('## Failures and errors', '');
    for (const { cell, c } of problems) {
      out.push(`- ${ICON[c.status]} **${c.status}** ${mdCode(c.id)} on **${mdText(cell.kernelId)}**: ${mdText(c.reason)}`);
      out.push(`  - rerun: ${mdCode(c.rerun)}`);
      // Kernel health: the console lines of the report, so CI's summary shows the WARN itself.
      if ((c.preHealth || c.id === KERNEL_HEALTH_ID) && c.log)
        out.push('', '  ```text', ...xmlSafe(stripAnsi(c.log)).replace(/```/g, "'''").split('\n').slice(0, 25).map((l) => `  ${l}`), '  ```');
    }
    out.push('');
  }
  const xpass = listed(['xpass']);
  if (xpass.length) {
    out.push('## Unexpected passes (xpass)', '');
    for (const { cell, c } of xpass) {
      const note = c.knownIssue ? ' — **remove this entry** from kernels/known-issues.yaml' : ' — if this kernel really has it, record the backport (or fix the broken range) in the catalog';
      out.push(`- ${ICON.xpass} ${mdCode(c.id)} on **${mdText(cell.kernelId)}**: ${mdText(c.reason)}${note}`);
    }
    out.push('');
  }
  const xfail = listed(['xfail']);
  if (xfail.length) {
    out.push('<details><summary>Known deviations (xfail)</summary>', '');
    for (const { cell, c } of xfail) out.push(`- ${ICON.xfail} ${mdCode(c.id)} on **${mdText(cell.kernelId)}**: ${mdText(c.reason)}`);
    out.push('', '</details>', '');
  }

  out.push('## Legend', '');
  for (const s of STATUSES) out.push(`- ${ICON[s]} **${s}**: ${STATUS_MEANING[s]}`);
  out.push('');
  return out.join('\n');
}

/** summary.md: the markdown table of the run. */
export const summaryWriter: ReportWriter = {
  name: 'summary',
  description: 'summary.md: markdown table, totals, failures with their rerun commands',
  run: (cells, ctx) => [{ path: 'summary.md', content: summaryMarkdown(cells, { rows: ctx.rows }) }],
};
