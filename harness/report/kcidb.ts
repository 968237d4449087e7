// KernelCI KCIDB v5.3 export (pure): one checkout and one build per kernel cell, one test per
// case with path `pidfd.<feature>.<case>`, and the known deviations as issues with an incident
// per xfail or xpass (kcidb-issues.ts). The schema (third_party/kcidb) is checked by
// kcidb-validate.ts; the self-tests validate real runs against it.
//
// Status mapping: pass -> PASS, fail -> FAIL, skip -> SKIP, error -> ERROR, and for the listed
// deviations, by the schema's definitions:
//   xfail -> FAIL ("the test completed and reported the tested code as faulty": it did, in the
//            known way) with an incident, present: true, naming the issue. That incident is what
//            tells KernelCI the failure is known, not new. An xfail no issue explains (results
//            judged by an older catalog, or `report --no-known-issues` over entries applied at
//            probe time) stays SKIP with the reason in `comment`: a FAIL there would read as new.
//   xpass -> PASS with an incident, present: false: the schema's incident is "an issue
//            occurrence/absence", and `present` is "False if it was absent" - the listed issue
//            did not happen on this kernel, which is what an xpass says (remove the entry, or fix
//            the range). An xpass against a plain `introduced` version has no issue to name.
// Our own status is kept in misc.pidfd_matrix_status either way, so nothing is lost.
import { createHash } from 'node:crypto';
import type { CaseResult, CellResult } from '../results.js';
import { fmt } from '../judge/judge.js';
import { kernelArchName } from '../judge/arch.js';
import { effectiveCases, testRows, type TestRow } from './table.js';
import type { Status } from '../status.js';
import { seccompLabel } from './report-text.js';
import { IssueIndex, type IssueRef, type IssueSources, type KcidbObject } from './kcidb-issues.js';
import type { IssueVersions } from './kcidb-versions.js';
import type { ReportWriter } from './writer.js';
import { kcidbErrors } from './kcidb-validate.js';

export const KCIDB_ORIGIN_RE = /^[a-z0-9_]+$/;
/** The schema's limit for log_excerpt. */
export const LOG_EXCERPT_MAX = 16384;

type KcidbStatus = 'PASS' | 'FAIL' | 'SKIP' | 'ERROR';
const STATUS: Record<Status, KcidbStatus> = {
  pass: 'PASS', xpass: 'PASS', fail: 'FAIL', skip: 'SKIP', xfail: 'SKIP', error: 'ERROR',
};

/** An xfail is a FAIL only when an incident says which known issue it is (header comment). */
function kcidbStatus(status: Status, issue: IssueRef | null): KcidbStatus {
  return status === 'xfail' && issue ? 'FAIL' : STATUS[status];
}

function incident(origin: string, testId: string, buildId: string, c: CaseResult, issue: IssueRef): KcidbObject {
  const present = c.status === 'xfail';
  const local = (id: string, kind: string) => id.slice(`${origin}:${kind}`.length);
  return {
    // One incident per test and issue version: `<origin>:incident:<test's id>:<issue's id>@<version>`.
    id: `${origin}:incident:${local(testId, 'test:')}:${local(issue.id, '')}@${issue.version}`,
    origin, issue_id: issue.id, issue_version: issue.version, test_id: testId, build_id: buildId, present,
    comment: clean(present
      ? `${c.id} gave the known answer (${c.status}): the issue occurred`
      : `${c.id} passed although listed (${c.status}): the issue did not occur, remove the entry or fix the range`),
    misc: { pidfd_matrix_status: c.status },
  };
}

/**
 * knownIssues, catalog, commits: the deviations to write as issues (none given: no issues);
 * issueVersions: their recorded versions (kernels/kcidb-issue-versions.yaml), which must cover them.
 */
export interface KcidbOptions extends IssueSources { origin?: string; rows?: TestRow[]; issueVersions?: IssueVersions }

/** KCIDB strings must not hold NUL; an excerpt keeps its end, where the outcome usually is. */
function excerpt(text: string): string {
  const t = text.replace(/\0/g, '\\0');
  return t.length <= LOG_EXCERPT_MAX ? t : '…' + t.slice(t.length - LOG_EXCERPT_MAX + 1);
}

function clean(s: string): string {
  return s.replace(/\0/g, '\\0');
}

/** Test path parts are [a-zA-Z0-9_-]: our ids already are, but never trust a results file. */
function pathPart(s: string): string {
  return s.replace(/[^a-zA-Z0-9_-]/g, '_') || '_';
}

/** Stable ids: the same cell exported twice gives the same ids (KCIDB merges by id). */
function cellKey(cell: CellResult): string {
  return createHash('sha256').update(`${cell.kernelId}\n${cell.startedAt}\n${cell.provenance.kernelSource ?? ''}`).digest('hex').slice(0, 16);
}

function caseLog(c: CaseResult, cell: CellResult): string {
  const lines = [`status: ${c.status}`, `reason: ${c.reason}`];
  if (c.expected) lines.push(`expected (${c.expected}): ${fmt(c.expectedAnswer)}`);
  if (Object.keys(c.observed).length) lines.push(`observed: ${fmt(c.observed)}`);
  if (cell.error) lines.push(`cell error: ${cell.error.reason}`, cell.error.consoleExcerpt ?? '');
  if (c.log) lines.push(c.log);
  lines.push(`rerun: ${c.rerun}`);
  return lines.join('\n');
}

