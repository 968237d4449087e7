// reports/index.html: one self-contained page (inline CSS and JS, no network) with the
// feature x kernel matrix. A click on a cell shows what the kernel answered, what was
// expected, why it got its status, the console excerpt of a cell error, and the rerun command.
import type { CaseResult, CellResult } from '../results.js';
import { STATUSES, STATUS_MEANING, type Status } from '../status.js';
import { consoleLogPath, countStatuses, effectiveCases, fmtCounts, testRows, type TestRow } from './table.js';
import { escHtml, seccompLabel, xmlSafe } from './report-text.js';
export { escHtml } from './report-text.js';
import type { Change } from './compare.js';
import type { Boundary } from '../judge/verification.js';
import type { ReportWriter } from './writer.js';

export const STATUS_COLOR: Record<Status, { bg: string; fg: string }> = {
  pass: { bg: '#2e7d32', fg: '#ffffff' },
  fail: { bg: '#c62828', fg: '#ffffff' },
  skip: { bg: '#cfd8dc', fg: '#263238' },
  xfail: { bg: '#f9a825', fg: '#212121' },
  xpass: { bg: '#6a1b9a', fg: '#ffffff' },
  error: { bg: '#212121', fg: '#ff8a80' },
};


/** JSON inside <script>: no "</script>" or "<!--" can end or confuse the element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

interface PageCase { status: Status; title: string; reason: string; expected: string | null; expectedAnswer: unknown; observed: unknown; rerun: string; durationMs: number; knownIssue?: CaseResult['knownIssue']; log?: string }

function pageData(cells: CellResult[], rows: TestRow[]) {
  return {
    rows: rows.map((r) => r.id),
    cells: cells.map((cell) => ({
      kernelId: cell.kernelId,
      release: cell.facts?.release ?? null,
      mode: cell.mode, accel: cell.accel, lsm: cell.lsm, container: cell.container ?? null,
      facts: cell.facts, provenance: cell.provenance,
      startedAt: cell.startedAt, durationMs: cell.durationMs, hostname: cell.hostname,
      error: cell.error, consoleLog: consoleLogPath(cell), rerun: cell.rerun,
      cases: Object.fromEntries(effectiveCases(cell, rows).map((c) => [c.id, {
        status: c.status, title: c.title, reason: c.reason, expected: c.expected, expectedAnswer: c.expectedAnswer,
        observed: c.observed, rerun: c.rerun, durationMs: c.durationMs, knownIssue: c.knownIssue, log: c.log,
      } satisfies PageCase])),
    })),
  };
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:1.5em;color:#1b1b1b;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .2em} .sub{color:#555;margin:0 0 1em}
.layout{display:flex;gap:1.5em;align-items:flex-start;flex-wrap:wrap}
table.matrix{border-collapse:collapse;background:#fff}
.matrix th,.matrix td{border:1px solid #bbb;padding:3px 8px;text-align:center;white-space:nowrap}
.matrix thead th{background:#eceff1;cursor:pointer} .matrix thead th small{display:block;font-weight:normal;color:#555}
.matrix tbody th{text-align:left;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-weight:normal}
.matrix td.st{cursor:pointer;font-weight:600} .matrix td.st:focus,.matrix td.selected{outline:3px solid #1565c0;outline-offset:-3px}
.matrix td.none{color:#999} .matrix tfoot td,.matrix tfoot th{font-size:12px;background:#f5f5f5;white-space:normal;text-align:left;max-width:14em}
${STATUSES.map((s) => `.st-${s}{background:${STATUS_COLOR[s].bg};color:${STATUS_COLOR[s].fg}}`).join('\n')}
.legend{list-style:none;padding:0;margin:1em 0} .legend li{margin:.2em 0} .badge{display:inline-block;min-width:4em;text-align:center;padding:1px 6px;border-radius:3px;font-weight:600;margin-right:.5em}
#detail{flex:1;min-width:28em;position:sticky;top:1em;max-width:60em;background:#fff;border:1px solid #bbb;padding:1em}
#detail h2{font-size:1.1em;margin:0 0 .5em} #detail h3{font-size:.95em;margin:1em 0 .2em}
#detail pre{background:#f3f3f3;padding:.5em;overflow:auto;white-space:pre-wrap;word-break:break-all;margin:0}
#detail pre.rerun{background:#102027;color:#e0f2f1}
.matrix td.st small{display:block;font-weight:normal;font-size:11px;opacity:.85}
.matrix td.changed{box-shadow:inset 0 0 0 3px #ff6f00}
.bad{color:#c62828;font-weight:600}
`;

// Renders the detail panel with textContent only: observations are kernel output, not HTML.
const JS = `
const DATA = JSON.parse(document.getElementById('data').textContent);
const detail = document.getElementById('detail');
// Console colour codes are dropped; other control characters (NULs, ...) shown as \\xNN.
const visible = (s) => String(s).replace(/\\x1b\\[[0-9;?]*[ -\\/]*[@-~]/g, '').replace(/[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]/g, (c) => '\\\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = visible(text); if (cls) e.className = cls; return e; }
function section(title, text, cls, id) { if (text === undefined || text === null || text === '') return; detail.append(el('h3', title)); const p = el('pre', text, cls); if (id) p.id = id; detail.append(p); }
const pretty = (v) => JSON.stringify(v, null, 2);
// consoleLog here is relative to the run dir, which is where index.html lives.
function logLink(cell) { if (!cell.consoleLog) return; const p = el('p'); const a = el('a', 'full console log: ' + cell.consoleLog); a.href = cell.consoleLog; a.id = 'detail-console-log'; p.append(a); detail.append(p); }
function select(td) { document.querySelectorAll('td.selected').forEach((x) => x.classList.remove('selected')); if (td) td.classList.add('selected'); }
function showCase(td) {
  const cell = DATA.cells.find((c) => c.kernelId === td.dataset.kernel);
  const c = cell && cell.cases[td.dataset.test];
  if (!c) return;
  select(td);
  detail.replaceChildren();
  detail.append(el('h2', td.dataset.test + ' on ' + cell.kernelId + (cell.release ? ' (' + cell.release + ')' : '')));
  const st = el('p'); st.append(el('span', c.status, 'badge st-' + c.status), document.createTextNode(DATA.meaning[c.status])); detail.append(st);
  if (c.title) detail.append(el('p', c.title));
  section('Reason', c.reason, '', 'detail-reason');
  if (c.knownIssue) section('Known issue', c.knownIssue.reason + (c.knownIssue.link ? '\\n' + c.knownIssue.link : '') + (c.knownIssue.expires ? '\\nexpires ' + c.knownIssue.expires : '') + (c.status === 'xpass' ? '\\npasses now: remove this entry from kernels/known-issues.yaml' : ''));
  section('Expected answer' + (c.expected ? ' (' + c.expected + ')' : ''), c.expected ? pretty(c.expectedAnswer) : 'none (not judged)', '', 'detail-expected');
  section('Observed', pretty(c.observed), '', 'detail-observed');
  if (cell.error) { section('Cell error', cell.error.reason); section('Console excerpt', cell.error.consoleExcerpt || '(none captured)', '', 'detail-console'); logLink(cell); }
  section('Log', c.log);
  const ch = (DATA.changes || {})[cell.kernelId + ' ' + td.dataset.test];
  if (ch) section('Changed since the baseline (' + ch.kind + ')', 'before: ' + (ch.before ? ch.before.status + '\\n' + pretty(ch.before.observed) : '(not in the baseline)'), '', 'detail-before');
  section('Rerun', c.rerun, 'rerun', 'detail-rerun');
}
function showKernel(th) {
  const cell = DATA.cells.find((c) => c.kernelId === th.dataset.kernel);
  if (!cell) return;
  select(null);
  detail.replaceChildren();
  detail.append(el('h2', 'kernel ' + cell.kernelId + (cell.release ? ' (' + cell.release + ')' : '')));
  if (cell.error) { section('Cell error', cell.error.reason, 'bad'); section('Console excerpt', cell.error.consoleExcerpt || '(none captured)', '', 'detail-console'); }
  logLink(cell);
  section('Run', pretty({ mode: cell.mode, accel: cell.accel, lsm: cell.lsm, startedAt: cell.startedAt, durationMs: cell.durationMs, hostname: cell.hostname }));
  if (cell.container) section('Container: userspace, seccomp, runtime (its kernel is the host kernel)', pretty(cell.container));
  section('Kernel facts', pretty(cell.facts));
  section('Provenance', pretty(cell.provenance));
  section('Rerun the whole cell', cell.rerun, 'rerun', 'detail-rerun');
}
document.querySelector('table.matrix').addEventListener('click', (ev) => {
  const td = ev.target.closest('td[data-test]'); if (td) return showCase(td);
  const th = ev.target.closest('th[data-kernel]'); if (th) return showKernel(th);
});
document.querySelector('table.matrix').addEventListener('keydown', (ev) => {
  if (ev.key !== 'Enter' && ev.key !== ' ') return;
  const td = ev.target.closest('td[data-test]'); if (td) { ev.preventDefault(); showCase(td); }
});
`;

/** The catalog boundaries (of the shown tests) that no recorded kernel checked on both sides. */
function unverifiedSection(all: Boundary[], rows: TestRow[]): string {
  const ids = new Set(rows.map((r) => r.id));
  const open = all.filter((b) => ids.has(b.case) && b.state !== 'verified');
  if (open.length === 0) return '';
  const tr = open.map((b) => `<tr><td>${escHtml(b.case)}</td><td>${escHtml(`${b.kind} ${b.version}`)}</td><td>${escHtml(b.state)}</td><td>${escHtml(b.after ?? '–')}</td><td>${escHtml(b.before ?? '–')}</td><td>${escHtml(b.note)}</td></tr>`).join('\n');
  return `<details id="unverified"><summary>${open.length} of ${all.filter((b) => ids.has(b.case)).length} catalog version boundaries are not verified on real kernels on both sides (suites/catalog/verified.yaml; <code>pidfd-matrix catalog --unverified</code>)</summary>
<table class="matrix"><thead><tr><th>test</th><th>boundary</th><th>state</th><th>new answer seen on</th><th>older answer seen on</th><th>note</th></tr></thead><tbody>
${tr}
</tbody></table></details>`;
}

