// The judgement of one bisect step, independent of git, builds and guests (they are injected,
// so the logic is unit-tested with fake steps): build -> boot and run the named tests, up to
// `tries` times -> good (0), bad (1, the bad endpoint's failure signature) or skip (125: the
// kernel did not build or boot, the infrastructure failed, or the tests failed *differently*).
import type { CaseResult, CellResult, Observation } from './results.js';

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
  | { kind: 'failed'; signature: string[]; seconds: number }
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
}

/** The observed fields that differ from the expected answer (the closest one of a list). */
export function differingFields(observed: Observation, expected: CaseResult['expectedAnswer']): string[] {
  const candidates = expected === null ? [] : Array.isArray(expected) ? expected : [expected];
  let best: string[] | null = null;
  for (const exp of candidates) {
    const diff = Object.keys(exp)
      .filter((k) => JSON.stringify(observed[k]) !== JSON.stringify(exp[k]))
      .map((k) => `${k}=${JSON.stringify(observed[k] ?? null)}`);
    if (best === null || diff.length < best.length) best = diff;
  }
  return best ?? [];
}

/** "test-id: field=value ..." for a case that did not pass: what a bad step must show again. */
export function signatureEntry(c: CaseResult): string {
  const diff = c.status === 'error' ? [] : differingFields(c.observed, c.expectedAnswer);
  return `${c.id}: ${diff.length ? diff.join(' ') : c.status}`;
}

/** A cell of the named tests as a try outcome. pass/xpass are clean; skip is unclear. */
export function outcomeOfCell(cell: CellResult, seconds: number): TryOutcome {
  if (cell.error) return { kind: 'unclear', reason: cell.error.reason, seconds };
  if (cell.cases.length === 0) return { kind: 'unclear', reason: 'no test ran (check --test ids)', seconds };
  const failing = cell.cases.filter((c) => c.status === 'fail' || c.status === 'xfail' || c.status === 'error');
  if (failing.length) return { kind: 'failed', signature: failing.map(signatureEntry).sort(), seconds };
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
      if (badSignature === null || sameSignature(t.signature, badSignature)) {
        say(`  run ${attempt}: the failure reproduces (${t.signature.join('; ')})`);
        return { ...rec, verdict: 'bad', exitCode: EXIT.bad, why: `fails: ${t.signature.join('; ')}`, signature: t.signature };
      }
      unclear++;
      rec.signature = t.signature;
      rec.why = `a different failure: ${t.signature.join('; ')}`;
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

/** The table of every step: revision, build s, boot s, verdict, signature or reason. */
export function stepTable(steps: StepRecord[], subject: (rev: string) => string = () => ''): string {
  const rows = steps.map((s) => [
    s.rev.slice(0, 12), s.role ?? 'step', subject(s.rev).slice(0, 40),
    `${fmtS(s.buildSeconds)}${s.cachedBuild ? ' (cached)' : ''}`, fmtS(s.bootSeconds), `${s.verdict} (${s.exitCode})`, `${s.tries.length}`,
    s.signature ? s.signature.join('; ') : s.why,
  ]);
  const head = ['revision', 'role', 'subject', 'build s', 'boot s', 'verdict', 'runs', 'signature / reason'];
  const all = [head, ...rows];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join('  ').trimEnd()).join('\n');
}