export function kcidb(cells: CellResult[], opts: KcidbOptions = {}): Record<string, unknown> {
  const origin = opts.origin ?? 'pidfd_matrix';
  if (!KCIDB_ORIGIN_RE.test(origin)) throw new Error(`KCIDB origin '${origin}' must match ${KCIDB_ORIGIN_RE} (lower-case letters, digits, _)`);
  const rows = opts.rows ?? testRows(cells);
  const checkouts: Record<string, unknown>[] = [];
  const builds: Record<string, unknown>[] = [];
  const tests: Record<string, unknown>[] = [];
  const incidents: KcidbObject[] = [];
  const index = new IssueIndex(opts, origin, opts.issueVersions ?? {});
  for (const cell of cells) {
    const key = `${cell.kernelId}:${cellKey(cell)}`;
    // A container cell shares the host's kernel: its tests carry the userspace, profile and runtime.
    const ct = cell.container;
    const axes = ct ? { userspace: ct.userspace, libc6: ct.packages.libc6 ?? null, seccomp_profile: seccompLabel(ct.seccomp), runtime: ct.runtime } : null;
    const checkoutId = `${origin}:checkout:${key}`;
    const buildId = `${origin}:build:${key}`;
    const release = cell.facts?.release;
    const source = cell.provenance.kernelSource ?? (cell.mode === 'host' ? 'the running host kernel' : 'unknown');
    const buildFailed = /^build failed/i.test(cell.error?.reason ?? '');
    checkouts.push({
      id: checkoutId, origin, valid: true,
      start_time: cell.startedAt,
      comment: clean(`${cell.kernelId}: ${source}${release ? ` (${release})` : ''}`),
      misc: { kernel_id: cell.kernelId, kernel_source: source },
    });
    builds.push({
      id: buildId, origin, checkout_id: checkoutId,
      start_time: cell.startedAt,
      // KCIDB's architecture is the build's target, by the kernel's name (arm64, not uname's aarch64).
      ...(cell.facts?.arch && /^[a-z0-9_]*$/.test(kernelArchName(cell.facts.arch)) ? { architecture: kernelArchName(cell.facts.arch) } : {}),
      ...(cell.provenance.configHash ? { config_name: clean(cell.provenance.configHash) } : {}),
      comment: clean(release ? `Linux ${release}` : source),
      status: buildFailed ? 'FAIL' : 'PASS',
      ...(buildFailed ? { log_excerpt: excerpt(`${cell.error!.reason}\n${cell.error!.consoleExcerpt ?? ''}`) } : {}),
      misc: {
        kernel_cmdline: cell.provenance.kernelCmdline ?? null, version_source: cell.facts?.versionSource ?? null,
        uname_machine: cell.facts?.arch ?? null,
      },
    });
    if (buildFailed) continue; // nothing was tested: the build's FAIL says why
    for (const c of effectiveCases(cell, rows)) {
      const testId = `${origin}:test:${key}:${c.id}`;
      const issue = index.issueFor(cell, c);
      if (issue) incidents.push(incident(origin, testId, buildId, c, issue));
      tests.push({
        id: testId,
        origin, build_id: buildId,
        path: ['pidfd', pathPart(c.feature), pathPart(c.case)].join('.'),
        status: kcidbStatus(c.status, issue),
        start_time: cell.startedAt,
        duration: Math.max(0, c.durationMs) / 1000,
        comment: clean(`${c.status}: ${c.reason}`.slice(0, 4000)),
        environment: {
          comment: clean(`${cell.mode}${axes ? ` (${axes.userspace} userspace, seccomp ${axes.seccomp_profile}, ${axes.runtime}, host kernel)` : ''}${cell.accel ? ` (${cell.accel})` : ''} on ${cell.hostname}${cell.lsm ? `, lsm ${cell.lsm}` : ''}`),
          misc: { kernel_id: cell.kernelId, release: release ?? null, seccomp: cell.facts?.seccomp ?? null, selinux: cell.facts?.selinux ?? null, container: cell.facts?.container ?? null, uid: cell.facts?.uid ?? null, ...(axes ?? {}) },
        },
        log_excerpt: excerpt(caseLog(c, cell)),
        misc: { pidfd_matrix_status: c.status, rerun: c.rerun, expected: c.expected, expected_answer: c.expectedAnswer, observed: c.observed, ...(c.knownIssue ? { known_issue: c.knownIssue } : {}) },
      });
    }
  }
  return { version: { major: 5, minor: 3 }, checkouts, builds, tests, issues: index.issues, incidents };
}

/** kcidb.json: the run as a KernelCI KCIDB v5.3 document, checked against the schema. */
export const kcidbWriter: ReportWriter = {
  name: 'kcidb',
  description: 'kcidb.json: KernelCI KCIDB v5.3 (tests, issues, incidents), validated',
  run: (cells, ctx) => {
    const doc = kcidb(cells, { ...ctx.kcidb, rows: ctx.rows });
    const problems = kcidbErrors(doc);
    // Our own export failing the schema is a bug here, not bad input: say so and write nothing.
    if (problems.length) throw new Error(`the KCIDB export does not validate against the v5.3 schema (a pidfd-matrix bug):\n${problems.slice(0, 20).join('\n')}`);
    return [{ path: ctx.kcidbFile ?? 'kcidb.json', content: JSON.stringify(doc, null, 2) + '\n' }];
  },
};
