// Known deviations as data (kernels/known-issues.yaml): (kernel selector, test or feature) ->
// reason, link, optional expiry. A listed failure becomes xfail; a listed test that passes
// becomes xpass ("remove this entry"); an expired entry still applies but warns, so a stale
// entry is noticed without turning an unrelated run red overnight.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { repoPath } from '../../suites/lib/paths.js';
import type { CaseResult, CellResult } from '../results.js';
import { cmpVersion, parseVersion, type Version } from './version.js';
import { archMatches } from './arch.js';

// repoPath: from dist/ a path relative to this module would point into dist/ and find nothing.
export const KNOWN_ISSUES_PATH = repoPath('kernels/known-issues.yaml');

export class KnownIssuesError extends Error {}

/** Which kernel cells an entry is about; every key given must match. */
export interface KernelSelector {
  id?: string[];               // kernel ids; '*' matches any run of characters ("debian-*")
  version?: VersionRange;      // ">=6.9 <6.10", "6.1" (the 6.1 series), "=6.1.5"
  lsm?: string;                // the kernel's active LSM list contains it (or the matrix lsm axis is it)
  arch?: string;               // uname -m (aarch64) or the kernel's name for it (arm64)
  seccomp?: number;            // Seccomp mode: 0 none, 1 strict, 2 filter
  selinux?: 'enforcing' | 'permissive' | 'disabled';
  mode?: 'host' | 'guest';
  accel?: 'kvm' | 'tcg';
  container?: string;          // 'docker', 'podman', ..., or 'none'
}

export interface VersionRange { text: string; test: (v: Version) => boolean }

export interface KnownIssue {
  where: string;               // "kernels/known-issues.yaml issues[2] (pidfd_info/exit_status)"
  kernel: KernelSelector;
  test?: string;               // `<feature>/<case>`
  feature?: string;
  reason: string;
  link?: string;
  expires?: string;            // YYYY-MM-DD
}

const SELECTOR_KEYS = ['id', 'version', 'lsm', 'arch', 'seccomp', 'selinux', 'mode', 'accel', 'container'];
const ENTRY_KEYS = ['kernel', 'test', 'feature', 'reason', 'link', 'expires'];
const TEST_ID = /^[a-z0-9][a-z0-9_]*\/[a-z0-9][a-z0-9_]*$/;
const FEATURE_ID = /^[a-z0-9][a-z0-9_]*$/;

/** ">=6.9 <6.10" etc.; null with the bad token when it does not parse. */
export function parseVersionRange(text: string): VersionRange | { bad: string } {
  const tests: ((v: Version) => boolean)[] = [];
  for (const tok of text.trim().split(/[\s,]+/).filter(Boolean)) {
    const m = /^(>=|<=|>|<|==|=)?(\d+\.\d+(?:\.\d+)?)$/.exec(tok);
    const want = m && parseVersion(m[2]);
    if (!m || !want) return { bad: tok };
    const op = m[1] ?? '';
    const patchGiven = m[2].split('.').length === 3;
    if (op === '' && !patchGiven) tests.push((v) => v[0] === want[0] && v[1] === want[1]);
    else if (op === '' || op === '=' || op === '==') tests.push((v) => cmpVersion(v, want) === 0);
    else if (op === '>=') tests.push((v) => cmpVersion(v, want) >= 0);
    else if (op === '>') tests.push((v) => cmpVersion(v, want) > 0);
    else if (op === '<=') tests.push((v) => cmpVersion(v, want) <= 0);
    else tests.push((v) => cmpVersion(v, want) < 0);
  }
  if (tests.length === 0) return { bad: text };
  return { text, test: (v) => tests.every((t) => t(v)) };
}

function bad(where: string, problem: string, fix: string): never {
  throw new KnownIssuesError(`${where}: ${problem}. Fix: ${fix}`);
}

