// The userspace axis for a packager: which pidfd calls each container cell's seccomp profile
// and runtime blocked, as observed (with the seccomp evidence the judge used), and why each
// verdict differs from the host cell's. Pure functions of the cells: policy.md and policy.html.
import type { CaseResult, CellResult } from '../results.js';
import { seccompEvidence, type SeccompControl } from '../judge/judge.js';
import { KILLED_BY } from '../../suites/lib/observation.js';
import { escHtml, mdCell, mdCode, seccompLabel } from './report-text.js';
import type { ReportWriter } from './writer.js';

/** The syscalls the probes ask a control question about (suites/lib/libc.ts): the policy table's rows. */
export const POLICY_SYSCALLS = ['pidfd_open', 'pidfd_send_signal', 'pidfd_getfd', 'clone3', 'waitid', 'process_madvise', 'process_mrelease', 'setns', 'ioctl', 'fstatfs', 'name_to_handle_at'];

export interface PolicyColumn {
  id: string;
  userspace: string;
  /** 'default', 'unconfined' or the profile file's name. */
  seccomp: string;
  runtime: string;
  libc6: string | null;
  /** /proc/self/status Seccomp of the probes (2: a filter). */
  seccompMode: number | null;
  error: string | null;
}

/** One syscall in one cell: the filter's errno, the cases it cost and the control answer that proved it. */
export interface Blocked { errno: string; control: string; kallsyms: boolean | null; cases: string[] }

export interface PolicyTable {
  columns: PolicyColumn[];
  rows: { syscall: string; cells: (Blocked | null)[] }[];
}

function column(cell: CellResult): PolicyColumn {
  const c = cell.container!;
  return { id: cell.kernelId, userspace: c.userspace, seccomp: seccompLabel(c.seccomp), runtime: c.runtime, libc6: c.packages.libc6 ?? null, seccompMode: cell.facts?.seccomp ?? null, error: cell.error?.reason ?? null };
}

/** The control record that made the judge say "blocked by seccomp", or null. */
export function blockedBy(cell: CellResult, c: CaseResult): SeccompControl | null {
  if (!cell.facts || !c.reason.startsWith('blocked by seccomp')) return null;
  // A helper the filter killed (an i386 call under a profile that does not list the x86 arch).
  if (c.observed[KILLED_BY] === 'SIGSYS') return { syscall: 'any i386 call', errno: 'SIGSYS', control_errno: 'SIGSYS', in_kallsyms: null };
  return seccompEvidence(cell.facts, c.observed).blocked;
}

export function policyTable(cells: CellResult[]): PolicyTable {
  const containers = cells.filter((c) => c.container);
  const per = containers.map((cell) => {
    const m = new Map<string, Blocked>();
    for (const c of cell.cases) {
      const b = blockedBy(cell, c);
      if (!b) continue;
      const have = m.get(b.syscall) ?? { errno: b.errno, control: b.control_errno, kallsyms: b.in_kallsyms, cases: [] };
      have.cases.push(c.id);
      m.set(b.syscall, have);
    }
    return m;
  });
  const seen = new Set(per.flatMap((m) => [...m.keys()]));
  const names = [...POLICY_SYSCALLS, ...[...seen].filter((s) => !POLICY_SYSCALLS.includes(s)).sort()];
  return { columns: containers.map(column), rows: names.map((syscall) => ({ syscall, cells: per.map((m) => m.get(syscall) ?? null) })) };
}

/** Why a case's verdict differs from the host cell's: the axis that explains it. */
export type Cause = 'seccomp profile' | 'capabilities' | 'pid namespace' | 'userspace (libc)' | 'unexplained';

/**
 * A cause is named only with evidence. A fail, an error or an xpass is never explained: the
 * axes of a container make cases skip or change with the libc, they do not make the kernel
 * answer wrongly. The image's libc explains a libc case only when the libc that answered it
 * (the process's own, facts.libc, or a test binary's, observed.libc) is another than the host's.
 */
export function causeOf(cell: CellResult, c: CaseResult, host?: CellResult): Cause {
  if (c.status === 'fail' || c.status === 'error' || c.status === 'xpass') return 'unexplained';
  if (blockedBy(cell, c)) return 'seccomp profile';
  if (/^needs (root with )?CAP_|lacks it \(CapEff\)/.test(c.reason)) return 'capabilities';
  if (/pid namespace/.test(c.reason)) return 'pid namespace';
  if ((c.area === 'libc' || c.feature.startsWith('libc')) && otherLibc(cell, c, host)) return 'userspace (libc)';
  return 'unexplained';
}

/** The libc that answered a case: a test binary's own (observed `libc`, e.g. musl), else the process's (facts.libc). */
function answeringLibc(cell: CellResult, c: CaseResult | undefined): string | null {
  if (typeof c?.observed?.libc === 'string') return c.observed.libc;
  const l = cell.facts?.libc;
  return l ? `${l.name} ${l.version}` : null;
}

