// Verification as data: on which real kernels each catalog answer was observed
// (suites/catalog/verified.yaml), and which version boundaries of the catalog no kernel has
// checked yet. `pidfd-matrix catalog --record <reports>` writes the file from stored runs;
// `pidfd-matrix catalog` and the HTML report show what is still unverified. Pure functions,
// except loadVerified/saveVerified.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { allCases, VERIFIED_FILE, type CatalogCase, type CatalogFeature, type Requirement } from './catalog.js';
import { expectationIn, judge, matches, PREREQ } from './judge.js';
import type { CellResult, KernelFacts } from '../results.js';
import { repoPath } from '../../suites/lib/paths.js';
import { cmpVersion, fmtVersion, parseVersion, type Version } from './version.js';
import { seccompLabel } from '../report/report-text.js';
import { debianIdentity, describeIdentity, hasMachinePath, IDENTITY_KINDS, mergeIdentity, type KernelIdentity } from '../../kernels/identity.js';

export const VERIFIED_PATH = repoPath('suites/catalog', VERIFIED_FILE);

/** One kernel's observations: which cases gave the `with` answer, which the `without` one. */
export interface KernelRecord {
  version: string;            // stable version the judge used ("6.1.176")
  release: string;            // uname -r ("6.1.0-50-amd64")
  kernelId: string;           // the matrix id of the cell it came from
  /** Where the kernel came from (kernels/identity.ts); only a proven one moves a boundary on its own. */
  identity?: KernelIdentity;
  /** Records from before identities: a description with no machine path (catalog --record writes identity). */
  source?: string;
  date: string;               // when the cell ran (YYYY-MM-DD)
  harness: string;            // harness revision of the run
  with: string[];             // cases that gave the with-answer (pass or xpass)
  without: string[];          // cases that gave their own without-answer (checked change, or absent)
  xpass: string[];            // of `with`: answers newer than the catalog says (backports, corrections)
}

/** A version that no kernel here can stand for, with the reason (edited by hand). */
export interface Unobtainable { version: string; reason: string }

export interface Verified { kernels: KernelRecord[]; unobtainable: Unobtainable[] }

export class VerifiedError extends Error {}

export function parseVerified(text: string, file = 'verified.yaml'): Verified {
  const doc = (parse(text) ?? {}) as Partial<Verified>;
  const kernels = doc.kernels ?? [];
  const unobtainable = doc.unobtainable ?? [];
  if (!Array.isArray(kernels) || !Array.isArray(unobtainable)) throw new VerifiedError(`${file}: 'kernels' and 'unobtainable' must be lists`);
  for (const [i, k] of kernels.entries()) {
    if (!k || typeof k.version !== 'string' || !parseVersion(k.version)) throw new VerifiedError(`${file}: kernels[${i}] needs a version like "5.4.286"`);
    const at = `${file}: kernels[${i}] (${k.version})`;
    const id = k.identity as KernelIdentity | undefined;
    if (id !== undefined && (!id || !IDENTITY_KINDS.includes(id.kind) || typeof id.proven !== 'boolean' || typeof id.why !== 'string'))
      throw new VerifiedError(`${at}: 'identity' needs kind (${IDENTITY_KINDS.join(', ')}), proven (true/false) and why (one line)`);
    if (hasMachinePath(JSON.stringify({ source: k.source, identity: k.identity })))
      throw new VerifiedError(`${at}: names a machine path (${k.source ?? JSON.stringify(k.identity)}); a record says where a kernel came from for anyone: give 'identity:' (a package, a tarball, a public repository and commit, or kind: unproven with why), as catalog --record writes it`);
    for (const f of ['with', 'without', 'xpass'] as const) if (!Array.isArray(k[f] ?? [])) throw new VerifiedError(`${file}: kernels[${i}].${f} must be a list of case ids`);
    k.with ??= []; k.without ??= []; k.xpass ??= [];
  }
  for (const [i, u] of unobtainable.entries())
    if (!u || typeof u.version !== 'string' || typeof u.reason !== 'string') throw new VerifiedError(`${file}: unobtainable[${i}] needs version and reason`);
  return { kernels, unobtainable };
}

export function loadVerified(path = VERIFIED_PATH): Verified {
  return existsSync(path) ? parseVerified(readFileSync(path, 'utf8'), path) : { kernels: [], unobtainable: [] };
}

const HEADER = `# Where each catalog answer was observed on a real kernel (data, not code).
# kernels: written by \`pidfd-matrix catalog --record <reports dir>\` from stored results.json:
#   only cases whose answer the current catalog accepts (pass, xpass, or the case's own
#   without-answer), never a fail, an error, or a skip without a raw observation;
#   a re-recorded kernel (same version and release) replaces its entry, but keeps the stronger
#   identity (a proof made by hand is never downgraded by a run that knows less); a partial
#   run (--test) replaces only the answers of the cases it ran.
# unobtainable: versions no kernel here stands for, with the reason (edit by hand).
# \`pidfd-matrix catalog\` shows which version boundaries these observations leave unverified.
`;