function parseSelector(where: string, raw: unknown): KernelSelector {
  if (raw === undefined || raw === null) return {};
  if (typeof raw === 'string') return { id: [raw] };
  if (typeof raw !== 'object' || Array.isArray(raw))
    bad(where, `'kernel' must be a kernel id or a map of selectors`, `write e.g. kernel: { id: bookworm } or kernel: { version: ">=6.9 <6.10", lsm: selinux }`);
  const r = raw as Record<string, unknown>;
  const unknownKey = Object.keys(r).find((k) => !SELECTOR_KEYS.includes(k));
  if (unknownKey) bad(where, `unknown kernel selector '${unknownKey}'`, `use only ${SELECTOR_KEYS.join(', ')}`);
  const sel: KernelSelector = {};
  if (r.id !== undefined) {
    const ids = Array.isArray(r.id) ? r.id : [r.id];
    if (ids.length === 0 || ids.some((x) => typeof x !== 'string' || !x)) bad(where, `'kernel.id' must be a kernel id or a list of them`, `write e.g. id: bookworm or id: [bookworm, bullseye]`);
    sel.id = ids as string[];
  }
  if (r.version !== undefined) {
    const range = parseVersionRange(String(r.version));
    if ('bad' in range) bad(where, `'kernel.version' has '${range.bad}', not a version comparison`, `quote a range of comparisons such as ">=6.9 <6.10", "6.1" (that series) or "=6.1.5"`);
    sel.version = range;
  }
  for (const k of ['lsm', 'arch', 'container'] as const) {
    if (r[k] === undefined) continue;
    if (typeof r[k] !== 'string' || !r[k]) bad(where, `'kernel.${k}' must be a word`, `write e.g. ${k}: ${k === 'lsm' ? 'selinux' : k === 'arch' ? 'x86_64' : 'docker'}`);
    sel[k] = r[k] as string;
  }
  if (r.seccomp !== undefined) {
    if (![0, 1, 2].includes(r.seccomp as number)) bad(where, `'kernel.seccomp' must be 0, 1 or 2`, `write seccomp: 2 to match a Seccomp filter (as in most containers)`);
    sel.seccomp = r.seccomp as number;
  }
  const enums = { selinux: ['enforcing', 'permissive', 'disabled'], mode: ['host', 'guest'], accel: ['kvm', 'tcg'] } as const;
  for (const [k, allowed] of Object.entries(enums)) {
    if (r[k] === undefined) continue;
    if (!(allowed as readonly string[]).includes(r[k] as string)) bad(where, `'kernel.${k}' is ${JSON.stringify(r[k])}`, `use one of ${allowed.join(', ')}`);
    (sel as Record<string, unknown>)[k] = r[k];
  }
  return sel;
}

function isoDate(v: unknown): string | null {
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.toISOString().slice(0, 10);
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v))) return v;
  return null;
}

export function parseKnownIssues(text: string, file = 'kernels/known-issues.yaml'): KnownIssue[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new KnownIssuesError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return [];
  const list = (doc as { issues?: unknown }).issues;
  if (typeof doc !== 'object' || Array.isArray(doc) || !('issues' in doc))
    bad(file, `top level must be a map with an 'issues:' list`, `start the file with 'issues:' (or 'issues: []' for none)`);
  if (list === null) return [];
  if (!Array.isArray(list)) bad(file, `'issues' must be a list`, `write each entry as '- kernel: ...' under 'issues:'`);
  return list.map((raw: unknown, i: number) => {
    const r = (raw ?? {}) as Record<string, unknown>;
    const label = typeof r.test === 'string' ? r.test : typeof r.feature === 'string' ? r.feature : null;
    const where = `${file} issues[${i}]${label ? ` (${label})` : ''}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(where, 'each entry must be a map', 'write kernel:, test: (or feature:), reason:, and optionally link: and expires:');
    const unknownKey = Object.keys(r).find((k) => !ENTRY_KEYS.includes(k));
    if (unknownKey) bad(where, `unknown key '${unknownKey}'`, `use only ${ENTRY_KEYS.join(', ')}; kernel facts go under kernel:`);
    if ((r.test === undefined) === (r.feature === undefined))
      bad(where, `give exactly one of 'test' or 'feature'`, `write test: <feature>/<case> for one test, or feature: <feature> for all its cases`);
    if (r.test !== undefined && (typeof r.test !== 'string' || !TEST_ID.test(r.test)))
      bad(where, `'test' is ${JSON.stringify(r.test)}, not a test id`, `write it as <feature>/<case>, e.g. pidfd_info/exit_status`);
    if (r.feature !== undefined && (typeof r.feature !== 'string' || !FEATURE_ID.test(r.feature)))
      bad(where, `'feature' is ${JSON.stringify(r.feature)}, not a feature id`, `write a feature id from suites/catalog/features.yaml, e.g. pidfd_info`);
    if (typeof r.reason !== 'string' || !r.reason.trim())
      bad(where, `'reason' is missing`, `say in one line why this kernel deviates, e.g. reason: "fix not backported to 6.1 stable"`);
    if (r.link !== undefined && (typeof r.link !== 'string' || !r.link)) bad(where, `'link' must be a URL or reference string`, `write e.g. link: https://lore.kernel.org/...`);
    let expires: string | undefined;
    if (r.expires !== undefined) {
      const d = isoDate(r.expires);
      if (!d) bad(where, `'expires' is ${JSON.stringify(r.expires)}`, `write a date as YYYY-MM-DD, e.g. expires: "2027-06-30"`);
      expires = d;
    }
    return {
      where,
      kernel: parseSelector(where, r.kernel),
      test: r.test as string | undefined,
      feature: r.feature as string | undefined,
      reason: r.reason,
      link: r.link as string | undefined,
      expires,
    };
  });
}

export function loadKnownIssues(path = process.env.PIDFD_MATRIX_KNOWN_ISSUES ?? KNOWN_ISSUES_PATH): KnownIssue[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return parseKnownIssues(text, path);
}

