// Loads and validates the feature catalog (suites/catalog/*.yaml, one file per area): the data a user
// edits to change what is probed and what each kernel is expected to answer.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { cmpVersion, parseVersion, type Version } from './version.js';
import type { Observation } from '../results.js';
import { repoPath } from '../../suites/lib/paths.js';
import { COMMITS_FILE, CommitsError, findCommit, loadCommits, type CommitTable } from './commits.js';

/** One YAML file per area; a user edits them without touching TypeScript. */
export const CATALOG_PATH = repoPath('suites/catalog');
/** The verification record beside the catalog files (harness/judge/verification.ts), not a catalog file. */
export const VERIFIED_FILE = 'verified.yaml';
/** The upstream-coverage map beside them (harness/judge/upstream.ts), not a catalog file either. */
export const NOT_CATALOG_FILES = [VERIFIED_FILE, 'upstream.yaml', COMMITS_FILE];

// Facts a case can require; the runner in the guest reads them too (suites/lib/needs.ts).
import { NEEDS, type Need } from '../../suites/lib/needs.js';
export { NEEDS, type Need };

/**
 * [from, to) gives the `without` answer, except stable releases that took the fix (`backports`).
 * `broke`/`fixed` name the upstream commits of both ends (suites/catalog/commits.yaml): a kernel
 * whose commits are known has the range's answer when it has `broke` and not `fixed`.
 */
export interface BrokenRange { from: Version; to: Version; reason: string; ref?: string; backports: Version[]; broke: string[]; fixed: string[] }

/** An answer read from the source of a version no kernel here shows: marked [source], never observed. */
export interface SourceAnswer { version: Version; answer: Answer; evidence: string; commit?: string }

/**
 * feature: a kernel before `introduced` lacks it, so its `without` answer is a skip ("absent as
 * expected"). change: the answer changed at `introduced` (anon_inode -> pidfs, EBADF -> ESRCH);
 * both answers are defined behaviour, so an older kernel giving `without` is a pass.
 */
export const KINDS = ['feature', 'change'] as const;
export type Kind = (typeof KINDS)[number];

const SHA = /^[0-9a-f]{12,40}$/;

/** `commits: [0fb482728ba1]`: upstream commit ids, 12 hex digits or more. */
function shas(where: string, field: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !SHA.test(x)))
    fail(where, `'${field}' must be a list of upstream commit ids (12+ lowercase hex digits, quoted), e.g. ["0fb482728ba1"], each listed in suites/catalog/commits.yaml`);
  return v as string[];
}

function sourceAnswers(where: string, v: unknown): SourceAnswer[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v)) fail(where, `'source_answers' must be a list of { version, answer, evidence, commit }`);
  return v.map((x: Record<string, unknown>, i) => {
    const at = `${where} source_answers[${i}]`;
    if (!x || typeof x !== 'object') fail(at, `must be a map { version: "6.15", answer: {...}, evidence: "[source] fs/pidfs.c @ v6.15: ...", commit: sha }`);
    const ev = str(at, 'evidence', x.evidence);
    if (!ev.startsWith('[source]')) fail(at, `'evidence' must start with "[source]" and name the file and the tag or commit read`);
    return {
      version: version(at, 'version', x.version), answer: answer(at, 'answer', x.answer), evidence: ev,
      ...(x.commit !== undefined ? { commit: shas(at, 'commit', [x.commit])[0] } : {}),
    };
  });
}

/** A libc release that has a libc-keyed feature: `libc: "glibc 2.36"` in the catalog. */
export interface LibcFloor { name: string; version: Version }

