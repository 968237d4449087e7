// Drives `git bisect` in a kernel tree with a StepDeps (real: build + guest; tests: fakes):
// endpoint checks, then good/bad/skip per step until git names the first bad commit, then a
// re-check of the culprit and its parent. The state (options, bad signature, steps so far)
// lives in the tree's git dir, so an interrupted bisect can be resumed, and `bisect-step`
// (the `git bisect run` script) finds the signature there.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { evaluate, type Policy, type StepDeps, type StepRecord } from './bisect.js';

const run = promisify(execFile);

export class BisectError extends Error {}

export interface BisectState {
  schema: 1;
  tree: string;
  good: string;                 // full hashes
  bad: string;
  tests: string[];
  policy: Policy;
  fragments: string[];
  /** What the bad endpoint showed; a step is bad only when it shows the same. */
  signature: string[] | null;
  /** Where the user was before the bisect (branch name or hash), for the message on reset. */
  origin: string;
  steps: StepRecord[];
}

export async function git(tree: string, ...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run('git', ['-C', tree, ...args], { maxBuffer: 64 << 20 });
    return (stdout + stderr).trim();
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new BisectError(`git ${args.join(' ')} failed in ${tree}: ${(err.stderr || err.stdout || err.message).trim().split('\n').slice(-3).join(' | ')}`);
  }
}

/** `git bisect good|bad|skip REV`: its output, also when git ends the bisect with a non-zero exit ("We cannot bisect more!"). */
async function mark(tree: string, verdict: string, rev: string): Promise<string> {
  try {
    const { stdout, stderr } = await run('git', ['-C', tree, 'bisect', verdict, rev], { maxBuffer: 64 << 20 });
    return (stdout + stderr).trim();
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    const out = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
    if (parseBisectOutput(out).done) return out;
    throw new BisectError(`git bisect ${verdict} ${rev} failed in ${tree}: ${(out || err.message).split('\n').slice(-3).join(' | ')}`);
  }
}

export async function gitDir(tree: string): Promise<string> {
  return resolve(tree, await git(tree, 'rev-parse', '--git-dir'));
}
export const stateFile = async (tree: string) => resolve(await gitDir(tree), 'pidfd-matrix-bisect.json');

export async function loadState(tree: string): Promise<BisectState | null> {
  const f = await stateFile(tree);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as BisectState) : null;
}
export async function saveState(s: BisectState): Promise<void> {
  writeFileSync(await stateFile(s.tree), JSON.stringify(s, null, 2) + '\n');
}

export async function bisectInProgress(tree: string): Promise<boolean> {
  return existsSync(resolve(await gitDir(tree), 'BISECT_START'));
}

/** "abc123 is the first bad commit" / "only 'skip'ped commits left" / still going. */
export function parseBisectOutput(out: string): { done: 'culprit'; culprit: string } | { done: 'ambiguous'; candidates: string[] } | { done: false } {
  const m = /^([0-9a-f]{40}) is the first bad commit/m.exec(out);
  if (m) return { done: 'culprit', culprit: m[1] };
  if (/only 'skip'ped commits left to test/.test(out)) {
    const candidates = [...out.matchAll(/^([0-9a-f]{40})$/gm)].map((x) => x[1]);
    return { done: 'ambiguous', candidates };
  }
  return { done: false };
}

export interface BisectResult {
  outcome: 'culprit' | 'ambiguous' | 'endpoints';
  culprit?: string;
  candidates?: string[];
  /** Re-check: the culprit shows the signature and its parent passes. */
  confirmed?: boolean;
  message: string;
  state: BisectState;
}

async function checkout(tree: string, rev: string): Promise<void> {
  await git(tree, 'checkout', '-q', '--detach', rev);
}

