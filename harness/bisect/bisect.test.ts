// The bisect driver's logic with fake build and boot steps: verdicts, signatures, tries, 125
// on build and boot failures, endpoint checks, and a whole `git bisect` over a real (tiny) git
// history where one commit breaks the build and a later one breaks a pidfd behaviour.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY, EXIT, differingFields, evaluate, outcomeOfCell, sameSignature, signatureEntry, stepTable, volatileSpec,
  type BuildStep, type StepDeps, type TryOutcome, type VolatileOf,
} from './bisect.js';
import { allCases, loadCatalog, parseCatalog } from '../judge/catalog.js';
import { bisectInProgress, loadState, parseBisectOutput, runBisect } from './bisect-git.js';
import type { CaseResult, CellResult } from '../results.js';
import { bisectStepCommand } from '../commands/bisect.js';

const SIG = ['pidfd_open/invalid_flags: errno="0"'];
const ok = (): BuildStep => ({ ok: true, kimg: '/k', seconds: 1, cached: false });
const clean: TryOutcome = { kind: 'clean', seconds: 2 };
const failing = (sig = SIG): TryOutcome => ({ kind: 'failed', signature: sig, seconds: 2 });
const unclear: TryOutcome = { kind: 'unclear', reason: 'boot failure: no login', seconds: 2 };

/** Deps whose runs return the given outcomes in order. */
function scripted(build: BuildStep, runs: TryOutcome[]): StepDeps & { calls: number } {
  const d = {
    calls: 0,
    build: async () => build,
    runTests: async () => runs[Math.min(d.calls++, runs.length - 1)],
  };
  return d;
}

describe('one step: verdicts and exit codes', () => {
  it('good only after `tries` clean runs', async () => {
    const d = scripted(ok(), [clean]);
    const r = await evaluate('r', d, { tries: 3, maxUnclear: 2 }, SIG);
    expect([r.verdict, r.exitCode, d.calls]).toEqual(['good', EXIT.good, 3]);
  });
  it('bad at the first run that reproduces the signature', async () => {
    const d = scripted(ok(), [clean, failing()]);
    const r = await evaluate('r', d, DEFAULT_POLICY, SIG);
    expect([r.verdict, r.exitCode, d.calls, r.signature]).toEqual(['bad', 1, 2, SIG]);
  });
  it('125 when the kernel does not build, without booting', async () => {
    const d = scripted({ ok: false, reason: 'build failed (build: make bzImage exited 2): x.c: error: y', seconds: 3 }, [clean]);
    const r = await evaluate('r', d, DEFAULT_POLICY, SIG);
    expect([r.verdict, r.exitCode, d.calls]).toEqual(['skip', 125, 0]);
    expect(r.why).toMatch(/^build failed/);
  });
  it('125 when it does not boot, after one retry', async () => {
    const d = scripted(ok(), [unclear]);
    const r = await evaluate('r', d, DEFAULT_POLICY, SIG);
    expect([r.verdict, r.exitCode, d.calls]).toEqual(['skip', 125, 2]);
    expect(r.why).toContain('boot failure');
  });
  it('125 for a different failure, never bad', async () => {
    const other = ['pidfd_getfd/esrch_zombie: errno="EBADF"'];
    const r = await evaluate('r', scripted(ok(), [failing(other)]), DEFAULT_POLICY, SIG);
    expect([r.verdict, r.exitCode, r.signature]).toEqual(['skip', 125, other]);
    expect(r.why).toMatch(/different failure/);
  });
  it('a flaky unclear run does not hide a good verdict', async () => {
    const d = scripted(ok(), [clean, unclear, clean, clean]);
    const r = await evaluate('r', d, DEFAULT_POLICY, SIG);
    expect([r.verdict, d.calls]).toEqual(['good', 4]);
  });
  it('without a signature yet (endpoint check) any failure is bad and becomes the signature', async () => {
    const r = await evaluate('r', scripted(ok(), [failing(['x/y: errno="EBADF"'])]), DEFAULT_POLICY, null);
    expect([r.verdict, r.signature]).toEqual(['bad', ['x/y: errno="EBADF"']]);
  });
});