/**
 * A few words of why a cell is not a plain pass, shown in the cell itself (the full reason is
 * its tooltip and detail): "since 6.9", "needs root", "seccomp", ...
 */
export function shortReason(c: CaseResult): string {
  if (c.status === 'pass' || c.status === 'fail') return '';
  const r = c.reason;
  const m = /\bneeds (\d+\.\d+(?:\.\d+)?)\b/.exec(r) ?? /known broken in ([\d.]+)/.exec(r);
  if (c.status === 'skip' && /^blocked by seccomp/.test(r)) return 'seccomp';
  if (m) return c.status === 'skip' ? `since ${m[1]}` : m[1];
  const need = /^needs ([a-z]+(?: [A-Za-z]+)?)/i.exec(r);
  if (need) return `needs ${need[1].split(' ')[0].toLowerCase()}`;
  if (/backport/.test(r)) return 'backport';
  if (c.knownIssue) return 'known issue';
  if (c.status === 'error') return /no answer within|deadline/.test(r) ? 'hang' : /did not run the suite/.test(r) ? 'no boot' : '';
  return '';
}

/** "5.10.0-32-amd64 (5.10.223)": the stable version a distro release string hides. */
function kernelLabel(cell: CellResult): string {
  const f = cell.facts;
  const c = cell.container;
  // A container cell: its axes, and the kernel is the host's.
  if (c) return `${c.userspace} · seccomp ${seccompLabel(c.seccomp)} · ${c.runtime} · host kernel${f ? ` ${f.release}` : ''}`;
  if (!f) return cell.error ? 'did not run' : '';
  const stable = f.version.join('.');
  return f.release.startsWith(stable) ? f.release : `${f.release} (${stable})`;
}