/** The case's answering libc is known and differs from the host cell's for the same case (or there is no host cell). */
function otherLibc(cell: CellResult, c: CaseResult, host?: CellResult): boolean {
  const mine = answeringLibc(cell, c);
  if (!mine) return false;
  return !host || answeringLibc(host, host.cases.find((h) => h.id === c.id)) !== mine;
}

/** What each cause means for a container cell, in a packager's words. */
export function causeText(cell: CellResult, cause: Cause): string {
  const c = cell.container;
  switch (cause) {
    case 'seccomp profile': return `the seccomp profile (${c ? seccompLabel(c.seccomp) : '?'}) refused the call; the control call proved it was the filter`;
    case 'capabilities': return `the runtime's capability set (${c?.runtime ?? 'container'} defaults: root without CAP_SYS_ADMIN, as CapEff showed)`;
    case 'pid namespace': return "the container's own pid namespace";
    case 'userspace (libc)': return `the image's libc (libc6 ${c?.packages.libc6 ?? '?'})`;
    case 'unexplained': return 'not explained by the userspace, the profile or the runtime: look at this case';
  }
}

export interface Difference { cell: string; id: string; host: string; status: string; cause: Cause; reason: string }

/** Every case of a container cell whose status differs from the host cell's, with its cause. */
export function differencesFromHost(cells: CellResult[]): Difference[] | null {
  const host = cells.find((c) => c.mode === 'host');
  if (!host) return null;
  const base = new Map(host.cases.map((c) => [c.id, c]));
  // A cell that did not run the suite has one reason (the cell's error), listed apart, not per case.
  return cells.filter((c) => c.container && !c.error).flatMap((cell) => cell.cases.flatMap((c) => {
    const h = base.get(c.id);
    if (!h || h.status === c.status) return [];
    return [{ cell: cell.kernelId, id: c.id, host: h.status, status: c.status, cause: causeOf(cell, c, host), reason: c.reason }];
  }));
}

const CAUSES: Cause[] = ['seccomp profile', 'capabilities', 'pid namespace', 'userspace (libc)', 'unexplained'];

function causeCounts(diffs: Difference[], id: string): Record<Cause, number> {
  const n = Object.fromEntries(CAUSES.map((k) => [k, 0])) as Record<Cause, number>;
  for (const d of diffs) if (d.cell === id) n[d.cause]++;
  return n;
}

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);
const blockedText = (b: Blocked) => `${b.errno} ×${b.cases.length}`;
const evidenceText = (syscall: string, b: Blocked) => `control ${syscall}(bad argument) got ${b.control} too${b.errno === 'ENOSYS' ? `, sys_${syscall} ${b.kallsyms ? 'in' : 'not in'} /proc/kallsyms` : ''}`;

export function policyMarkdown(cells: CellResult[]): string {
  const t = policyTable(cells);
  const out = ['# pidfd-matrix: userspace, seccomp and runtime', ''];
  if (!t.columns.length) return [...out, 'No container cells in this run.', ''].join('\n');
  out.push('## Cells', '', '| cell | userspace (libc6) | seccomp | runtime | Seccomp mode |', '| --- | --- | --- | --- | --- |');
  for (const c of t.columns) out.push(`| ${mdCell(c.id)} | ${mdCell(`${c.userspace} (${c.libc6 ?? '?'})`)} | ${mdCell(c.seccomp)} | ${mdCell(c.runtime)} | ${c.error ? mdCell(`error: ${c.error}`) : c.seccompMode ?? '–'} |`);
  out.push('', '## Which pidfd calls each profile/runtime blocked (as observed)', '');
  out.push('A cell names the errno the filter answered and how many cases it cost; `·` nothing was refused. Every entry rests on');
  out.push('the control call: the same syscall asked with a bad argument, which the kernel answers EBADF or EINVAL, got the');
  out.push("filter's errno again (for ENOSYS, /proc/kallsyms also shows the kernel has the syscall).", '');
  out.push(`| syscall | ${t.columns.map((c) => mdCell(c.id)).join(' | ')} |`, `| --- | ${t.columns.map(() => ':---:').join(' | ')} |`);
  for (const r of t.rows) out.push(`| ${mdCode(r.syscall)} | ${r.cells.map((b) => (b ? blockedText(b) : '·')).join(' | ')} |`);
  const evid = t.rows.flatMap((r) => r.cells.flatMap((b, i) => (b ? [`- ${t.columns[i].id}, \`${r.syscall}\`: ${evidenceText(r.syscall, b)}; cases ${b.cases.join(', ')}`] : [])));
  if (evid.length) out.push('', '### Evidence', '', ...evid);
  const diffs = differencesFromHost(cells);
  out.push('', '## Verdicts that differ from the host cell, by cause', '');
  if (!diffs) return [...out, 'No host cell in this run to compare with (add `- id: host` with `source: host`).', ''].join('\n');
  out.push(`| cell | ${CAUSES.join(' | ')} |`, `| --- | ${CAUSES.map(() => '---:').join(' | ')} |`);
  for (const c of t.columns) {
    const n = causeCounts(diffs, c.id);
    out.push(`| ${mdCell(c.id)} | ${CAUSES.map((k) => (n[k] ? String(n[k]) : '·')).join(' | ')} |`);
  }
  out.push('', ...CAUSES.filter((k) => k !== 'unexplained').map((k) => `- **${k}**: ${causeText(cells.find((c) => c.container)!, k).replace(/ \(.*\)/, '')}`));
  const down = t.columns.filter((c) => c.error);
  if (down.length) out.push('', '**Cells that did not run the suite** (every case an error; compare nothing):', ...down.map((c) => `- ${c.id}: ${mdCell(clip(c.error!))}`));
  const odd = diffs.filter((d) => d.cause === 'unexplained');
  out.push('', odd.length ? `**${odd.length} difference${odd.length === 1 ? '' : 's'} not explained by the userspace, profile or runtime:**` : `Every difference from the host cell${down.length ? ' in the cells that ran' : ''} is explained by the userspace, the profile or the runtime.`);
  for (const d of odd) out.push(`- ${d.cell} \`${d.id}\`: host ${d.host}, here ${d.status}: ${mdCell(clip(d.reason))}`);
  out.push('');
  return out.join('\n');
}