export interface Expectation {
  kind: Kind;
  /**
   * Set for a libc feature (suites/catalog/libc.yaml): the answer is chosen by the cell's libc
   * (facts.libc), not by its kernel, and `introduced` is only the libc version (for ordering).
   */
  libc: LibcFloor[] | null;
  introduced: Version;        // first mainline release with the feature (or fix)
  backports: Version[];       // stable releases that carry it earlier ("6.18.14")
  broken: BrokenRange[];      // [from, to) releases known to give the `without` answer
  needs: Need[];
  /** Upstream commits (keys of suites/catalog/commits.yaml) that bring the `with` answer; [] = version rule only. */
  commits: string[];
  /**
   * `commits_any:` instead of `commits:`: each of `commits` brings the `with` answer on its own (a
   * fix and a later, wider fix that the older series took instead), so one present is enough.
   */
  commitsAny: boolean;
  /** Why no commit is named (catalog `commits_unknown:`): the boundary keeps its version rule and says so. */
  commitsUnknown: string;
  sourceAnswers: SourceAnswer[];
}

/**
 * A feature a case cannot be probed without (pidfd_open for a pidfd_open-based probe, clone3 for
 * a clone3 child). On a kernel where it is expected absent, its own `without` answer (usually
 * ENOSYS) means the case is absent as expected, whatever the case's own `without` says.
 */
export interface Requirement extends Expectation {
  feature: string;
  without: Answer | null;
}

export interface CatalogCase extends Expectation {
  feature: string;
  id: string;                 // `<feature>/<case>`
  case: string;
  area: string;
  title: string;
  probe: string;              // what the probe does, for humans
  with: Answer;               // answer of a kernel that has the feature
  without: Answer | null;     // answer of a kernel that lacks it (null: none is defined)
  ref: string;
  /** Feature ids named by `requires:` (the feature's list plus the case's own). */
  requiresIds: string[];
  /**
   * Resolved prerequisites, oldest first: those of `requiresIds` (transitively), then the case's
   * own feature when the case is newer than it (a 6.9 case of a 5.6 feature needs the 5.6 syscall).
   */
  requires: Requirement[];
  /** Seconds the case may take before it is stopped as hung (catalog `deadline:`; null: the default). */
  deadline: number | null;
  /**
   * Observation keys whose expected answer is a class (`pid_line: matches_child`) and whose other
   * values change on every boot (a pid, an inode, a timing): a bisect signature names their class,
   * never the value (catalog `volatile:`, the case's own or its feature's). The judge ignores it.
   */
  volatile: string[];
}

export interface CatalogFeature {
  id: string;
  title: string;
  area: string;
  ref: string;
  changes: string[];
  cases: CatalogCase[];
  /** The feature's own versions and `without`: what a case that requires it checks. */
  base: Expectation;
  without: Answer | null;
  requiresIds: string[];
}

/** Expected observation keys and values; a list of maps means "any of these answers". */
export type Answer = Observation | Observation[];

export class CatalogError extends Error {}

const ID = /^[a-z0-9][a-z0-9_]*$/;

function fail(where: string, msg: string): never {
  throw new CatalogError(`${where}: ${msg}`);
}

function version(where: string, field: string, v: unknown): Version {
  const parsed = typeof v === 'string' || typeof v === 'number' ? parseVersion(String(v)) : null;
  if (!parsed) fail(where, `'${field}' must be a kernel version like "5.3" or "6.18.14" (quote it), got ${JSON.stringify(v)}`);
  return parsed;
}

/** An answer is a map of observation keys to values, or a list of such maps (any of them). */
function answer(where: string, field: string, v: unknown): Answer {
  const isMap = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length > 0;
  if (Array.isArray(v) ? v.length === 0 || !v.every(isMap) : !isMap(v))
    fail(where, `'${field}' must be a non-empty map of observation keys to expected values, e.g. { errno: ENOSYS }, or a list of such maps`);
  return v as Answer;
}

/** Optional `deadline: 60`: seconds before a case counts as hung (the default suits most). */
function deadline(where: string, v: unknown): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !(v > 0) || v > 3600) fail(where, `'deadline' must be a number of seconds between 1 and 3600, got ${JSON.stringify(v)}`);
  return v;
}