export function renderVerified(v: Verified): string {
  const kernels = [...v.kernels].sort((a, b) => cmpVersion(parseVersion(a.version)!, parseVersion(b.version)!) || a.release.localeCompare(b.release));
  const body = stringify({ unobtainable: v.unobtainable, kernels }, { lineWidth: 0, flowCollectionPadding: false, collectionStyle: 'block' });
  return HEADER + body;
}

export function saveVerified(v: Verified, path = VERIFIED_PATH): void {
  writeFileSync(path, renderVerified(v));
}

/** `ran`: every case id the cell holds, answered or not (a partial run keeps the rest of an older record). */
export interface RecordOutcome { record: KernelRecord | null; skipped: string | null; dropped: string[]; ran: Set<string> }

/**
 * Turn one stored cell into a kernel record, judging every case again with the current catalog
 * (so a corrected catalog is what the record confirms). A cell that did not run is no record.
 */
export function recordCell(cell: CellResult, features: CatalogFeature[]): RecordOutcome {
  const ran = new Set(cell.cases.map((r) => r.id));
  if (cell.error || !cell.facts) return { record: null, skipped: `${cell.kernelId}: the cell did not run (${cell.error?.reason ?? 'no facts'})`, dropped: [], ran };
  // A container's answers are the host kernel's through a seccomp profile and a capability set: the host cell records that kernel.
  if (cell.container) return { record: null, skipped: `${cell.kernelId}: a container cell (${cell.container.userspace}, seccomp ${seccompLabel(cell.container.seccomp)}) runs on the host kernel; record its host cell instead`, dropped: [], ran };
  const cases = new Map(allCases(features).map((c) => [c.id, c]));
  const rec: KernelRecord = {
    version: cell.facts.version.join('.'), release: cell.facts.release, kernelId: cell.kernelId,
    identity: cell.facts.identity ?? identityFromProvenance(cell), date: cell.startedAt.slice(0, 10),
    harness: cell.provenance?.harnessRev ?? 'unknown', with: [], without: [], xpass: [],
  };
  const dropped: string[] = [];
  for (const r of cell.cases) {
    const c = cases.get(r.id);
    // A libc-keyed case (suites/catalog/libc.yaml) says nothing about the kernel's version boundaries.
    if (!c || c.libc || Object.keys(r.observed ?? {}).length === 0 || r.status === 'error') continue;
    const v = judge(c, cell.facts, r.observed);
    if (v.status === 'pass' || v.status === 'xpass') {
      // A pass with the older answer is a checked `without`.
      (v.expected === 'without' && v.status === 'pass' ? rec.without : rec.with).push(c.id);
      if (v.status === 'xpass') rec.xpass.push(c.id);
    } else if ((v.status === 'skip' || v.status === 'xfail') && v.expected === 'without' && ownWithout(c, cell.facts, r.observed)) {
      // An xfail is a broken range's answer, seen: the newer side of its 'broken from' boundary.
      rec.without.push(c.id);
    } else if (v.status === 'fail' || v.status === 'error') dropped.push(`${c.id}: ${v.reason}`);
  }
  return { record: rec, skipped: null, dropped, ran };
}

/**
 * A cell from before identities were recorded: its Debian packages (with the index's sha256) are
 * an identity; anything else (a path, the host, a build) is unproven. Never a machine path.
 */
export function identityFromProvenance(cell: CellResult): KernelIdentity {
  const image = cell.provenance?.kernelPackages?.find((p) => /^linux-(image|binary)-\d/.test(p.package));
  if (image) return debianIdentity(image, /^debian (\S+) /.exec(cell.provenance.kernelSource ?? '')?.[1]);
  const src = cell.provenance?.kernelSource ?? cell.mode;
  const what = src.startsWith('host') ? 'the host kernel' : src.startsWith('path') ? 'a kernel image given by path' : src.startsWith('build') ? 'a kernel built from a tree' : 'a kernel';
  return { kind: 'unproven', proven: false, why: `${what}, recorded before kernel identities were (no package, tarball or commit named)` };
}

/**
 * The case's own older answer, not a missing prerequisite's ENOSYS nor a failed setup step. A
 * prerequisite's absence counts only when that prerequisite came in the case's own release
 * (sameRelease): below that version it is the case's older answer, whatever the case's `without`
 * says (that may be a broken range's answer: lsof_compat's S_IFREG on 6.9).
 */
