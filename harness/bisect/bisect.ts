// The judgement of one bisect step, independent of git, builds and guests (they are injected,
// so the logic is unit-tested with fake steps): build -> boot and run the named tests, up to
// `tries` times -> good (0), bad (1, the bad endpoint's failure signature) or skip (125: the
// kernel did not build or boot, the infrastructure failed, or the tests failed *differently*).
import type { CaseResult, CellResult, Observation } from '../results.js';

/** Exit codes `git bisect run` reads: 0 good, 1 bad, 125 skip (128 aborts the bisect). */
export const EXIT = { good: 0, bad: 1, skip: 125, abort: 128 } as const;
export type Verdict = 'good' | 'bad' | 'skip';

/**
 * Defaults, and why. A pidfd probe checks syscall answers, which are deterministic on a given
 * kernel, but a TCG guest is not: so a *good* verdict needs `tries` clean runs (3, as KernelCI
 * retries an unclear status 3 times; ktest.pl calls it BISECT_TRIES; syzbot runs 10-20 times
 * for racy crashes, far more than a deterministic syscall answer needs), while a *bad* verdict
 * is given at the first run that reproduces the signature (a reproduction is proof). An unclear
 * run (boot failure, infrastructure error, a different failure) is retried once: after
 * `maxUnclear` (2) of them the step is skipped rather than guessed.
 */
export const DEFAULT_POLICY: Policy = { tries: 3, maxUnclear: 2 };
export interface Policy { tries: number; maxUnclear: number }

/** One boot-and-run of the named tests. */
export type TryOutcome =
  | { kind: 'clean'; seconds: number }
  | { kind: 'failed'; signature: string[]; seconds: number; values?: string[] }
  | { kind: 'unclear'; reason: string; seconds: number };

export type BuildStep =
  | { ok: true; kimg: string; seconds: number; cached: boolean }
  | { ok: false; reason: string; seconds: number };

export interface StepDeps {
  build(rev: string): Promise<BuildStep>;
  runTests(kimg: string, rev: string, attempt: number): Promise<TryOutcome>;
  log?: (line: string) => void;
}

export interface StepRecord {
  rev: string;
  role?: 'good endpoint' | 'bad endpoint' | 'step' | 'culprit re-check' | 'parent re-check';
  verdict: Verdict;
  exitCode: number;
  why: string;
  buildSeconds: number;
  cachedBuild: boolean;
  bootSeconds: number;          // all tries: boot + the named tests
  tries: TryOutcome[];
  signature: string[] | null;   // the failure seen (bad, or a different failure)
  /** The volatile values behind that signature in that run (a pid, an inode): recorded, never compared. */
  values?: string[];
}

/**
 * What the catalog says of a case's volatile fields (`volatile: [pid_line]`): observation keys
 * whose expected answer is a class (matches_child) and whose other values change on every boot
 * (pids, inode numbers, fds, timings). `classes` are the values the case's answers name.
 */
export interface VolatileSpec { fields: string[]; classes: Record<string, unknown[]> }
export type VolatileOf = (caseId: string) => VolatileSpec | undefined;

/** The volatile spec of a catalog case, or undefined when it has no volatile field. */
type Answers = { volatile: string[]; with: CaseResult['expectedAnswer']; without: CaseResult['expectedAnswer'] };
export function volatileSpec(c: Answers): VolatileSpec | undefined {
  if (!c.volatile.length) return undefined;
  const classes: Record<string, unknown[]> = {};
  for (const a of [c.with, c.without].flatMap((x) => (x === null ? [] : [x].flat())))
    for (const k of c.volatile) if (k in a) (classes[k] ??= []).push(...[a[k]].flat());
  return { fields: c.volatile, classes };
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v ?? null));

/** A volatile field's observed value as a class: a value the catalog names, or "another value". */
function classOf(v: unknown, named: unknown[]): string {
  if (v === undefined || v === null) return 'no value';
  return named.some((n) => JSON.stringify(n) === JSON.stringify(v)) ? show(v) : 'another value';
}

export interface Deviation {
  /** What the signature compares: `errno="0"`, or for a volatile field `pid_line expected matches_child, got another value`. */
  signature: string[];
  /** The raw values of the volatile fields among them (`pid_line="86"`): recorded, never compared. */
  values: string[];
}

/** The observed fields that differ from the expected answer (the closest one of a list). */
export function deviation(observed: Observation, expected: CaseResult['expectedAnswer'], vol?: VolatileSpec): Deviation {
  const candidates = expected === null ? [] : Array.isArray(expected) ? expected : [expected];
  let best: Deviation | null = null;
  for (const exp of candidates) {
    const keys = Object.keys(exp).filter((k) => JSON.stringify(observed[k]) !== JSON.stringify(exp[k]));
    const volatile = keys.filter((k) => vol?.fields.includes(k));
    // An errno the answer does not expect (clone failed before the Pid: line was read) is part
    // of what deviates: another errno is another failure, though the expected fields read the same.
    const errno = !('errno' in exp) && observed.errno !== undefined ? [`errno=${JSON.stringify(observed.errno)}`] : [];
    const d: Deviation = {
      signature: [...keys.map((k) => (volatile.includes(k)
        ? `${k} expected ${show(exp[k])}, got ${classOf(observed[k], vol!.classes[k] ?? [])}`
        : `${k}=${JSON.stringify(observed[k] ?? null)}`)), ...errno],
      values: volatile.map((k) => `${k}=${JSON.stringify(observed[k] ?? null)}`),
    };
    if (best === null || d.signature.length < best.signature.length) best = d;
  }
  return best ?? { signature: [], values: [] };
}