/** `volatile: [pid_line]`: keys that must appear in `answers` (else it is a typo that marks nothing). */
function volatileKeys(where: string, v: unknown, answers: unknown[]): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || !ID.test(x)))
    fail(where, `'volatile' must be a non-empty list of observation keys, e.g. [pid_line]`);
  const keys = new Set(answers.flat().flatMap((m) => (m && typeof m === 'object' ? Object.keys(m) : [])));
  const unknown = (v as string[]).filter((k) => !keys.has(k));
  if (unknown.length)
    fail(where, `'volatile' names ${unknown.join(', ')}, which no 'with' or 'without' answer here has (known: ${[...keys].join(', ')})`);
  return v as string[];
}

function str(where: string, field: string, v: unknown, optional = false): string {
  if (v === undefined && optional) return '';
  if (typeof v !== 'string' || !v.trim()) fail(where, `'${field}' must be a non-empty string`);
  return v;
}

/** `libc: "glibc 2.36"` or a list of such (any of them has the feature). */
function libcFloors(where: string, v: unknown): LibcFloor[] {
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) fail(where, `'libc' must name a libc release, e.g. "glibc 2.36"`);
  return list.map((x) => {
    const m = typeof x === 'string' ? /^([a-z][a-z0-9_-]*)\s+(\d+\.\d+(?:\.\d+)?)$/.exec(x.trim()) : null;
    const parsed = m ? parseVersion(m[2]) : null;
    if (!m || !parsed) fail(where, `'libc' must be a libc name and version like "glibc 2.36" (or a list of them), got ${JSON.stringify(x)}`);
    return { name: m[1], version: parsed };
  });
}