function ownWithout(c: CatalogCase, facts: KernelFacts, observed: Record<string, unknown>): boolean {
  if (expectationIn(c, facts).expect !== 'without') return false;
  const absentAnswer = (r: Requirement) => expectationIn(r, facts).expect === 'without' && r.without !== null && matches(r.without, observed);
  const tagged = observed[PREREQ];
  if (typeof tagged === 'string') {
    // The probe stopped at a step it names (`{ prereq: 'pidfd_open', errno: 'ENOSYS' }`). A step
    // that is the case's own feature's call (`pidfd_get_info (PIDFD_GET_INFO on self)`) gave the
    // case's own older answer; any other is a requirement's, or a setup step's.
    if (namesFeature(tagged, c.feature)) return c.without !== null && matches(c.without, observed);
    const r = c.requires.find((x) => namesFeature(tagged, x.feature));
    return r !== undefined && sameRelease(r, c) && absentAnswer(r);
  }
  const byPrereq = c.requires.filter(absentAnswer);
  if (byPrereq.length > 0) return byPrereq.every((r) => sameRelease(r, c));
  return c.without !== null && matches(c.without, observed);
}

/**
 * A requirement that came in the case's own release has no absence of its own: below that version
 * the requirement's answer is the case's older answer too (setns_pidfd_types/user and setns_pidfd,
 * both 5.8: setns(pidfd, CLONE_NEWUSER) is EINVAL before; pidfd_poll/* and pidfd_open, both 5.3:
 * pidfd_open's ENOSYS on 5.2). Counting it as a missing prerequisite left such a boundary with no
 * older side any kernel could show. Only the first version must agree: the commits may differ
 * (pidfd_poll's b53b0b9d9a61 is not pidfd_open's) since a kernel below it lacks both, and the
 * backport and broken-range boundaries look for their older side inside their own series or
 * range, where such a kernel never is. A case that came later than its requirement never
 * qualifies: there its own older answer is needed.
 */
function sameRelease(r: Requirement, c: CatalogCase): boolean {
  return cmpVersion(r.introduced, c.introduced) === 0;
}

/** The step a probe names (`clone3(two-thread child)`, `clone3 (the unprivileged child)`) is this feature's call. */
function namesFeature(step: string, feature: string): boolean {
  return step === feature || step.startsWith(`${feature}(`) || step.startsWith(`${feature} (`);
}

/**
 * Add records, replacing an older record of the same kernel (version and release): its answers
 * are the new run's, its identity the stronger of the two (kernels/identity.ts mergeIdentity:
 * a proof made by hand is never downgraded by a run that knows less). A partial run (`ran`: the
 * case ids its cell held) replaces only the answers of the cases it ran; the older record's
 * answers for every other case stay. `notes` gets one line per identity kept or replaced and per
 * partial run.
 */
export function mergeRecords(v: Verified, records: KernelRecord[], notes: string[] = [], ran?: Map<KernelRecord, Set<string>>): Verified {
  // One at a time, in order: two cells of one kernel in one call (make boundary's whole run and
  // its SELinux run) add up as two calls would, the later partial one over the earlier.
  return records.reduce((acc, r) => mergeRecord(acc, r, notes, ran?.get(r)), v);
}

function mergeRecord(v: Verified, fresh: KernelRecord, notes: string[], cases: Set<string> | undefined): Verified {
  const key = (k: KernelRecord) => `${k.version} ${k.release}`;
  const old = v.kernels.find((k) => key(k) === key(fresh));
  let r = fresh;
  if (old) {
    if (cases) {
      const kept = (ids: string[]) => ids.filter((id) => !cases.has(id));
      const keep = { with: kept(old.with), without: kept(old.without), xpass: kept(old.xpass) };
      if (keep.with.length + keep.without.length > 0) {
        r = { ...r, with: [...r.with, ...keep.with], without: [...r.without, ...keep.without], xpass: [...r.xpass, ...keep.xpass] };
        notes.push(`${old.version} (${old.release}): a partial run; kept the older record's answers of ${keep.with.length + keep.without.length} cases it did not run`);
      }
    }
    if (r.identity) {
      const m = mergeIdentity(old.identity, r.identity);
      r = { ...r, identity: m.identity };
      if (m.note) notes.push(`${old.version} (${old.release}): ${m.note}`);
    }
  }
  return { unobtainable: v.unobtainable, kernels: [...v.kernels.filter((k) => key(k) !== key(fresh)), r] };
}

// ---- boundaries ---------------------------------------------------------------------------

export type BoundaryKind = 'introduced' | 'backport' | 'broken from' | 'broken until';
export type BoundaryState = 'verified' | 'after only' | 'before only' | 'unverified' | 'unobtainable';