function glob(pattern: string, s: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(s);
}

/** Does the selector pick this cell? Fact selectors never match a cell without facts. */
export function selectorMatches(sel: KernelSelector, cell: CellResult): boolean {
  const f = cell.facts;
  if (sel.id && !sel.id.some((p) => glob(p, cell.kernelId))) return false;
  if (sel.mode && sel.mode !== cell.mode) return false;
  if (sel.accel && sel.accel !== cell.accel) return false;
  if (sel.lsm && !(cell.lsm === sel.lsm || (f?.lsms ?? []).includes(sel.lsm))) return false;
  const needFacts = sel.version || sel.arch || sel.seccomp !== undefined || sel.selinux || sel.container;
  if (!needFacts) return true;
  if (!f) return false;
  if (sel.version && !sel.version.test(f.version)) return false;
  if (sel.arch && !archMatches(sel.arch, f.arch)) return false;
  if (sel.seccomp !== undefined && sel.seccomp !== f.seccomp) return false;
  if (sel.selinux && sel.selinux !== f.selinux) return false;
  if (sel.container && sel.container !== (f.container ?? 'none')) return false;
  return true;
}

export function describeSelector(sel: KernelSelector): string {
  const parts: string[] = [];
  if (sel.id) parts.push(`id ${sel.id.join('|')}`);
  if (sel.version) parts.push(`version ${sel.version.text}`);
  for (const k of ['lsm', 'arch', 'seccomp', 'selinux', 'mode', 'accel', 'container'] as const)
    if (sel[k] !== undefined) parts.push(`${k} ${sel[k]}`);
  return parts.length ? parts.join(', ') : 'every kernel';
}

const MARK = ' [known issue: ';

/** Undo an earlier application, so applying again (e.g. `report` after editing the file) is exact. */
function unapply(c: CaseResult): CaseResult {
  if (!c.knownIssue) return c;
  const { knownIssue: _dropped, ...rest } = c;
  const cut = c.reason.lastIndexOf(MARK);
  const reason = cut >= 0 ? c.reason.slice(0, cut) : c.reason;
  if (c.status === 'xfail') return { ...rest, status: 'fail', reason };
  if (c.status === 'xpass') return { ...rest, status: 'pass', reason };
  return { ...rest, reason };
}

/** The entry that applies to this case on this cell: the first that names it and selects the cell. */
export function knownIssueFor(entries: KnownIssue[], cell: CellResult, c: CaseResult): KnownIssue | undefined {
  return entries.find((e) => (e.test ? e.test === c.id : e.feature === c.feature) && selectorMatches(e.kernel, cell));
}

/**
 * Apply the known-issues entries to one cell. Only fail and pass change (to xfail and xpass);
 * skip, error and the catalog's own xfail/xpass are left as they are. Returns a new cell.
 */
export function applyKnownIssues(cell: CellResult, entries: KnownIssue[], today = new Date()): { cell: CellResult; warnings: string[] } {
  const warnings: string[] = [];
  const day = today.toISOString().slice(0, 10);
  for (const e of entries)
    if (e.expires && e.expires < day && selectorMatches(e.kernel, cell))
      warnings.push(`${e.where}: expired on ${e.expires} (kernel ${cell.kernelId}): check whether it still fails, then extend 'expires' or remove the entry`);
  const cases = cell.cases.map((orig) => {
    const c = unapply(orig);
    const e = knownIssueFor(entries, cell, c);
    if (!e || (c.status !== 'fail' && c.status !== 'pass')) return c;
    const knownIssue = { reason: e.reason, ...(e.link ? { link: e.link } : {}), ...(e.expires ? { expires: e.expires } : {}) };
    const ref = `${e.reason}${e.link ? ` (${e.link})` : ''}${e.expires && e.expires < day ? `, expired ${e.expires}` : ''}`;
    if (c.status === 'fail') return { ...c, status: 'xfail' as const, reason: `${c.reason}${MARK}${ref}]`, knownIssue };
    warnings.push(`${cell.kernelId} ${c.id}: xpass, passes although listed in ${e.where}: remove this entry`);
    return { ...c, status: 'xpass' as const, reason: `${c.reason}${MARK}${ref}; passes now: remove this entry]`, knownIssue };
  });
  return { cell: { ...cell, cases }, warnings };
}


/**
 * Entries naming a test or feature that no longer exists never match anything: a renamed
 * case would silently turn its known failure red, or keep a dead entry forever. Warn.
 */
export function staleEntries(entries: KnownIssue[], testIds: Iterable<string>): string[] {
  const ids = new Set(testIds);
  const features = new Set([...ids].map((id) => id.split('/')[0]));
  return entries
    .filter((e) => (e.test ? !ids.has(e.test) : !features.has(e.feature!)))
    .map((e) => `${e.where}: no ${e.test ? `test '${e.test}'` : `feature '${e.feature}'`} in the catalog or the results: fix the id or remove the entry`);
}
