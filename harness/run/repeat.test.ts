// --repeat N: the runner runs every case N times in one process tree (one boot), each run with
// its own deadline; the host groups the runs by their answer in the catalog's terms. A fake probe
// whose answer flips is an error ("unstable"), never a pass; a steady one that differs only in a
// volatile value (a pid) is one answer, "N/N runs".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCases, loadCatalog, parseCatalog } from '../judge/catalog.js';
import { cellFromStream } from './run-suite.js';
import { judgeStream, parseStream, planFor } from './stream.js';
import { watchRepeats } from './repeat-progress.js';
import { withRepeat } from '../commands/rerun.js';
import { rejudgeCell } from '../judge/rejudge.js';
import type { CellResult } from '../results.js';
import { repoPath } from '../../suites/lib/paths.js';
import { featureSuite } from '../../suites/lib/feature-test.js';
import { runPlan } from '../../suites/lib/runner.js';
import { STREAM_FILE, type Plan, type StreamLine } from '../../suites/lib/plan.js';

const FAKE = `features:
  - id: repeat_fake
    title: a fake feature for the --repeat tests
    area: test
    introduced: "3.0"
    cases:
      - id: flip
        probe: "answers ESRCH, every fourth run EAGAIN, with a different pid each run"
        with: { errno: ESRCH }
      - id: steady
        probe: "answers ESRCH with a different pid each run"
        with: { errno: ESRCH }
      - id: volatile_pid
        probe: "every third run a raw pid (a different one each time) instead of matches_child"
        volatile: [pid_line]
        with: { pid_line: matches_child }
`;
const fake = parseCatalog(FAKE, 'fake.yaml');
const cases = allCases(fake);

let flips = 0, steady = 0, vol = 0;
featureSuite('repeat_fake', {
  flip: () => ({ errno: ++flips % 4 === 0 ? 'EAGAIN' : 'ESRCH', pid: 1000 + flips }),
  steady: () => ({ errno: 'ESRCH', pid: 2000 + ++steady }),
  volatile_pid: () => ({ pid_line: ++vol % 3 === 0 ? String(3000 + vol) : 'matches_child' }),
});

let cell: CellResult;