function expectation(where: string, raw: Record<string, unknown>, inherit?: Expectation): Expectation {
  if (raw.libc !== undefined && raw.introduced !== undefined)
    fail(where, `give either 'introduced' (a kernel version) or 'libc' (a libc version, e.g. "glibc 2.36"), not both`);
  // A case's own `introduced` keys it by the kernel again, even inside a libc feature.
  const libc = raw.libc !== undefined ? libcFloors(where, raw.libc) : raw.introduced !== undefined ? null : inherit?.libc ?? null;
  const commitKeys = ['commits', 'commits_any', 'commits_unknown'].filter((k) => raw[k] !== undefined);
  if (libc && (raw.broken !== undefined || raw.backports !== undefined || commitKeys.length))
    fail(where, `'broken', 'backports', 'commits', 'commits_any' and 'commits_unknown' are about kernel versions: a libc-keyed feature ('libc: ...') cannot have them`);
  if (commitKeys.length > 1)
    fail(where, `give one of 'commits' (all of them bring the answer), 'commits_any' (each one does) or 'commits_unknown' (why none can be named), not ${commitKeys.join(' and ')}`);
  if (raw.commits_any !== undefined && (!Array.isArray(raw.commits_any) || raw.commits_any.length < 2))
    fail(where, `'commits_any' lists two or more commits that each bring the answer on their own (one commit: use 'commits')`);
  const needs = (raw.needs ?? inherit?.needs ?? []) as unknown;
  if (!Array.isArray(needs) || needs.some((n) => !NEEDS.includes(n as Need)))
    fail(where, `'needs' must be a list of ${NEEDS.join(', ')}`);
  const broken = (raw.broken ?? null) as unknown;
  if (broken !== null && !Array.isArray(broken)) fail(where, `'broken' must be a list of {from, to, reason}`);
  const backports = (raw.backports ?? null) as unknown;
  if (backports !== null && !Array.isArray(backports)) fail(where, `'backports' must be a list of versions`);
  if (raw.introduced === undefined && !inherit && !libc) fail(where, `'introduced' is missing (the first kernel version with the feature, or libc: "glibc 2.36" for a libc wrapper)`);
  const kind = (raw.kind ?? inherit?.kind ?? 'feature') as unknown;
  if (!KINDS.includes(kind as Kind)) fail(where, `'kind' must be one of ${KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
  return {
    kind: kind as Kind,
    libc,
    introduced: raw.libc !== undefined ? libc![0].version : raw.introduced === undefined ? inherit!.introduced : version(where, 'introduced', raw.introduced),
    backports: backports === null ? inherit?.backports ?? [] : (backports as unknown[]).map((b) => version(where, 'backports', b)),
    broken: broken === null
      ? inherit?.broken ?? []
      : (broken as Record<string, unknown>[]).map((b, i) => ({
          from: version(`${where} broken[${i}]`, 'from', b.from),
          to: version(`${where} broken[${i}]`, 'to', b.to),
          reason: str(`${where} broken[${i}]`, 'reason', b.reason),
          ref: typeof b.ref === 'string' ? b.ref : undefined,
          backports: b.backports === undefined ? [] : Array.isArray(b.backports)
            ? (b.backports as unknown[]).map((x) => version(`${where} broken[${i}]`, 'backports', x))
            : fail(`${where} broken[${i}]`, `'backports' must be a list of stable versions that took the fix, e.g. ["6.12.117"]`),
          broke: shas(`${where} broken[${i}]`, 'broke', b.broke),
          fixed: shas(`${where} broken[${i}]`, 'fixed', b.fixed),
        })),
    needs: needs as Need[],
    // A case with its own `introduced` is its own boundary: it does not inherit the feature's commits.
    // A case's own `commits_unknown` replaces the feature's commits too (and the reverse).
    commits: raw.commits !== undefined ? shas(where, 'commits', raw.commits)
      : raw.commits_any !== undefined ? shas(where, 'commits_any', raw.commits_any)
      : raw.introduced === undefined && raw.commits_unknown === undefined ? inherit?.commits ?? [] : [],
    commitsAny: raw.commits_any !== undefined ? true
      : commitKeys.length || raw.introduced !== undefined ? false : inherit?.commitsAny ?? false,
    commitsUnknown: raw.commits_unknown !== undefined ? str(where, 'commits_unknown', raw.commits_unknown)
      : commitKeys.length === 0 && raw.introduced === undefined ? inherit?.commitsUnknown ?? '' : '',
    sourceAnswers: sourceAnswers(where, raw.source_answers) ?? inherit?.sourceAnswers ?? [],
  };
}

function ids(where: string, v: unknown): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !ID.test(x)))
    fail(where, `'requires' must be a list of feature ids, e.g. [pidfd_open, clone3]`);
  return v as string[];
}

/**
 * Parse one catalog file. `link: false` leaves `requires` unresolved, for a caller that links
 * several files together (loadCatalog); a single file is linked against itself.
 */
export function parseCatalog(text: string, file = 'catalog.yaml', opts: { link?: boolean } = {}): CatalogFeature[] {
  const features = parseFeatures(text, file);
  return opts.link === false ? features : linkCatalog(features, file);
}

function parseFeatures(text: string, file: string): CatalogFeature[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new CatalogError(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const list = (doc as { features?: unknown } | null)?.features;
  if (!Array.isArray(list)) fail(file, `top level must be a map with a 'features:' list`);
  const seen = new Set<string>();
  return list.map((rawF: Record<string, unknown>, i: number) => {
    const at = `${file} features[${i}]${typeof rawF?.id === 'string' ? ` (${rawF.id})` : ''}`;
    if (!rawF || typeof rawF !== 'object') fail(at, 'each feature must be a map');
    const id = str(at, 'id', rawF.id);
    if (!ID.test(id)) fail(at, `id '${id}' must match ${ID} (it becomes part of JUnit names)`);
    if (seen.has(id)) fail(at, `duplicate feature id '${id}'`);
    seen.add(id);
    const area = str(at, 'area', rawF.area);
    if (!ID.test(area)) fail(at, `area '${area}' must match ${ID}`);
    const base = expectation(at, rawF);
    const featWithout = rawF.without === undefined ? null : answer(at, 'without', rawF.without);
    const featRequires = ids(at, rawF.requires) ?? [];
    if (!Array.isArray(rawF.cases) || rawF.cases.length === 0) fail(at, `'cases' must list at least one case`);
    // A feature's `volatile` holds for its cases; a case's own replaces it.
    const rawAnswers = (rawF.cases as Record<string, unknown>[]).flatMap((c) => [c?.with, c?.without]);
    const featVolatile = volatileKeys(at, rawF.volatile, [featWithout, ...rawAnswers]) ?? [];
    const caseIds = new Set<string>();
    const cases = (rawF.cases as Record<string, unknown>[]).map((rawC, j) => {
      const cat = `${at} cases[${j}]${typeof rawC?.id === 'string' ? ` (${rawC.id})` : ''}`;
      const cid = str(cat, 'id', rawC.id);
      if (!ID.test(cid)) fail(cat, `case id '${cid}' must match ${ID}`);
      if (caseIds.has(cid)) fail(cat, `duplicate case id '${cid}'`);
      caseIds.add(cid);
      if (rawC.with === undefined) fail(cat, `'with' is missing (the answer of a kernel that has the feature)`);
      return {
        ...expectation(cat, rawC, base),
        feature: id,
        id: `${id}/${cid}`,
        case: cid,
        area,
        title: str(cat, 'title', rawC.title, true) || str(at, 'title', rawF.title),
        probe: str(cat, 'probe', rawC.probe),
        with: answer(cat, 'with', rawC.with),
        without: rawC.without === undefined ? featWithout : rawC.without === null ? null : answer(cat, 'without', rawC.without),
        ref: typeof rawC.ref === 'string' ? rawC.ref : typeof rawF.ref === 'string' ? rawF.ref : '',
        requiresIds: [...featRequires, ...(ids(cat, rawC.requires) ?? []).filter((r) => !featRequires.includes(r))],
        requires: [],
        deadline: deadline(cat, rawC.deadline) ?? deadline(at, rawF.deadline),
        volatile: volatileKeys(cat, rawC.volatile, [rawC.with, rawC.without === undefined ? featWithout : rawC.without])
          ?? featVolatile,
      } satisfies CatalogCase;
    });
    const changes = rawF.changes ?? [];
    if (!Array.isArray(changes) || changes.some((c) => typeof c !== 'string')) fail(at, `'changes' must be a list of strings`);
    return { id, title: str(at, 'title', rawF.title), area, ref: typeof rawF.ref === 'string' ? rawF.ref : '', changes, cases, base, without: featWithout, requiresIds: featRequires };
  });
}

/**
 * Resolve every `requires:` id to its feature (transitively, oldest `introduced` first) and
 * refuse unknown ids and cycles, so a typo is a load error, not a silently missing check.
 */
export function linkCatalog(features: CatalogFeature[], where = 'catalog'): CatalogFeature[] {
  const byId = new Map(features.map((f) => [f.id, f]));
  const closure = new Map<string, string[]>();
  const expand = (id: string, path: string[]): string[] => {
    if (closure.has(id)) return closure.get(id)!;
    if (path.includes(id)) fail(where, `'requires' forms a cycle: ${[...path, id].join(' -> ')}`);
    const f = byId.get(id)!;
    const out: string[] = [];
    for (const r of f.requiresIds) {
      if (!byId.has(r)) fail(`${where} (${f.id})`, `requires unknown feature '${r}' (known: a feature id from suites/catalog/*.yaml)`);
      for (const x of [...expand(r, [...path, id]), r]) if (!out.includes(x)) out.push(x);
    }
    closure.set(id, out);
    return out;
  };
  const requirement = (f: CatalogFeature): Requirement => ({ ...f.base, feature: f.id, without: f.without });
  for (const f of features) {
    expand(f.id, []);
    for (const c of f.cases) {
      const list: string[] = [];
      for (const r of c.requiresIds) {
        if (!byId.has(r)) fail(`${where} (${c.id})`, `requires unknown feature '${r}' (known: a feature id from suites/catalog/*.yaml)`);
        if (r === f.id) fail(`${where} (${c.id})`, `a case need not require its own feature '${r}': a case newer than its feature requires it implicitly`);
        for (const x of [...expand(r, []), r]) if (!list.includes(x)) list.push(x);
      }
      const reqs = list.map((id) => requirement(byId.get(id)!));
      // A case newer than its feature (esrch_zombie: 6.9 in the 5.6 pidfd_getfd) also needs the feature itself.
      // (Only on one axis: a kernel version and a libc version do not compare.)
      if (f.without !== null && !c.libc === !f.base.libc && cmpVersion(c.introduced, f.base.introduced) > 0) reqs.push(requirement(f));
      c.requires = reqs.sort((a, b) => cmpVersion(a.introduced, b.introduced));
    }
  }
  return features;
}

let cached: CatalogFeature[] | null = null;

/** Load a catalog file, or every *.yaml file of a catalog directory; feature ids must be unique. */
export function loadCatalog(path = process.env.PIDFD_MATRIX_CATALOG ?? CATALOG_PATH): CatalogFeature[] {
  if (path === CATALOG_PATH && cached) return cached;
  const files = statSync(path).isDirectory()
    ? readdirSync(path).filter((f) => f.endsWith('.yaml') && !NOT_CATALOG_FILES.includes(f)).sort().map((f) => join(path, f))
    : [path];
  const features: CatalogFeature[] = [];
  const where = new Map<string, string>();
  for (const file of files) {
    for (const f of parseCatalog(readFileSync(file, 'utf8'), file, { link: false })) {
      if (where.has(f.id)) throw new CatalogError(`${file}: feature id '${f.id}' is already defined in ${where.get(f.id)}`);
      where.set(f.id, file);
      features.push(f);
    }
  }
  const table = commitsFileFor(path);
  let commits: CommitTable;
  try {
    commits = loadCommits(table);
  } catch (e) {
    // One error kind for every caller that loads the catalog: the message names file, entry and fix.
    if (e instanceof CommitsError) throw new CatalogError(e.message);
    throw e;
  }
  linkCommits(features, commits, table);
  linkCatalog(features, path);
  if (path === CATALOG_PATH) cached = features;
  return features;
}

/**
 * Every commit the catalog names must be in the commit table (suites/catalog/commits.yaml), so a
 * typo is a load error; a shorter or longer spelling is replaced by the table's own key.
 */
export function linkCommits(features: CatalogFeature[], table: CommitTable, tableFile = COMMITS_FILE): void {
  const key = (where: string, sha: string) => {
    const e = findCommit(table, sha);
    if (!e) fail(where, `commit ${sha} is not in ${tableFile}: add it there (subject, mainline, stable releases with evidence) or fix the id`);
    return e.sha;
  };
  const fix = (where: string, x: Expectation) => {
    x.commits = x.commits.map((s) => key(where, s));
    for (const b of x.broken) {
      b.broke = b.broke.map((s) => key(`${where} broken`, s));
      b.fixed = b.fixed.map((s) => key(`${where} broken`, s));
    }
    for (const a of x.sourceAnswers) if (a.commit) a.commit = key(`${where} source_answers`, a.commit);
  };
  for (const f of features) {
    fix(`${f.id}`, f.base);
    for (const c of f.cases) fix(c.id, c);
  }
}

/** The commit table beside a catalog (directory or file): suites/catalog/commits.yaml for the shipped one. */
export function commitsFileFor(path = process.env.PIDFD_MATRIX_CATALOG ?? CATALOG_PATH): string {
  return join(statSync(path).isDirectory() ? path : dirname(path), COMMITS_FILE);
}

/** The commit table of the catalog in use (the one loadCatalog() reads). */
export function catalogCommits(path = process.env.PIDFD_MATRIX_CATALOG ?? CATALOG_PATH): CommitTable {
  return loadCommits(commitsFileFor(path));
}

export function allCases(features: CatalogFeature[]): CatalogCase[] {
  return features.flatMap((f) => f.cases);
}
