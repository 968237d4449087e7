// KernelCI KCIDB v5.3 export (pure): one checkout and one build per kernel cell, one test per
// case with path `pidfd.<feature>.<case>`. The schema (third_party/kcidb) is checked by
// kcidb-validate.ts; the self-tests validate real runs against it.
//
// Status mapping: pass and xpass -> PASS, fail -> FAIL, skip -> SKIP, error -> ERROR.
// KCIDB has no "expected failure": an xfail (a listed known deviation) is SKIP, with the
// reason in `comment` and our own status in misc.pidfd_matrix_status, so nothing is lost.
import { createHash } from 'node:crypto';
import type { CaseResult, CellResult } from './results.js';
import { fmt } from './judge.js';
import { effectiveCases, testRows, type TestRow } from './table.js';
import type { Status } from './status.js';
import { seccompLabel } from './report-text.js';

export const KCIDB_ORIGIN_RE = /^[a-z0-9_]+$/;
/** The schema's limit for log_excerpt. */
export const LOG_EXCERPT_MAX = 16384;

const STATUS: Record<Status, 'PASS' | 'FAIL' | 'SKIP' | 'ERROR'> = { pass: 'PASS', xpass: 'PASS', fail: 'FAIL', skip: 'SKIP', xfail: 'SKIP', error: 'ERROR' };

export interface KcidbOptions { origin?: string; rows?: TestRow[] }

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
      ...(cell.facts?.arch && /^[a-z0-9_]*$/.test(cell.facts.arch) ? { architecture: cell.facts.arch } : {}),
      ...(cell.provenance.configHash ? { config_name: clean(cell.provenance.configHash) } : {}),
      comment: clean(release ? `Linux ${release}` : source),
      status: buildFailed ? 'FAIL' : 'PASS',
      ...(buildFailed ? { log_excerpt: excerpt(`${cell.error!.reason}\n${cell.error!.consoleExcerpt ?? ''}`) } : {}),
      misc: { kernel_cmdline: cell.provenance.kernelCmdline ?? null, version_source: cell.facts?.versionSource ?? null },
    });
    if (buildFailed) continue; // nothing was tested: the build's FAIL says why
    for (const c of effectiveCases(cell, rows)) {
      tests.push({
        id: `${origin}:test:${key}:${c.id}`,
        origin, build_id: buildId,
        path: ['pidfd', pathPart(c.feature), pathPart(c.case)].join('.'),
        status: STATUS[c.status],
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
  return { version: { major: 5, minor: 3 }, checkouts, builds, tests };
}