describe('signatures from results', () => {
  const kase = (over: Partial<CaseResult>): CaseResult => ({
    id: 'pidfd_open/invalid_flags', feature: 'pidfd_open', case: 'invalid_flags', area: 'core', title: '', status: 'fail', reason: '',
    expected: 'with', expectedAnswer: { errno: 'EINVAL' }, observed: { errno: '0', pid: 4711 }, durationMs: 1, rerun: '', ...over,
  });
  const cell = (cases: CaseResult[], error: CellResult['error'] = null) => ({ cases, error }) as unknown as CellResult;
  it('names the test and only the fields that differ from the expected answer', () => {
    expect(signatureEntry(kase({}))).toBe('pidfd_open/invalid_flags: errno="0"');
    expect(differingFields({ errno: 'ESRCH' }, [{ errno: 'EBADF', x: 1 }, { errno: 'ESRCH', x: 1 }])).toEqual(['x=null']);
  });
  it('maps cells: error -> unclear, skip -> unclear, fail/xfail -> failed, pass -> clean', () => {
    expect(outcomeOfCell(cell([], { reason: 'panic' }), 1).kind).toBe('unclear');
    expect(outcomeOfCell(cell([kase({ status: 'skip', reason: 'needs root' })]), 1).kind).toBe('unclear');
    expect(outcomeOfCell(cell([kase({ status: 'xfail' })]), 1)).toEqual({ kind: 'failed', signature: SIG, seconds: 1 });
    expect(outcomeOfCell(cell([kase({ status: 'pass' })]), 1).kind).toBe('clean');
    expect(outcomeOfCell(cell([]), 1).kind).toBe('unclear');
  });
});