/** The signature part of deviation(): what a bad step must show again. */
export function differingFields(observed: Observation, expected: CaseResult['expectedAnswer'], vol?: VolatileSpec): string[] {
  return deviation(observed, expected, vol).signature;
}

/** "test-id: field=value ..." (volatile fields as their class) for a case that did not pass. */
export function signatureEntry(c: CaseResult, vol?: VolatileSpec): string {
  const diff = c.status === 'error' ? [] : differingFields(c.observed, c.expectedAnswer, vol);
  return `${c.id}: ${diff.length ? diff.join(' ') : c.status}`;
}

/** "test-id: pid_line=\"86\"": the volatile values behind a case's signature entry, if any. */
export function volatileEntry(c: CaseResult, vol?: VolatileSpec): string | null {
  const values = c.status === 'error' ? [] : deviation(c.observed, c.expectedAnswer, vol).values;
  return values.length ? `${c.id}: ${values.join(' ')}` : null;
}

/** A cell of the named tests as a try outcome. pass/xpass are clean; skip is unclear. */
export function outcomeOfCell(cell: CellResult, seconds: number, volatileOf: VolatileOf = () => undefined): TryOutcome {
  if (cell.error) return { kind: 'unclear', reason: cell.error.reason, seconds };
  if (cell.cases.length === 0) return { kind: 'unclear', reason: 'no test ran (check --test ids)', seconds };
  const failing = cell.cases.filter((c) => c.status === 'fail' || c.status === 'xfail' || c.status === 'error');
  if (failing.length) {
    const values = failing.map((c) => volatileEntry(c, volatileOf(c.id))).filter((v): v is string => v !== null).sort();
    const signature = failing.map((c) => signatureEntry(c, volatileOf(c.id))).sort();
    return { kind: 'failed', signature, seconds, ...(values.length ? { values } : {}) };
  }
  const skipped = cell.cases.filter((c) => c.status === 'skip');
  if (skipped.length) return { kind: 'unclear', reason: `skipped, so not tested: ${skipped[0].id} (${skipped[0].reason})`, seconds };
  return { kind: 'clean', seconds };
}

export function sameSignature(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
}

/**
 * Judges one revision. With `badSignature` null (the endpoint checks) any failure is "bad"
 * and its signature is recorded; otherwise only the same signature is bad.
 */
export async function evaluate(rev: string, deps: StepDeps, policy: Policy, badSignature: string[] | null): Promise<StepRecord> {
  const say = deps.log ?? (() => {});
  const b = await deps.build(rev);
  const rec: StepRecord = { rev, verdict: 'skip', exitCode: EXIT.skip, why: '', buildSeconds: b.seconds, cachedBuild: b.ok && b.cached, bootSeconds: 0, tries: [], signature: null };
  if (!b.ok) return { ...rec, why: b.reason };
  let clean = 0;
  let unclear = 0;
  for (let attempt = 1; ; attempt++) {
    const t = await deps.runTests(b.kimg, rev, attempt);
    rec.tries.push(t);
    rec.bootSeconds += t.seconds;
    if (t.kind === 'failed') {
      // Volatile values (a pid) are shown and recorded beside the signature, never compared.
      const seen = t.values?.length ? ` [${t.values.join('; ')}]` : '';
      const values = t.values?.length ? { values: t.values } : {};
      if (badSignature === null || sameSignature(t.signature, badSignature)) {
        say(`  run ${attempt}: the failure reproduces (${t.signature.join('; ')})${seen}`);
        const why = `fails: ${t.signature.join('; ')}${seen}`;
        return { ...rec, verdict: 'bad', exitCode: EXIT.bad, why, signature: t.signature, ...values };
      }
      unclear++;
      rec.signature = t.signature;
      if (t.values?.length) rec.values = t.values;
      rec.why = `a different failure: ${t.signature.join('; ')}${seen}`;
      say(`  run ${attempt}: ${rec.why}`);
    } else if (t.kind === 'clean') {
      clean++;
      say(`  run ${attempt}: clean (${clean}/${policy.tries})`);
      if (clean >= policy.tries) return { ...rec, verdict: 'good', exitCode: EXIT.good, why: `${clean} clean run(s)${unclear ? `, ${unclear} unclear` : ''}` };
    } else {
      unclear++;
      rec.why = t.reason;
      say(`  run ${attempt}: unclear: ${t.reason}`);
    }
    if (unclear >= policy.maxUnclear) return { ...rec, verdict: 'skip', exitCode: EXIT.skip, why: `${rec.why} (${unclear} unclear run(s), ${clean} clean)` };
  }
}

const fmtS = (s: number) => `${Math.round(s)}`;

/** The table of every step: revision, build s, boot s, verdict, signature [volatile values] or reason. */
export function stepTable(steps: StepRecord[], subject: (rev: string) => string = () => ''): string {
  const rows = steps.map((s) => [
    s.rev.slice(0, 12), s.role ?? 'step', subject(s.rev).slice(0, 40),
    `${fmtS(s.buildSeconds)}${s.cachedBuild ? ' (cached)' : ''}`, fmtS(s.bootSeconds), `${s.verdict} (${s.exitCode})`, `${s.tries.length}`,
    s.signature ? `${s.signature.join('; ')}${s.values?.length ? ` [${s.values.join('; ')}]` : ''}` : s.why,
  ]);
  const head = ['revision', 'role', 'subject', 'build s', 'boot s', 'verdict', 'runs', 'signature / reason'];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd()).join('\n');
}
