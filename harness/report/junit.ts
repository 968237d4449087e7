// The JUnit XML writer. The harness owns it because vitest's reporter writes errors="0",
// <skipped/> without a message and file paths as classname, which GitLab and Jenkins then
// misread. Output follows the Jenkins/ant JUnit format (harness/report/schema/junit.xsd checks it).
//
// Cell-level errors (boot failure, panic, timeout: cell.error set, no cases) become one
// <testcase> per catalog case, each with <error>, not one cell-level testcase. Trend views
// in GitLab/Jenkins key on (classname, name): with one row per catalog case, a kernel that
// failed to boot shows its usual N tests as errors, and the same rows turn green again next
// run; a single "boot" testcase would make N tests vanish and a new one appear instead.
import type { CaseResult, CellResult } from '../results.js';
import { fmt } from '../judge/judge.js';
import { kernelArchName } from '../judge/arch.js';
import { KERNEL_HEALTH_ID } from '../judge/health.js';
import { consoleLogPath, countStatuses, effectiveCases, testRows, type TestRow } from './table.js';
import { writeFileAtomic, xmlSafe } from './report-text.js';
import type { ReportWriter } from './writer.js';
export { xmlSafe } from './report-text.js';

export function escText(s: string): string {
  return xmlSafe(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Attribute values: also quotes, and newlines/tabs as references so parsers keep them. */
export function escAttr(s: string): string {
  return escText(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}

const secs = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

/** JUnit classname: `<kernel-id without dots>.<area>`, so consumers group by kernel then area. */
export function junitClassname(kernelId: string, area: string): string {
  return `${kernelId.replace(/\./g, '_')}.${area.replace(/\./g, '_')}`;
}

/** ant's timestamp format: ISO 8601 to the second, no zone (the value is UTC). */
function junitTimestamp(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '1970-01-01T00:00:00' : d.toISOString().slice(0, 19);
}

/** Provenance as <property> pairs; unknown values are left out rather than written as "null". */
function cellProperties(cell: CellResult): [string, string][] {
  const f = cell.facts, p = cell.provenance;
  const props: [string, unknown][] = [
    ['kernel.id', cell.kernelId],
    ['kernel.release', f?.release],
    // The architecture the guest observed, by the kernel's name (arm64) as matrix arch: and KCIDB say; uname -m below.
    ['arch', f?.arch ? kernelArchName(f.arch) : undefined],
    ['kernel.arch', f?.arch],
    ['kernel.source', p.kernelSource ?? (cell.mode === 'host' ? 'running host kernel' : undefined)],
    ['kernel.cmdline', p.kernelCmdline],
    ['kernel.config_hash', p.configHash],
    ['mode', cell.mode],
    ['accel', cell.accel],
    ['lsm', cell.lsm ?? (f ? f.lsms.join(',') : undefined)],
    ['lsms', f?.lsms.join(',')],
    ['selinux', f?.selinux],
    ['seccomp', f?.seccomp],
    ['container', f?.container],
    ['uid', f?.uid],
    // The userspace axis of a container cell (its kernel is the host's).
    ['userspace', cell.container?.userspace],
    ['userspace.image', cell.container?.image],
    ['userspace.libc6', cell.container?.packages.libc6],
    ['container.seccomp_profile', cell.container?.seccomp],
    ['container.seccomp_sha256', cell.container?.seccompSha256],
    ['container.runtime', cell.container ? `${cell.container.runtime}${cell.container.runtimeVersion ? ` (${cell.container.runtimeVersion})` : ''}` : undefined],
    ['container.kernel', cell.container ? 'the host kernel (a container has none of its own)' : undefined],
    ['qemu.version', p.qemu],
    ['virtme_ng.version', p.vng],
    ['harness.rev', p.harnessRev],
    ['node.version', p.node],
    ['command', p.command],
    ['rerun', cell.rerun],
    ['started_at', cell.startedAt],
    ['console_log', consoleLogPath(cell)],
    ['cell.error', cell.error?.reason],
    ...(cell.earlierAttempts ?? []).map((a, i): [string, unknown] => [`retried.attempt${i + 1}`, `${a.reason} (${a.consoleLog})`]),
  ];
  return props.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) => [k, String(v)]);
}

const json = (o: unknown) => JSON.stringify(o, null, 2);

/** system-out: everything a person needs to understand and reproduce this one result. */
function systemOut(c: CaseResult, cell: CellResult): string {
  const lines = [`status: ${c.status}`, `kernel: ${cell.kernelId}${cell.facts ? ` (${cell.facts.release})` : ''}`];
  if (c.status === 'xpass') lines.push(`xpass: ${c.reason}`);
  else if (c.reason) lines.push(`reason: ${c.reason}`);
  if (c.knownIssue) {
    const ki = c.knownIssue;
    lines.push(`known issue: ${ki.reason}${ki.link ? ` (${ki.link})` : ''}${ki.expires ? `, expires ${ki.expires}` : ''}`);
    if (c.status === 'xpass') lines.push('known issue: this test passes now: remove this entry from kernels/known-issues.yaml');
  }
  if (c.expected) lines.push(`expected (${c.expected}): ${json(c.expectedAnswer)}`);
  if (Object.keys(c.observed).length) lines.push(`observed: ${json(c.observed)}`);
  if (cell.error) {
    lines.push(`cell error: ${cell.error.reason}`);
    if (cell.error.consoleExcerpt) lines.push(`console excerpt:\n${cell.error.consoleExcerpt}`);
  }
  lines.push(`rerun: ${c.rerun}`);
  if (c.log) lines.push(`log:\n${c.log}`);
  return lines.join('\n');
}

function firstLine(s: string, max = 500): string {
  const l = s.split('\n', 1)[0];
  return l.length > max ? l.slice(0, max - 1) + '…' : l;
}

function testcase(c: CaseResult, cell: CellResult): string {
  const attrs = `classname="${escAttr(junitClassname(cell.kernelId, c.area))}" name="${escAttr(c.id)}" time="${secs(c.durationMs)}"`;
  let outcome = '';
  switch (c.status) {
    case 'fail':
      outcome = `<failure message="${escAttr(firstLine(c.reason))}" type="fail">${escText(
        `expected (${c.expected ?? 'n/a'}): ${fmt(c.expectedAnswer)}\nobserved: ${fmt(c.observed)}\n${c.reason}`)}</failure>`;
      break;
    case 'error': {
      // A case the cell never got to (boot failure, panic mid-run) vs. one whose probe errored.
      const notRun = cell.error !== null && !cell.cases.includes(c);
      const type = notRun ? 'cell-error' : 'error';
      // Kernel health: the console lines of the WARN/Oops/taint go into the error itself.
      const health = (c.preHealth || c.id === KERNEL_HEALTH_ID) && c.log ? `\n\n${c.log}` : '';
      const body = notRun ? `${cell.error!.reason}${cell.error!.consoleExcerpt ? `\n\n${cell.error!.consoleExcerpt}` : ''}` : c.reason + health;
      outcome = `<error message="${escAttr(firstLine(c.reason))}" type="${type}">${escText(body)}</error>`;
      break;
    }
    case 'skip':
      outcome = `<skipped message="${escAttr(firstLine(c.reason || 'skipped'))}"/>`;
      break;
    case 'xfail':
      outcome = `<skipped message="${escAttr(firstLine(`xfail: ${c.reason || c.knownIssue?.reason || 'known deviation'}`))}"/>`;
      break;
    case 'pass':
    case 'xpass':
      break;
  }
  return `    <testcase ${attrs}>\n      ${outcome ? outcome + '\n      ' : ''}<system-out>${escText(systemOut(c, cell))}</system-out>\n    </testcase>`;
}

export interface JunitOptions {
  /** The grid rows (defaults: catalog cases plus whatever the cells report). */
  rows?: TestRow[];
  name?: string;
}

/** The JUnit document for one or more kernel cells: one <testsuite> per cell. */
export function junitXml(cells: CellResult[], opts: JunitOptions = {}): string {
  const rows = opts.rows ?? testRows(cells);
  const seen = new Map<string, string>();
  const suites: string[] = [];
  let tests = 0, failures = 0, errors = 0, skipped = 0, time = 0;
  for (const cell of cells) {
    const cases = effectiveCases(cell, rows);
    for (const c of cases) {
      // A consumer keys rows on (classname, name): a duplicate would silently merge two results.
      const key = `${junitClassname(cell.kernelId, c.area)} ${c.id}`;
      if (seen.has(key))
        throw new Error(`junit: duplicate (kernel, test) pair ${cell.kernelId} ${c.id}: kernel ids must be unique within a run and test ids within a cell`);
      seen.set(key, cell.kernelId);
    }
    const n = countStatuses(cases);
    const skips = n.skip + n.xfail;
    tests += cases.length; failures += n.fail; errors += n.error; skipped += skips; time += cell.durationMs;
    const props = cellProperties(cell).map(([k, v]) => `      <property name="${escAttr(k)}" value="${escAttr(v)}"/>`).join('\n');
    suites.push([
      `  <testsuite name="${escAttr(cell.kernelId)}" tests="${cases.length}" failures="${n.fail}" errors="${n.error}" skipped="${skips}"` +
        ` time="${secs(cell.durationMs)}" timestamp="${junitTimestamp(cell.startedAt)}" hostname="${escAttr(cell.hostname || 'localhost')}" id="${suites.length}">`,
      `    <properties>\n${props}\n    </properties>`,
      ...cases.map((c) => testcase(c, cell)),
      `  </testsuite>`,
    ].join('\n'));
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escAttr(opts.name ?? 'pidfd-matrix')}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs(time)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}

export async function writeJunit(cells: CellResult[], path: string, opts: JunitOptions = {}): Promise<void> {
  await writeFileAtomic(path, junitXml(cells, opts));
}

/** junit.xml per cell and merged (one testsuite per kernel). */
export const junitWriter: ReportWriter = {
  name: 'junit',
  description: 'JUnit XML: junit.xml per cell and for the run (one testsuite per kernel)',
  cell: (cell) => [{ path: 'junit.xml', content: junitXml([cell]) }],
  run: (cells, ctx) => [{ path: 'junit.xml', content: junitXml(cells, { rows: ctx.rows }) }],
};
