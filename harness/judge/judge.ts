// Expectation logic: given a catalog case, the kernel's facts and what the probe observed,
// decide the status. Pure, so it is tested on fixtures for kernels this machine does not run.
import type { Answer, BrokenRange, CatalogCase, Expectation, LibcFloor } from './catalog.js';
import { EXEC_REFUSED, KILLED_BY, NOT_RUN, PREREQ, PROBE_SKIP, SETUP_ERROR } from '../../suites/lib/observation.js';
import { unmetNeed } from '../../suites/lib/needs.js';
import type { KernelFacts, Observation } from '../results.js';
import type { CommitAnswer, CommitAnswers } from './commits.js';
import type { Status } from '../status.js';
import { atLeast, cmpVersion, fmtVersion, hasBackport, parseVersion, type Version } from './version.js';

export interface Verdict {
  status: Status;
  reason: string;
  expected: 'with' | 'without' | null;
  expectedAnswer: Answer | null;
}

// Observation keys with a meaning to the judge: the probes' vocabulary (suites/lib/observation.ts).
export { PREREQ, PROBE_SKIP, NOT_RUN, SETUP_ERROR, EXEC_REFUSED } from '../../suites/lib/observation.js';
export { unmetNeed } from '../../suites/lib/needs.js';

const SECCOMP_ERRNOS = new Set(['ENOSYS', 'EPERM', 'EACCES']);

/** A refusal and the answer to its control question (suites/lib/libc.ts asks it). */
export interface SeccompControl { syscall: string; errno: string; control_errno: string; in_kallsyms: boolean | null }

/**
 * Whether a seccomp filter, not the kernel, gave the observed refusal. The probe asked the same
 * syscall a second question with a bad argument: the kernel answers that EBADF or EINVAL, a
 * filter answers its fixed errno before the kernel looks at the arguments. The same refusal
 * again is the evidence; for ENOSYS also that the kernel has the syscall (/proc/kallsyms).
 * Without evidence the refusal is the kernel's answer, and `note` says what was seen.
 */
export function seccompEvidence(facts: KernelFacts, observed: Observation): { blocked: SeccompControl | null; note: string } {
  const errno = String(observed.errno);
  // The harness's own filter (facts.harnessFilter) answers only glibc's clone3, never a probe's call.
  if (facts.seccomp !== 2 || facts.harnessFilter || !SECCOMP_ERRNOS.has(errno)) return { blocked: null, note: '' };
  const controls = (Array.isArray(observed.seccomp_controls) ? observed.seccomp_controls : []) as SeccompControl[];
  const mine = controls.filter((k) => k.errno === errno);
  const blocked = mine.find((k) => k.control_errno === errno && (errno !== 'ENOSYS' || k.in_kallsyms === true)) ?? null;
  if (blocked) return { blocked, note: '' };
  const seen = mine.map((k) => `${k.syscall} with a bad argument got ${k.control_errno}${k.errno === 'ENOSYS' ? ` (sys_${k.syscall} ${k.in_kallsyms === null ? 'unknown: /proc/kallsyms unreadable' : k.in_kallsyms ? 'in /proc/kallsyms' : 'not in /proc/kallsyms'})` : ''}`);
  return {
    blocked: null,
    note: `; a Seccomp filter is active but did not give this ${errno}: ${seen.length ? `${seen.join('; ')}, so the kernel answered` : 'no control question was asked for this call'}`,
  };
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object), kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as never)[k], (b as never)[k]));
}

/** An answer matches when every key it names is observed with that value (a list = any of). */
export function matches(answer: Answer, observed: Observation): boolean {
  if (Array.isArray(answer)) return answer.some((a) => matches(a, observed));
  return Object.entries(answer).every(([k, v]) =>
    Array.isArray(v) ? v.some((alt) => deepEqual(alt, observed[k])) : deepEqual(v, observed[k]));
}