export function policyHtml(cells: CellResult[]): string {
  const t = policyTable(cells);
  const diffs = differencesFromHost(cells);
  const head = t.columns.map((c) => `<th scope="col">${escHtml(c.id)}<small>${escHtml(`${c.userspace} · libc6 ${c.libc6 ?? '?'} · seccomp ${c.seccomp} · ${c.runtime}`)}</small></th>`).join('');
  const body = t.rows.map((r) => `<tr><th scope="row"><code>${escHtml(r.syscall)}</code></th>${r.cells.map((b) => (b
    ? `<td class="blocked" title="${escHtml(`${evidenceText(r.syscall, b)}\n${b.cases.join('\n')}`)}">${escHtml(blockedText(b))}</td>`
    : '<td class="open">·</td>')).join('')}</tr>`).join('\n');
  const causeRows = diffs ? t.columns.map((c) => {
    const n = causeCounts(diffs, c.id);
    if (c.error) return `<tr><th scope="row">${escHtml(c.id)}</th><td class="bad" colspan="${CAUSES.length}">did not run the suite: ${escHtml(clip(c.error))}</td></tr>`;
    return `<tr><th scope="row">${escHtml(c.id)}</th>${CAUSES.map((k) => `<td class="${k === 'unexplained' && n[k] ? 'bad' : ''}">${n[k] || '·'}</td>`).join('')}</tr>`;
  }).join('\n') : '';
  const odd = (diffs ?? []).filter((d) => d.cause === 'unexplained');
  const oddItem = (d: (typeof odd)[number]) => `<li>${escHtml(`${d.cell} ${d.id}: host ${d.host}, here ${d.status}: ${clip(d.reason)}`)}</li>`;
  const oddText = odd.length
    ? `<span class="bad">${odd.length} not explained</span>:</p><ul>${odd.map(oddItem).join('')}</ul>`
    : 'Every difference from the host cell is explained by the userspace, the profile or the runtime.</p>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>pidfd-matrix: seccomp and runtime policy</title>
<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:center}th small{display:block;font-weight:normal;color:#555}td.blocked{background:#fde2e1}td.open{color:#999}.bad{background:#f8b4b4;font-weight:bold}</style>
</head>
<body>
<h1>Which pidfd calls each profile/runtime blocked</h1>
${t.columns.length ? `<p>Observed in container cells on the host's kernel. A red cell: the filter's errno and the cases it cost (hover: the control call that proved it was the filter, and the cases). <code>·</code>: nothing refused.</p>
<table><thead><tr><th scope="col">syscall</th>${head}</tr></thead><tbody>
${body}
</tbody></table>
<h2>Verdicts that differ from the host cell, by cause</h2>
${diffs ? `<table><thead><tr><th scope="col">cell</th>${CAUSES.map((k) => `<th scope="col">${escHtml(k)}</th>`).join('')}</tr></thead><tbody>
${causeRows}
</tbody></table>
<p>${oddText}` : '<p>No host cell in this run to compare with.</p>'}` : '<p>No container cells in this run.</p>'}
</body>
</html>
`;
}

/** policy.md and policy.html: what each seccomp profile and runtime blocked (only when containers ran). */
export const policyWriter: ReportWriter = {
  name: 'policy',
  description: 'policy.md, policy.html: what each seccomp profile and runtime blocked (container cells only)',
  run: (cells) => (cells.some((c) => c.container)
    ? [{ path: 'policy.md', content: policyMarkdown(cells) }, { path: 'policy.html', content: policyHtml(cells) }]
    : []),
};