export interface Boundary {
  case: string;
  kind: BoundaryKind;
  version: string;
  state: BoundaryState;
  /** Nearest kernels of proven identity observed on each side (the with side at/after, the without side before). */
  after: string | null;
  before: string | null;
  note: string;
  /** Upstream commits behind this boundary (catalog `commits:`, `broke:`, `fixed:`); [] = version rule. */
  commits: string[];
  /** Why the boundary names no commit (catalog `commits_unknown:`), or ''. */
  commitsUnknown: string;
  /** Any one of `commits` brings the answer (catalog `commits_any:`), not all of them together. */
  commitsAny: boolean;
  /** Sides seen only on kernels of unproven identity: they do not move the boundary on their own. */
  unproven: { after: string | null; before: string | null };
}

/** A kernel moves a boundary on its own only when its identity is proven (records without one: not). */
export function provenRecord(k: KernelRecord): boolean {
  return k.identity?.proven === true;
}

const series = (v: Version) => `${v[0]}.${v[1]}`;

/**
 * Every version boundary of every case and whether observed kernels check it: the answer that
 * should start at the boundary seen on a kernel of that series at or after it, and the older
 * answer seen on a kernel below it. "after only" means the new answer was seen but nothing older
 * (or the reverse for "before only").
 */
export function boundaries(features: CatalogFeature[], verified: Verified): Boundary[] {
  const obs = verified.kernels.map((k) => ({ k, v: parseVersion(k.version)! }));
  const unob = new Map(verified.unobtainable.map((u) => [u.version, u.reason]));
  const out: Boundary[] = [];
  for (const c of allCases(features).filter((x) => !x.libc)) {
    const gave = (side: 'with' | 'without') => obs.filter(({ k }) => k[side].includes(c.id));
    const withK = gave('with'), withoutK = gave('without');
    const check = (kind: BoundaryKind, at: Version, startsWith: boolean, lower: Version | null, upperSameSeries: boolean, commits: string[], commitsUnknown = '') => {
      const newSide = startsWith ? withK : withoutK;
      const oldSide = startsWith ? withoutK : withK;
      const nearest = (proven: boolean) => ({
        after: newSide.filter(({ k, v }) => provenRecord(k) === proven && cmpVersion(v, at) >= 0 && (!upperSameSeries || series(v) === series(at)))
          .sort((a, b) => cmpVersion(a.v, b.v))[0],
        before: oldSide.filter(({ k, v }) => provenRecord(k) === proven && cmpVersion(v, at) < 0 && (!lower || cmpVersion(v, lower) >= 0))
          .sort((a, b) => cmpVersion(b.v, a.v))[0],
      });
      const { after, before } = nearest(true);
      const weak = nearest(false);
      const name = (x: typeof after) => (x ? (x.k.release === x.k.version ? x.k.version : `${x.k.version} (${x.k.release})`) : null);
      const reason = unob.get(fmtVersion(at)) ?? unob.get(series(at));
      const state: BoundaryState = after && before ? 'verified' : !after && reason ? 'unobtainable' : after ? 'after only' : before ? 'before only' : 'unverified';
      out.push({
        case: c.id, kind, version: kind === 'backport' ? at.join('.') : fmtVersion(at), state, after: name(after), before: name(before),
        note: !after && reason ? reason : '', commits, commitsUnknown: commits.length ? '' : commitsUnknown,
        commitsAny: kind === 'introduced' || kind === 'backport' ? c.commitsAny && commits.length > 0 : false,
        unproven: { after: after ? null : name(weak.after), before: before ? null : name(weak.before) },
      });
    };
    check('introduced', c.introduced, true, null, true, c.commits, c.commitsUnknown);
    for (const b of c.backports) check('backport', b, true, [b[0], b[1], 0], true, c.commits, c.commitsUnknown);
    for (const b of c.broken) {
      check('broken from', b.from, false, null, true, b.broke);
      check('broken until', b.to, true, b.from, true, b.fixed);
      for (const x of b.backports) check('backport', x, true, [x[0], x[1], 0], true, b.fixed);
    }
  }
  return out;
}

/** Every observed kernel (sorted) and, per case, what it gave: 'with', 'without' or ''. */
export function kernelTable(features: CatalogFeature[], verified: Verified): { kernels: KernelRecord[]; rows: { feature: string; cells: string[] }[] } {
  const kernels = [...verified.kernels].sort((a, b) => cmpVersion(parseVersion(a.version)!, parseVersion(b.version)!));
  const rows = features.filter((f) => !f.base.libc).map((f) => ({
    feature: f.id,
    cells: kernels.map((k) => {
      const ids = f.cases.map((c) => c.id);
      const w = ids.filter((id) => k.with.includes(id)).length;
      const wo = ids.filter((id) => k.without.includes(id)).length;
      const x = ids.filter((id) => k.xpass.includes(id)).length;
      return w + wo === 0 ? '' : `${w + wo}/${ids.length}${x ? ` (${x} xpass)` : ''}`;
    }),
  }));
  return { kernels, rows };
}