/** Starts (or resumes) and finishes a bisect. `deps.build` builds whatever is checked out at `rev`. */
export async function runBisect(o: {
  tree: string; good?: string; bad?: string; tests: string[]; policy: Policy; fragments: string[];
  deps: StepDeps; resume?: boolean; say: (l: string) => void;
}): Promise<BisectResult> {
  const { tree, deps, say } = o;
  let state: BisectState;
  if (o.resume) {
    const s = await loadState(tree);
    if (!s || !(await bisectInProgress(tree))) throw new BisectError(`no pidfd-matrix bisect to resume in ${tree} (start one with --good and --bad)`);
    state = s;
    say(`resuming the bisect of ${state.tests.join(',')} in ${tree}: ${state.steps.length} step(s) done, signature: ${state.signature?.join('; ') ?? '(none yet)'}`);
  } else {
    if (await bisectInProgress(tree)) throw new BisectError(`${tree} is already bisecting; resume with --resume, or end it with 'git -C ${tree} bisect reset'`);
    if (await git(tree, 'status', '--porcelain', '--untracked-files=no')) throw new BisectError(`${tree} has uncommitted changes; commit or stash them (git bisect checks out other revisions)`);
    const good = await git(tree, 'rev-parse', '--verify', `${o.good}^{commit}`);
    const bad = await git(tree, 'rev-parse', '--verify', `${o.bad}^{commit}`);
    const origin = (await git(tree, 'symbolic-ref', '-q', '--short', 'HEAD').catch(() => '')) || (await git(tree, 'rev-parse', 'HEAD'));
    state = { schema: 1, tree, good, bad, tests: o.tests, policy: o.policy, fragments: o.fragments, signature: null, origin, steps: [] };
    await git(tree, 'bisect', 'start');
    await saveState(state);
  }
  const record = async (r: StepRecord) => {
    state.steps.push(r);
    await saveState(state);
  };
  const judge = async (rev: string, role: StepRecord['role'], sig: string[] | null) => {
    say(`${role} ${rev.slice(0, 12)} ${await subject(tree, rev)}`);
    const r = { ...(await evaluate(rev, deps, state.policy, sig)), role };
    say(`${role} ${rev.slice(0, 12)}: ${r.verdict} (${r.why})`);
    await record(r);
    return r;
  };

  // --- endpoint checks: bad must fail (its failure is the signature), good must pass.
  if (state.signature === null) {
    await checkout(tree, state.bad);
    const b = await judge(state.bad, 'bad endpoint', null);
    if (b.verdict !== 'bad') return endpointsFailed(state, `the bad endpoint ${state.bad.slice(0, 12)} does not fail ${state.tests.join(',')}: ${b.verdict} (${b.why}); nothing to bisect`);
    await checkout(tree, state.good);
    const g = await judge(state.good, 'good endpoint', null);
    if (g.verdict !== 'good') return endpointsFailed(state, `the good endpoint ${state.good.slice(0, 12)} is not good: ${g.verdict} (${g.why}); pick a good revision that passes ${state.tests.join(',')}`);
    state.signature = b.signature;
    await saveState(state);
    say(`signature of the bad endpoint: ${state.signature!.join('; ')}`);
    await mark(tree, 'bad', state.bad);
    const out = await mark(tree, 'good', state.good);
    say(firstLine(out));
    const p = parseBisectOutput(out);
    if (p.done) return finish(tree, state, p, deps, say);
  }

  // --- the steps: git has checked out the next revision to test.
  for (;;) {
    const rev = await git(tree, 'rev-parse', 'HEAD');
    const r = await judge(rev, 'step', state.signature);
    const out = await mark(tree, r.verdict, rev);
    say(firstLine(out));
    const p = parseBisectOutput(out);
    if (p.done) return finish(tree, state, p, deps, say);
  }
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim()) ?? '';
}

async function subject(tree: string, rev: string): Promise<string> {
  return git(tree, 'log', '-1', '--format=%s', rev).catch(() => '');
}

async function endpointsFailed(state: BisectState, message: string): Promise<BisectResult> {
  await resetBisect(state);
  return { outcome: 'endpoints', message, state };
}

/** Ends the git bisect session and returns the tree to where the user was. */
export async function resetBisect(state: BisectState): Promise<void> {
  await git(state.tree, 'bisect', 'reset', state.origin).catch(() => git(state.tree, 'bisect', 'reset'));
}

/** Synchronous variant for signal handlers. */
export function resetBisectSync(state: BisectState): void {
  execFileSync('git', ['-C', state.tree, 'bisect', 'reset', state.origin], { stdio: 'ignore' });
}

async function finish(tree: string, state: BisectState, p: Exclude<ReturnType<typeof parseBisectOutput>, { done: false }>, deps: StepDeps, say: (l: string) => void): Promise<BisectResult> {
  const log = await git(tree, 'bisect', 'log');
  writeFileSync(resolve(await gitDir(tree), 'pidfd-matrix-bisect.log'), log + '\n');
  if (p.done === 'ambiguous') {
    await resetBisect(state);
    return { outcome: 'ambiguous', candidates: p.candidates, message: `only skipped commits are left: the first bad commit is one of ${p.candidates.map((c) => c.slice(0, 12)).join(', ')} (they did not build, boot or show the same failure)`, state };
  }
  // Re-check, as KernelCI does: the culprit fails the same way and its parent passes.
  const culprit = p.culprit;
  const parent = await git(tree, 'rev-parse', `${culprit}^`);
  const recheck = async (rev: string, role: StepRecord['role']) => {
    await checkout(tree, rev);
    say(`${role} ${rev.slice(0, 12)} ${await subject(tree, rev)}`);
    const r = { ...(await evaluate(rev, deps, state.policy, state.signature)), role };
    say(`${role} ${rev.slice(0, 12)}: ${r.verdict} (${r.why})`);
    state.steps.push(r);
    await saveState(state);
    return r;
  };
  const c = await recheck(culprit, 'culprit re-check');
  const par = await recheck(parent, 'parent re-check');
  await resetBisect(state);
  const confirmed = c.verdict === 'bad' && par.verdict === 'good';
  const message = confirmed
    ? `first bad commit: ${culprit.slice(0, 12)} ${await subject(tree, culprit)} (re-checked: it fails the same way, its parent ${parent.slice(0, 12)} passes)`
    : `git names ${culprit.slice(0, 12)} ${await subject(tree, culprit)}, but the re-check disagrees: culprit ${c.verdict}, parent ${par.verdict} (a flaky test? raise --tries)`;
  return { outcome: 'culprit', culprit, confirmed, message, state };
}