export function matrixHtml(cells: CellResult[], opts: { rows?: TestRow[]; generatedAt?: Date; boundaries?: Boundary[]; changes?: Change[] } = {}): string {
  const rows = opts.rows ?? testRows(cells);
  const cols = cells.map((cell) => new Map(effectiveCases(cell, rows).map((c) => [c.id, c])));
  const all = cols.flatMap((m) => [...m.values()]);
  const total = countStatuses(all);
  const bad = total.fail + total.error;
  const cellErrors = cells.filter((c) => c.error).length;
  const revs = [...new Set(cells.map((c) => c.provenance.harnessRev).filter(Boolean))];
  // Changes are keyed by the new run's kernel id (compare names paired kernels "base -> new").
  const changed = new Map((opts.changes ?? []).map((ch) => [`${ch.kernel.split(' -> ').pop()} ${ch.test}`, ch]));

  const head = cells.map((cell) => {
    const sub = [kernelLabel(cell), cell.accel, cell.lsm].filter(Boolean).join(' · ');
    return `<th scope="col" data-kernel="${escHtml(cell.kernelId)}" title="click for provenance">${escHtml(cell.kernelId)}<small>${escHtml(sub)}</small></th>`;
  }).join('');
  const body = rows.map((r) => `<tr><th scope="row" title="${escHtml(r.title)}">${escHtml(r.id)}</th>${cells.map((cell, i) => {
    const c = cols[i].get(r.id);
    if (!c) return `<td class="none" title="not run on this kernel">–</td>`;
    const ch = changed.get(`${cell.kernelId} ${r.id}`);
    const was = ch ? `\nchanged since the baseline (${ch.kind}): was ${ch.before?.status ?? 'absent'}${ch.keys.length ? `, ${ch.keys.map((k) => `${k} ${JSON.stringify(ch.before?.observed[k])}`).join(', ')}` : ''}` : '';
    const why = shortReason(c);
    return `<td class="st st-${c.status}${ch ? ' changed' : ''}" tabindex="0" data-kernel="${escHtml(cell.kernelId)}" data-test="${escHtml(r.id)}" data-status="${c.status}" title="${escHtml(c.reason + was)}">${c.status}${why ? `<small>${escHtml(why)}</small>` : ''}</td>`;
  }).join('')}</tr>`).join('\n');
  const foot = `<tr><th scope="row">totals</th>${cols.map((m, i) => `<td>${escHtml(fmtCounts(countStatuses(m.values())))}${cells[i].error ? `<br><span class="bad">${escHtml(cells[i].error!.reason)}</span>` : ''}</td>`).join('')}</tr>`;
  const legend = STATUSES.map((s) => `<li><span class="badge st-${s}">${s}</span>${escHtml(STATUS_MEANING[s])} <small>(${total[s]})</small></li>`).join('\n');
  const data = { ...pageData(cells, rows), meaning: STATUS_MEANING, changes: Object.fromEntries(changed) };

  // The line under the title: the counts, what failed, the baseline's changes, where it came from.
  const didNotRun = cellErrors ? `, ${cellErrors} kernel${cellErrors === 1 ? '' : 's'} did not run the suite` : '';
  const failed = bad ? ` — <span class="bad">${bad} fail/error${didNotRun}</span>` : '';
  const changedNote = opts.changes
    ? `<strong>${changed.size} cell${changed.size === 1 ? '' : 's'} changed since the baseline</strong> (outlined; hover or click for the old value). `
    : '';
  const harness = revs.length ? `, harness ${escHtml(revs.join(', '))}` : '';
  const containerNote = cells.some((c) => c.container)
    ? ' Container cells run on the host kernel: <a href="policy.html">policy.html</a> shows what each seccomp profile and runtime blocked.'
    : '';

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>pidfd-matrix: ${bad ? `${bad} failing` : 'all good'} (${cells.length} kernels)</title>
<style>${CSS}</style>
</head>
<body>
<h1>pidfd-matrix: pidfd features × kernels</h1>
<p class="sub">${cells.length} kernel${cells.length === 1 ? '' : 's'}, ${rows.length} tests: ${escHtml(fmtCounts(total))}${failed}.
${changedNote}Generated ${escHtml((opts.generatedAt ?? new Date()).toISOString())}${harness}. \
Click a cell for details, a kernel for its provenance.${containerNote}</p>
<div class="layout">
<div>
<table class="matrix" id="matrix">
<thead><tr><th scope="col">test</th>${head}</tr></thead>
<tbody>
${body}
</tbody>
<tfoot>${foot}</tfoot>
</table>
<ul class="legend" id="legend">
${legend}
</ul>
</div>
<section id="detail" aria-live="polite"><h2>Details</h2><p>Click a cell of the matrix.</p></section>
</div>
${opts.boundaries ? unverifiedSection(opts.boundaries, rows) : ''}
<script type="application/json" id="data">${scriptJson(data)}</script>
<script>${JS}</script>
</body>
</html>
`;
}

/** index.html: the feature x kernel matrix of the run. */
export const htmlWriter: ReportWriter = {
  name: 'html',
  description: 'index.html: the self-contained feature x kernel matrix',
  run: (cells, ctx) => [{ path: 'index.html', content: matrixHtml(cells, { rows: ctx.rows, boundaries: ctx.boundaries }) }],
};