describe('signatures with volatile fields (catalog volatile:)', () => {
  // The real catalog: fdinfo_pid's Pid: line is expected to be the class matches_child; a broken
  // kernel's line is some other pid, a new one every boot (issue 22 item 4: 86, then 81, 82...).
  const catalog = new Map(allCases(loadCatalog()).map((c) => [c.id, c]));
  const volatileOf: VolatileOf = (id) => volatileSpec(catalog.get(id)!);
  const kase = (id: string, observed: CaseResult['observed'], over: Partial<CaseResult> = {}): CaseResult => ({
    id, feature: id.split('/')[0], case: id.split('/')[1], area: 'open', title: '', status: 'fail', reason: '',
    expected: 'with', expectedAnswer: catalog.get(id)!.with, observed, durationMs: 1, rerun: '', ...over,
  });
  const cell = (...cases: CaseResult[]) => ({ cases, error: null }) as unknown as CellResult;
  const failed = (c: CaseResult) => outcomeOfCell(cell(c), 1, volatileOf) as Extract<TryOutcome, { kind: 'failed' }>;
  const offByOne = (child: number) => kase('fdinfo_pid/pid_line', { pid_line: String(child + 1), child, fdinfo: `Pid:\t${child + 1}` });

  it('the catalog marks fdinfo_pid/pid_line volatile, with the classes its answers name', () => {
    expect(volatileOf('fdinfo_pid/pid_line')).toEqual({ fields: ['pid_line'], classes: { pid_line: ['matches_child', 'missing'] } });
    expect(volatileOf('pidfd_open/einval_flags')).toBeUndefined();
  });
  it('two boots with different pids give the same signature; the pids are recorded, not compared', () => {
    const a = failed(offByOne(85));
    const b = failed(offByOne(80));
    expect(a.signature).toEqual(['fdinfo_pid/pid_line: pid_line expected matches_child, got another value']);
    expect(sameSignature(a.signature, b.signature)).toBe(true);
    expect([a.values, b.values]).toEqual([['fdinfo_pid/pid_line: pid_line="86"'], ['fdinfo_pid/pid_line: pid_line="81"']]);
    // Without the catalog's volatile mark the raw pid is the signature, and the steps differ.
    expect(signatureEntry(offByOne(85))).toBe('fdinfo_pid/pid_line: pid_line="86"');
  });
  it('a class the catalog names stays itself: a missing Pid: line is another failure than another pid', () => {
    const missing = failed(kase('fdinfo_pid/pid_line', { pid_line: 'missing', child: 85 }));
    expect(missing.signature).toEqual(['fdinfo_pid/pid_line: pid_line expected matches_child, got missing']);
    expect(missing.values).toEqual(['fdinfo_pid/pid_line: pid_line="missing"']);
    expect(sameSignature(missing.signature, failed(offByOne(85)).signature)).toBe(false);
  });
  it('a different errno gives a different signature, also where the answer expects no errno', () => {
    const clone = (errno: string) => failed(kase('fdinfo_pid/pid_line', { errno, step: 'clone' }));
    expect(clone('EAGAIN').signature).toEqual(['fdinfo_pid/pid_line: pid_line expected matches_child, got no value errno="EAGAIN"']);
    expect(sameSignature(clone('EAGAIN').signature, clone('ENOMEM').signature)).toBe(false);
    expect(sameSignature(clone('EAGAIN').signature, failed(offByOne(85)).signature)).toBe(false);
    // waitid(WNOHANG) on a live child: si_pid 0 expected, volatile; the errno is not.
    const wnohang = (o: CaseResult['observed']) => failed(kase('pidfd_nonblock/wnohang_returns_zero', o)).signature;
    expect(wnohang({ result: 0, si_pid: 4711 })).toEqual(wnohang({ result: 0, si_pid: 93 }));
    expect(wnohang({ errno: 'EAGAIN' })).not.toEqual(wnohang({ errno: 'ECHILD' }));
    expect(sameSignature(failed(kase('pidfd_open/einval_flags', { errno: 'EPERM' })).signature,
      failed(kase('pidfd_open/einval_flags', { result: 'fd' })).signature)).toBe(false);
  });
  it('a step whose pid differs from the bad endpoint\'s is bad, not "a different failure"', async () => {
    const endpoint = failed(offByOne(85));
    const r = await evaluate('r', scripted(ok(), [clean, failed(offByOne(80))]), DEFAULT_POLICY, endpoint.signature);
    expect([r.verdict, r.exitCode, r.signature, r.values]).toEqual(['bad', EXIT.bad, endpoint.signature, ['fdinfo_pid/pid_line: pid_line="81"']]);
    expect(stepTable([r])).toContain('got another value [fdinfo_pid/pid_line: pid_line="81"]');
  });
  it('the catalog refuses a volatile key no answer has, and a case\'s own list replaces its feature\'s', () => {
    const yaml = (featVol: string, caseVol = '') => `features:
  - { id: f, title: t, area: a, introduced: "5.3", without: { x: missing }, ${featVol}
      cases: [ { id: c, probe: p, with: { x: matches_child, y: 1 } ${caseVol} }, { id: d, probe: p, with: { y: 2 } } ] }`;
    const cases = (text: string) => parseCatalog(text).flatMap((f) => f.cases).map((c) => c.volatile);
    expect(cases(yaml('volatile: [x],'))).toEqual([['x'], ['x']]);
    expect(cases(yaml('volatile: [x],', ', volatile: [y]'))).toEqual([['y'], ['x']]);
    expect(cases(yaml(''))).toEqual([[], []]);
    expect(() => parseCatalog(yaml('volatile: [pid],'))).toThrow(/'volatile' names pid, which no 'with' or 'without' answer here has/);
    expect(() => parseCatalog(yaml('volatile: x,'))).toThrow(/'volatile' must be a non-empty list of observation keys/);
    expect(() => parseCatalog(yaml('', ', volatile: [z]'))).toThrow(/cases\[0\] \(c\): 'volatile' names z/);
  });
});