describe('--repeat in one runner (the real runner, a fake probe)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-repeat-'));
  const stream = join(dir, STREAM_FILE);
  writeFileSync(join(dir, 'fake.yaml'), FAKE);

  it('a flipping answer is an error that counts each answer; a steady one passes "20/20 runs" despite its pids', async () => {
    writeFileSync(stream, '');
    await runPlan(planFor(cases, stream, { kmsg: false, repeat: 20 }), 0, { events: null });
    const text = readFileSync(stream, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as StreamLine);
    expect(lines.filter((l) => l.t === 'start')).toHaveLength(60);
    expect(lines.filter((l) => l.t === 'done' && l.id === 'repeat_fake/flip').map((l) => (l as { run?: number }).run)).toEqual([...Array(20).keys()]);
    cell = cellFromStream({
      kernelId: 'host', mode: 'host', cases, dir, exit: 0, stopped: null, rerunPrefix: 'npx pidfd-matrix probe', command: 'x', startedAt: new Date(), repeat: 20,
    });
    const [flip, stable, vola] = cell.cases;
    expect(flip.status).toBe('error');
    expect(flip.reason).toBe('repeat_fake/flip: unstable: 15/20 gave { errno: "ESRCH" } (pass), 5/20 gave { errno: "EAGAIN" } (fail)');
    expect(flip.repeat).toMatchObject({ runs: 20, planned: 20, answers: [{ count: 15, status: 'pass', firstRun: 0 }, { count: 5, status: 'fail', firstRun: 3 }] });
    expect(stable.status).toBe('pass');
    expect(stable.reason).toMatch(/^repeat_fake\/steady: as expected \(since 3\.0[;)].*, kernel .* \(20\/20 runs\)$/);
    expect(stable.repeat?.answers).toEqual([{ count: 20, status: 'pass', answer: { errno: 'ESRCH' }, firstRun: 0 }]);
    // A volatile key (catalog volatile:) is compared by class: six different raw pids are one answer.
    expect(vola.reason).toBe('repeat_fake/volatile_pid: unstable: 14/20 gave { pid_line: "matches_child" } (pass), 6/20 gave { pid_line: "another value" } (fail)');
    for (const c of cell.cases) expect(c.rerun).toBe(`npx pidfd-matrix probe --test ${c.id} --repeat 20`);
  });

  it('report --rejudge: one answer is judged again (N/N runs kept); unstable runs keep their error', () => {
    const same = rejudgeCell(cell, cases, []);
    expect(same.changes).toEqual([]);
    expect(same.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/repeat_fake\/flip: its 20 runs did not give one answer; the stored error stays/)]));
    const edited = allCases(parseCatalog(readFileSync(join(dir, 'fake.yaml'), 'utf8').replace('with: { errno: ESRCH }\n      - id: volatile_pid', 'with: { errno: EAGAIN }\n      - id: volatile_pid'), 'fake.yaml'));
    const after = rejudgeCell(cell, edited, []);
    expect(after.cell.cases[1]).toMatchObject({ status: 'fail', reason: expect.stringMatching(/\(20\/20 runs\)$/), repeat: { answers: [{ count: 20, status: 'fail' }] } });
    expect(after.cell.cases[0].status).toBe('error');
  });

  it('a stream cut short in the middle of the runs is an error that still counts the answers so far', () => {
    const facts = JSON.parse(readFileSync(stream, 'utf8').split('\n')[0]).facts;
    const L = (o: object) => JSON.stringify(o);
    const text = [L({ t: 'facts', facts }), ...[0, 1, 2].flatMap((run) => [L({ t: 'start', id: cases[1].id, at: 1, run }), L({ t: 'done', id: cases[1].id, observed: { errno: 'ESRCH' }, durationMs: 1, run })]),
      L({ t: 'start', id: cases[1].id, at: 2, run: 3 })].join('\n');
    const j = judgeStream([cases[1]], parseStream(text), { rerun: (id) => id, stopped: 'kernel panic: sysrq triggered crash', repeat: 10 });
    expect(j.cases[0]).toMatchObject({ status: 'error', reason: 'repeat_fake/steady: 3/10 runs answered before kernel panic: sysrq triggered crash; 3/3 gave { errno: "ESRCH" } (pass)' });
  });
});

describe('--repeat under the real supervisor (dist/, host kernel)', () => {
  it('the deadline applies per run: each hung run is its own error, the runs after it still answer', { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-repeat-sv-'));
    const pc = (c: string) => ({ id: `pidfd_open/${c}`, feature: 'pidfd_open', case: c, deadlineMs: 1500, needs: [] });
    const plan: Plan = { cases: [pc('einval_flags'), pc('self')], stream: join(dir, STREAM_FILE), kmsg: false, repeat: 2 };
    writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
    const r = spawnSync(process.execPath, [repoPath('dist/suites/lib/supervisor.js'), join(dir, 'plan.json')], { encoding: 'utf8', env: { ...process.env, PIDFD_MATRIX_HANG: 'pidfd_open/einval_flags' } });
    expect(r.status).toBe(0);
    const lines = readFileSync(plan.stream, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as StreamLine);
    const answers = lines.filter((l) => l.t === 'done' || l.t === 'error').map((l) => [l.t, l.id, (l as { run?: number }).run]);
    expect(answers).toEqual([['error', 'pidfd_open/einval_flags', 0], ['error', 'pidfd_open/einval_flags', 1], ['done', 'pidfd_open/self', 0], ['done', 'pidfd_open/self', 1]]);
    const real = allCases(loadCatalog(repoPath('suites/catalog'))).filter((c) => c.feature === 'pidfd_open' && ['einval_flags', 'self'].includes(c.case));
    const j = judgeStream(real, parseStream(readFileSync(plan.stream, 'utf8')), { rerun: (id) => id, repeat: 2 });
    const byId = new Map(j.cases.map((c) => [c.id, c]));
    expect(byId.get('pidfd_open/einval_flags')?.reason).toMatch(/^no answer within 1\.5 s; stuck in pidfd_open\/einval_flags.* \(2\/2 runs\)$/);
    expect(byId.get('pidfd_open/self')).toMatchObject({ status: 'pass', reason: expect.stringMatching(/\(2\/2 runs\)$/) });
  });
});