export function fmt(o: Answer | null): string {
  if (!o) return '{}';
  if (Array.isArray(o)) return o.map(fmt).join(' or ');
  return '{ ' + Object.entries(o).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.map((x) => JSON.stringify(x)).join(' | ') : JSON.stringify(v)}`).join(', ') + ' }';
}

/** The subset of `observed` that the answer talks about, for readable messages. */
function relevant(answer: Answer | null, observed: Observation): Observation {
  const keys = new Set([...[answer ?? {}].flat().flatMap((a) => Object.keys(a)), PREREQ, 'errno', 'step']);
  return Object.fromEntries(Object.entries(observed).filter(([k]) => keys.has(k)));
}

/** `range`: the catalog broken range that decided it, so reports can name it (KCIDB issues). */
export interface KernelExpectation {
  expect: 'with' | 'without'; why: string; brokenReason?: string; range?: BrokenRange;
}

/**
 * What the kernel's commit answers (facts.commits, from the commit oracle before judging) say about
 * a list of commits: all present, one missing, or one nobody could tell.
 */
export function commitsSay(shas: string[], answers: CommitAnswers): CommitAnswer {
  const per = shas.map((sha) => ({ sha: sha.slice(0, 12), a: answers[sha] ?? { has: null, by: 'not asked when this cell ran (rerun it to ask)' } }));
  const lacking = per.find((p) => p.a.has === false);
  if (lacking) return { has: false, by: `lacks ${lacking.sha} (${lacking.a.by})` };
  const unknown = per.find((p) => p.a.has === null);
  if (unknown) return { has: null, by: `${unknown.sha} unknown (${unknown.a.by})` };
  return { has: true, by: per.map((p) => `has ${p.sha} (${p.a.by})`).join(', ') };
}

/** commits_any: one present is enough; all missing is a lack; otherwise nobody could tell. */
export function anyCommitSays(shas: string[], answers: CommitAnswers): CommitAnswer {
  const per = shas.map((sha) => commitsSay([sha], answers));
  const present = per.find((p) => p.has === true);
  if (present) return present;
  if (per.every((p) => p.has === false)) return { has: false, by: per.map((p) => p.by).join(', ') };
  return per.find((p) => p.has === null)!;
}

/**
 * What the catalog says this kernel should answer. With commit answers (a cell judged since the
 * commit oracle), a boundary that names its commits is decided by them; the version rule decides
 * the rest and says so. Without them (an older results.json) the version rule alone, as before.
 */
export function expectationFor(c: Expectation, v: Version, answers?: CommitAnswers): KernelExpectation {
  const since = fmtVersion(c.introduced);
  const tag = (why: string, unknown?: string) => (answers ? `${why}; ${unknown ?? 'no commit named'}: version rule` : why);
  for (const b of c.broken) {
    const named = answers && (b.broke.length || b.fixed.length);
    if (named) {
      const broke = b.broke.length ? commitsSay(b.broke, answers) : null;
      const fixed = b.fixed.length ? commitsSay(b.fixed, answers) : null;
      // Without a named start, the range's first version says whether the breakage is in.
      const has = broke ? broke.has : cmpVersion(v, b.from) >= 0;
      const start = broke ? broke.by : `from ${fmtVersion(b.from)} by version`;
      if (has === false) continue;
      if (has === true && fixed?.has === true) return { expect: 'with', why: `broken range fixed: ${fixed.by}` };
      if (has === true && fixed?.has === false)
        return {
          expect: 'without', why: `known broken (${start}; ${fixed.by})`,
          brokenReason: b.reason + (b.ref ? ` (${b.ref})` : ''), range: b,
        };
    }
    if (cmpVersion(v, b.from) < 0 || cmpVersion(v, b.to) >= 0) continue;
    const unknown = named ? [b.broke.length ? commitsSay(b.broke, answers) : null, b.fixed.length ? commitsSay(b.fixed, answers) : null]
      .find((x) => x?.has === null)?.by : undefined;
    const fixedBp = b.backports.find((x) => hasBackport(v, x));
    if (fixedBp) return { expect: 'with', why: tag(`fixed in ${fmtVersion(b.to)}, backported to ${fmtVersion(fixedBp)}`, unknown) };
    return {
      expect: 'without', why: tag(`known broken in ${fmtVersion(b.from)} until ${fmtVersion(b.to)}`, unknown),
      brokenReason: b.reason + (b.ref ? ` (${b.ref})` : ''), range: b,
    };
  }
  let unknown: string | undefined;
  if (answers && c.commits.length) {
    const say = c.commitsAny ? anyCommitSays(c.commits, answers) : commitsSay(c.commits, answers);
    if (say.has === true) return { expect: 'with', why: say.by };
    if (say.has === false) return { expect: 'without', why: `needs ${since} or a backport: ${say.by}` };
    unknown = say.by;
  }
  if (atLeast(v, c.introduced)) return { expect: 'with', why: tag(`since ${since}`, unknown) };
  const bp = c.backports.find((b) => hasBackport(v, b));
  if (bp) return { expect: 'with', why: tag(`backported to ${fmtVersion(bp)}`, unknown) };
  return { expect: 'without', why: tag(`needs ${since}`, unknown) };
}

/** "glibc 2.36 or musl 1.2.6": the libc releases a libc-keyed expectation names. */
function libcNeed(floors: LibcFloor[]): string {
  return floors.map((f) => `${f.name} ${fmtVersion(f.version)}`).join(' or ');
}

/**
 * What the catalog says this cell should answer: a kernel feature by the kernel version, a libc
 * feature (`libc: "glibc 2.36"`) by the cell's own libc (facts.libc, as the process named it).
 */
export function expectationIn(c: Expectation, facts: Pick<KernelFacts, 'version' | 'libc' | 'commits'>): KernelExpectation {
  if (!c.libc) return expectationFor(c, facts.version, facts.commits);
  const libc = facts.libc;
  const floor = libc ? c.libc.find((f) => f.name === libc.name) : undefined;
  const v = libc ? parseVersion(libc.version) : null;
  if (floor && v && atLeast(v, floor.version)) return { expect: 'with', why: `since ${libcNeed([floor])}` };
  // A libc the catalog lists no release of (musl for glibc's wrappers) says so, not a version.
  if (libc && !floor) return { expect: 'without', why: `needs ${libcNeed(c.libc)} (the catalog lists no ${libc.name} release)` };
  return { expect: 'without', why: `needs ${libcNeed(c.libc)}` };
}

/**
 * The libc a libc-keyed case asked: the process's own (facts.libc), or the one a separately
 * built test binary names in its observation (`libc: "musl 1.2.3"`, suites/musl/).
 */
function answeringLibc(facts: KernelFacts, observed: Observation): KernelFacts {
  const m = typeof observed.libc === 'string' ? /^(\S+) (\S+)$/.exec(observed.libc) : null;
  return m ? { ...facts, libc: { name: m[1], version: m[2], source: 'the probe\'s own test binary', confstr: null } } : facts;
}

/**
 * The kernel would not execve the probe's helper built for another ABI of this machine (the i386
 * helper of compat32). ENOEXEC is the kernel having no loader for it: a skip, with the refusal and
 * what the kernel showed about that ABI as its evidence. Any other errno is no such answer.
 */
function execRefused(c: CatalogCase, o: Observation): Verdict {
  const errno = String(o[EXEC_REFUSED]);
  const abi = typeof o.abi === 'string' ? o.abi : 'foreign-ABI';
  if (errno !== 'ENOEXEC')
    return { status: 'error', reason: `${c.id}: could not run: execve of the ${abi} helper gave ${errno}, which is no answer about ${abi} support`, expected: null, expectedAnswer: null };
  const shown = [
    o.abi_vsyscall32 === false ? 'no /proc/sys/abi/vsyscall32, which x86_64 registers only with IA32 emulation' : null,
    o.ia32_syscalls === false ? 'no __ia32_sys_ entries in /proc/kallsyms' : o.ia32_syscalls === true ? '/proc/kallsyms has __ia32_sys_ entries' : null,
    typeof o.ia32_emulation_param === 'string' ? `ia32_emulation=${o.ia32_emulation_param} on the command line` : null,
    typeof o.config_ia32_emulation === 'string' ? `/proc/config.gz: ${o.config_ia32_emulation}` : null,
  ].filter((x) => x !== null);
  return {
    status: 'skip',
    reason: `${c.id}: kernel runs no ${abi} binaries: execve ENOEXEC${shown.length ? ` (${shown.join('; ')})` : ''}`,
    expected: null, expectedAnswer: null,
  };
}

export function judge(c: CatalogCase, kernelFacts: KernelFacts, observed: Observation): Verdict {
  const facts = c.libc ? answeringLibc(kernelFacts, observed) : kernelFacts;
  // Debian's 5.10.0-32-amd64 is stable 5.10.223: say so, backports are judged by the latter.
  const full = fmtVersion(facts.version);
  const kernelOnly = `kernel ${facts.release}${facts.release.startsWith(full) ? '' : ` (${facts.version.join('.')})`}`;
  // A libc case names the libc that answered, and the kernel under it (its `requires:`).
  const kernel = c.libc && facts.libc ? `${facts.libc.name} ${facts.libc.version}, ${kernelOnly}` : kernelOnly;
  const need = unmetNeed(c.needs, facts);
  if (need) return { status: 'skip', reason: need, expected: null, expectedAnswer: null };
  if (c.libc && !facts.libc)
    return { status: 'skip', reason: `${c.id}: keyed by the libc (${libcNeed(c.libc)}), and this cell recorded no libc (facts.libc: a result from before the libc axis, or a libc that does not name itself)`, expected: null, expectedAnswer: null };
  if (typeof observed[SETUP_ERROR] === 'string')
    return { status: 'error', reason: `${c.id}: could not run: ${observed[SETUP_ERROR]}`, expected: null, expectedAnswer: null };
  // The runner left it out for a need the catalog no longer lists (a re-judge after an edit).
  if (typeof observed[NOT_RUN] === 'string')
    return { status: 'error', reason: `${c.id}: not probed in this run (${observed[NOT_RUN]}); the catalog's needs changed since: rerun it`, expected: null, expectedAnswer: null };
  if (typeof observed[PROBE_SKIP] === 'string')
    return { status: 'skip', reason: `${c.id}: ${observed[PROBE_SKIP]}`, expected: null, expectedAnswer: null };
  if (typeof observed[EXEC_REFUSED] === 'string') return execRefused(c, observed);
  if (observed[KILLED_BY] === 'SIGSYS') {
    if (kernelFacts.seccomp === 2 && !kernelFacts.harnessFilter)
      return { status: 'skip', reason: `blocked by seccomp: ${c.id}: its helper process was killed by SIGSYS under a Seccomp filter (mode 2), which kills calls it does not allow (SECCOMP_RET_KILL; a profile that lists no architecture but the native one kills every i386 call); the kernel's own answer is hidden`, expected: null, expectedAnswer: null };
    return { status: 'error', reason: `${c.id}: could not run: its helper process was killed by SIGSYS, and no Seccomp filter of the user is active here (Seccomp: ${kernelFacts.seccomp})`, expected: null, expectedAnswer: null };
  }

  const exp = expectationIn(c, facts);
  // A refusal the filter is proven to have given hides the kernel's answer, whatever it matches.
  const sc = seccompEvidence(facts, observed);
  if (sc.blocked) {
    const b = sc.blocked;
    const proof = b.errno === 'ENOSYS'
      ? `${b.syscall} with a bad argument got ENOSYS too, and the kernel has sys_${b.syscall} (/proc/kallsyms)`
      : `${b.syscall} with a bad argument got ${b.control_errno} too, where the kernel answers EBADF or EINVAL`;
    return { status: 'skip', reason: `blocked by seccomp: ${c.id} got ${b.errno} from a Seccomp filter (mode 2): ${proof}; the kernel's own answer is hidden`, expected: null, expectedAnswer: null };
  }
  const seccompNote = sc.note;

  // A prerequisite this kernel should lack (pidfd_open on 5.2, clone3 on 5.2) answers for the case
  // with its own `without` (ENOSYS): the case's own answers assume the syscall exists.
  const missing = c.requires.find((r) => expectationIn(r, facts).expect === 'without');
  if (missing && !matches(c.with, observed)) {
    const gone = (missing.without !== null && matches(missing.without, observed)) || typeof observed[PREREQ] === 'string';
    if (gone) {
      const step = typeof observed[PREREQ] === 'string' ? ` (${observed[PREREQ]} unavailable)` : '';
      return { status: 'skip', reason: `absent as expected: ${c.id} needs ${missing.feature} (${expectationIn(missing, facts).why}), ${kernel}${step}${seccompNote}`, expected: 'without', expectedAnswer: missing.without };
    }
  }
  const answer = exp.expect === 'with' ? c.with : c.without;
  const obs = relevant(answer, observed);

  if (exp.expect === 'with') {
    if (matches(c.with, observed)) return { status: 'pass', reason: `${c.id}: as expected (${exp.why}), ${kernel}`, expected: 'with', expectedAnswer: c.with };
    const prereq = typeof observed[PREREQ] === 'string' ? ` (prerequisite ${observed[PREREQ]} failed)` : '';
    return {
      status: 'fail',
      reason: `${c.id}: ${kernel} should have it (${exp.why}): expected ${fmt(c.with)}, observed ${fmt(obs)}${prereq}${seccompNote}`,
      expected: 'with', expectedAnswer: c.with,
    };
  }

  // The kernel is expected to lack the feature (older than `introduced`, or in a broken range).
  if (matches(c.with, observed)) {
    const why = exp.brokenReason ? `listed as broken (${exp.brokenReason}) but works` : `works although the catalog says it ${exp.why} (backport?)`;
    return { status: 'xpass', reason: `${c.id}: ${why}, ${kernel}`, expected: 'without', expectedAnswer: c.without };
  }
  const absent = c.without === null ? typeof observed[PREREQ] === 'string' : matches(c.without, observed) || typeof observed[PREREQ] === 'string';
  if (absent) {
    if (exp.brokenReason)
      return { status: 'xfail', reason: `${c.id}: ${exp.why}: ${exp.brokenReason}, ${kernel}`, expected: 'without', expectedAnswer: c.without };
    // A behaviour change: the older answer is what this kernel must give, so it was checked.
    if (c.kind === 'change' && c.without !== null && matches(c.without, observed))
      return {
        status: 'pass',
        // With commit answers, also what decided that this kernel gives the older answer.
        reason: `${c.id}: the answer before ${fmtVersion(c.introduced)}, as expected (the answer changed in ${fmtVersion(c.introduced)}${facts.commits ? `; ${exp.why}` : ''}), ${kernel}`,
        expected: 'without', expectedAnswer: c.without,
      };
    const prereq = typeof observed[PREREQ] === 'string' ? ` (${observed[PREREQ]} unavailable)` : '';
    return { status: 'skip', reason: `absent as expected: ${c.id} ${exp.why}, ${kernel}${prereq}${seccompNote}`, expected: 'without', expectedAnswer: c.without };
  }
  // No older answer listed: the whole observation is what the catalog has to learn.
  const expected = c.without === null ? 'no older answer listed in the catalog (add `without:`)' : `expected ${fmt(c.without)}`;
  return {
    status: 'fail',
    reason: `${c.id}: ${kernel} ${exp.why}: ${expected}, observed ${fmt(c.without === null ? observed : obs)}${seccompNote}`,
    expected: 'without', expectedAnswer: c.without,
  };
}