describe('git bisect over a real history (fake build and boot)', () => {
  let tree: string;
  const git = (...a: string[]) => execFileSync('git', ['-C', tree, ...a], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();
  const revs: Record<string, string> = {};
  beforeAll(() => {
    tree = mkdtempSync(join(tmpdir(), 'pidfd-matrix-bisect-'));
    git('init', '-q', '-b', 'main');
    const commit = (name: string, edit: () => void) => { edit(); git('add', '-A'); git('commit', '-qm', name); revs[name] = git('rev-parse', 'HEAD'); };
    commit('base', () => writeFileSync(join(tree, 'behaviour'), 'ok\n'));
    for (let i = 1; i <= 13; i++) {
      const name = i === 4 ? 'break the build' : i === 5 ? 'fix the build' : i === 9 ? 'pidfd_open: accept any flag' : `harmless ${i}`;
      commit(name, () => {
        writeFileSync(join(tree, `file${i}`), `${i}\n`);
        if (i === 4) writeFileSync(join(tree, 'BROKEN_BUILD'), '');
        if (i === 5) rmSync(join(tree, 'BROKEN_BUILD'));
        if (i === 9) writeFileSync(join(tree, 'behaviour'), 'broken\n');
      });
    }
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  /** Builds and "boots" whatever is checked out, as the real steps do. */
  const deps = (o: { interruptAt?: number } = {}): StepDeps => {
    let runs = 0;
    return {
      build: async () => (existsSync(join(tree, 'BROKEN_BUILD'))
        ? { ok: false, reason: 'build failed (build: make bzImage exited 2): BROKEN_BUILD', seconds: 1 }
        : { ok: true, kimg: git('rev-parse', 'HEAD'), seconds: 1, cached: false }),
      runTests: async () => {
        if (o.interruptAt !== undefined && ++runs >= o.interruptAt) throw new Error('interrupted');
        return readFileSync(join(tree, 'behaviour'), 'utf8').startsWith('broken') ? failing() : clean;
      },
    };
  };

  it('names the breaking commit, skips the one that does not build, re-checks, and resets', async () => {
    const lines: string[] = [];
    const r = await runBisect({ tree, good: revs.base, bad: 'main', tests: ['pidfd_open'], policy: { tries: 2, maxUnclear: 2 }, fragments: [], deps: deps(), say: (l) => lines.push(l) });
    expect(r.outcome).toBe('culprit');
    expect(r.culprit).toBe(revs['pidfd_open: accept any flag']);
    expect(r.confirmed).toBe(true);
    expect(r.message).toMatch(/first bad commit: .* pidfd_open: accept any flag \(re-checked/);
    expect(r.state.signature).toEqual(SIG);
    const roles = r.state.steps.map((s) => s.role);
    expect(roles.slice(0, 2)).toEqual(['bad endpoint', 'good endpoint']);
    expect(roles.slice(-2)).toEqual(['culprit re-check', 'parent re-check']);
    // The tree is back on its branch, with no bisect in progress.
    expect(await bisectInProgress(tree)).toBe(false);
    expect(git('symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(stepTable(r.state.steps)).toMatch(/revision\s+role\s+subject\s+build s\s+boot s\s+verdict/);
  });

  it('follows a bug whose observed value varies from boot to boot (a pid) to its commit', async () => {
    // Each "boot" gives the child another pid, and the broken kernels an off-by-one Pid: line.
    const id = 'fdinfo_pid/pid_line';
    const c = allCases(loadCatalog()).find((x) => x.id === id)!;
    let child = 80;
    const d = deps();
    d.runTests = async () => {
      child += 3;
      const broken = readFileSync(join(tree, 'behaviour'), 'utf8').startsWith('broken');
      const observed = { pid_line: broken ? String(child + 1) : 'matches_child', child };
      const kase = { id, feature: 'fdinfo_pid', case: 'pid_line', area: 'open', title: '', status: broken ? 'fail' : 'pass', reason: '',
        expected: 'with', expectedAnswer: c.with, observed, durationMs: 1, rerun: '' } as CaseResult;
      return outcomeOfCell({ cases: [kase], error: null } as unknown as CellResult, 1, (x) => (x === id ? volatileSpec(c) : undefined));
    };
    const r = await runBisect({ tree, good: revs.base, bad: 'main', tests: [id], policy: { tries: 2, maxUnclear: 2 }, fragments: [], deps: d, say: () => {} });
    expect(r.state.signature).toEqual([`${id}: pid_line expected matches_child, got another value`]);
    expect([r.outcome, r.culprit, r.confirmed]).toEqual(['culprit', revs['pidfd_open: accept any flag'], true]);
    const bad = r.state.steps.filter((s) => s.verdict === 'bad');
    expect(bad.length).toBeGreaterThan(2);
    expect(new Set(bad.map((s) => s.values![0])).size).toBe(bad.length); // every boot its own pid, all "bad"
    expect(r.state.steps.some((s) => /different failure/.test(s.why))).toBe(false);
  });

  it('skips a commit that does not build (125); only skipped commits left is said, not guessed', async () => {
    // Pretend 'fix the build' is the regression: the only other candidate does not build.
    const d = deps();
    d.runTests = async () => (existsSync(join(tree, 'file5')) ? failing() : clean);
    const r = await runBisect({ tree, good: revs['harmless 3'], bad: revs['fix the build'], tests: ['t'], policy: { tries: 1, maxUnclear: 1 }, fragments: [], deps: d, say: () => {} });
    const broken = r.state.steps.find((s) => s.rev === revs['break the build'])!;
    expect([broken.verdict, broken.exitCode]).toEqual(['skip', 125]);
    expect(broken.why).toMatch(/^build failed/);
    expect(r.outcome).toBe('ambiguous');
    expect(r.candidates).toEqual(expect.arrayContaining([revs['break the build'], revs['fix the build']]));
    expect(await bisectInProgress(tree)).toBe(false);
  });

  it('stops at the endpoint checks when the bad revision passes', async () => {
    const r = await runBisect({ tree, good: revs.base, bad: revs['harmless 3'], tests: ['t'], policy: DEFAULT_POLICY, fragments: [], deps: deps(), say: () => {} });
    expect(r.outcome).toBe('endpoints');
    expect(r.message).toMatch(/bad endpoint .* does not fail/);
    expect(await bisectInProgress(tree)).toBe(false);
  });

  it('stops at the endpoint checks when the good revision fails', async () => {
    const r = await runBisect({ tree, good: revs['harmless 10'], bad: 'main', tests: ['t'], policy: DEFAULT_POLICY, fragments: [], deps: deps(), say: () => {} });
    expect(r.outcome).toBe('endpoints');
    expect(r.message).toMatch(/good endpoint .* is not good/);
  });

  it('an interrupted bisect stays resumable and resumes to the same culprit', async () => {
    await expect(runBisect({ tree, good: revs.base, bad: 'main', tests: ['t'], policy: { tries: 1, maxUnclear: 1 }, fragments: [], deps: deps({ interruptAt: 4 }), say: () => {} })).rejects.toThrow('interrupted');
    expect(await bisectInProgress(tree)).toBe(true);
    expect((await loadState(tree))!.signature).toEqual(SIG);
    const r = await runBisect({ tree, tests: ['t'], policy: { tries: 1, maxUnclear: 1 }, fragments: [], deps: deps(), resume: true, say: () => {} });
    expect(r.culprit).toBe(revs['pidfd_open: accept any flag']);
    expect(await bisectInProgress(tree)).toBe(false);
  });

  it('reads git bisect output', () => {
    expect(parseBisectOutput(`${'a'.repeat(40)} is the first bad commit\ncommit ...`)).toEqual({ done: 'culprit', culprit: 'a'.repeat(40) });
    expect(parseBisectOutput(`There are only 'skip'ped commits left to test.\nThe first bad commit could be any of:\n${'b'.repeat(40)}\n${'c'.repeat(40)}\nWe cannot bisect more!`))
      .toEqual({ done: 'ambiguous', candidates: ['b'.repeat(40), 'c'.repeat(40)] });
    expect(parseBisectOutput('Bisecting: 3 revisions left to test after this (roughly 2 steps)').done).toBe(false);
  });
});

describe('bisect-step as a git bisect run script', () => {
  it('exits 128 (abort), never 1 (bad), when it cannot judge', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pidfd-matrix-step-'));
    try {
      execFileSync('git', ['init', '-q', dir]);
      expect(await bisectStepCommand.run(['--tree', dir])).toBe(128);                        // no tests, no state
      expect(await bisectStepCommand.run(['--tree', dir, '--test', 'pidfd_open'])).toBe(128); // no signature
      expect(await bisectStepCommand.run(['--tree', dir, '--bogus'])).toBe(128);              // bad option
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