describe('progress and rerun lines', () => {
  it('says every few seconds how many runs of which case answered', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-repeat-p-'));
    const s = join(dir, STREAM_FILE);
    writeFileSync(s, '');
    const said: string[] = [];
    const w = watchRepeats(s, 1000, (l) => said.push(l), 60_000);
    appendFileSync(s, `${JSON.stringify({ t: 'start', id: 'a/b', at: 1, run: 0 })}\n${JSON.stringify({ t: 'done', id: 'a/b', observed: {}, durationMs: 1, run: 0 })}\n`);
    appendFileSync(s, `${JSON.stringify({ t: 'start', id: 'a/b', at: 1, run: 1 })}\n${JSON.stringify({ t: 'error', id: 'a/b', reason: 'x', run: 1 })}\n{"t":"sta`);
    w.poll();
    w.poll(); // nothing new: nothing said
    w.stop();
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/^repeat: a\/b 2\/1000 runs \(1 errors\), \d+ s$/);
  });

  it('rerun --repeat N replaces the recorded --repeat; N=1 drops it', () => {
    expect(withRepeat('npx pidfd-matrix probe --test a/b', 50)).toBe('npx pidfd-matrix probe --test a/b --repeat 50');
    expect(withRepeat('npx pidfd-matrix matrix --kernels trixie --test a/b --repeat 20', 1000)).toBe('npx pidfd-matrix matrix --kernels trixie --test a/b --repeat 1000');
    expect(withRepeat('npx pidfd-matrix probe --test a/b --repeat 20', 1)).toBe('npx pidfd-matrix probe --test a/b');
  });
});

describe('--repeat through the CLI (a host cell of the matrix, and rerun)', () => {
  it('matrix rerun lines carry --repeat N; rerun --repeat M replaces it', { timeout: 120_000 }, () => {
    const work = mkdtempSync(join(tmpdir(), 'pm-repeat-cli-'));
    writeFileSync(join(work, 'm.yaml'), 'kernels:\n  - id: here\n    source: host\n');
    const cli = (args: string[]) => spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), ...args], { encoding: 'utf8', cwd: work });
    const run = cli(['matrix', '--matrix', 'm.yaml', '--kernels', 'here', '--out', 'out', '--test', 'pidfd_open/self', '--repeat', '3']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const cell = JSON.parse(readFileSync(join(work, 'out', 'here', 'results.json'), 'utf8')) as import('../results.js').CellResult;
    expect(cell.rerun).toMatch(/ --test pidfd_open\/self --repeat 3$/);
    const self = cell.cases.find((c) => c.id === 'pidfd_open/self')!;
    expect(self).toMatchObject({ status: 'pass', reason: expect.stringMatching(/\(3\/3 runs\)$/), repeat: { runs: 3, planned: 3 } });
    expect(self.rerun).toMatch(/ --test pidfd_open\/self --repeat 3$/);
    const dry = cli(['rerun', 'here', '--results', join(work, 'out'), '--test', 'pidfd_open/self', '--repeat', '50', '--dry-run']);
    expect(dry.stdout).toContain(`$ ${self.rerun.replace('--repeat 3', '--repeat 50')}`);
    expect(cli(['probe', '--repeat', '0']).stderr).toMatch(/--repeat wants a whole number >= 1, got '0'/);
  });
});
