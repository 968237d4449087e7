// The parse phase on recorded streams: answers are judged on the host; a case running when
// the stream stops is named; the cases after it are errors that say why they did not run.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCases, loadCatalog } from '../judge/catalog.js';
import { judgeStream, parseStream, planFor } from './stream.js';
import { repoPath } from '../../suites/lib/paths.js';
import { registeredSuites } from '../../suites/lib/feature-test.js';

const facts = { release: '6.1.0-50-amd64', procVersion: 'Linux version 6.1.0-50-amd64 (debian-kernel@lists.debian.org) #1 SMP PREEMPT_DYNAMIC Debian 6.1.153-1 (2025-09-20)', versionSignature: '', arch: 'x86_64', uid: 0, root: true, capSysAdmin: true, seccomp: 0, lsms: [], selinux: 'disabled', container: null, hostname: 'virtme-ng' };
const cases = allCases(loadCatalog()).filter((c) => c.feature === 'pidfd_open');
const ids = cases.map((c) => c.id);
const L = (o: object) => JSON.stringify(o);
const rerun = (id: string) => `npx pidfd-matrix matrix --kernels bookworm --test ${id}`;

describe('judgeStream', () => {
  it('judges answers with the version derived on the host from /proc/version', () => {
    const text = [L({ t: 'facts', facts }), L({ t: 'start', id: ids[0], at: 1 }), L({ t: 'done', id: ids[0], observed: { result: 'fd', cloexec: true }, durationMs: 3 }), L({ t: 'end', exit: 0, at: 2 })].join('\n');
    const j = judgeStream(cases.slice(0, 1), parseStream(text), { rerun });
    expect(j.error).toBeNull();
    expect(j.facts).toMatchObject({ version: [6, 1, 153], versionSource: expect.stringMatching(/^\/proc\/version/) });
    expect(j.cases[0]).toMatchObject({ id: ids[0], status: 'pass', expected: 'with', durationMs: 3, rerun: rerun(ids[0]) });
  });

  it('a guest that panicked mid-suite keeps the answers before it and names the running case', () => {
    // The last line was cut short by the panic: it is dropped, not fatal.
    const text = [L({ t: 'facts', facts }), L({ t: 'start', id: ids[0], at: 1 }), L({ t: 'done', id: ids[0], observed: { result: 'fd', cloexec: true }, durationMs: 3 }), L({ t: 'start', id: ids[1], at: 2 }), '{"t":"do'].join('\n');
    const s = parseStream(text);
    expect(s).toMatchObject({ running: ids[1], unreadable: 1, end: null });
    const j = judgeStream(cases, s, { rerun, stopped: 'kernel panic: sysrq triggered crash' });
    expect(j.error).toBe(`kernel panic: sysrq triggered crash (while ${ids[1]} was running)`);
    expect(j.cases[0].status).toBe('pass');
    expect(j.cases[1]).toMatchObject({ status: 'error', reason: `${ids[1]} was running when the run stopped: kernel panic: sysrq triggered crash` });
    for (const c of j.cases.slice(2)) expect(c).toMatchObject({ status: 'error', reason: `not run: kernel panic: sysrq triggered crash (while ${ids[1]} was running)` });
  });

  it('errors from the runner stay errors; a stream without its end line is a cell error', () => {
    const text = [L({ t: 'facts', facts }), L({ t: 'start', id: ids[0], at: 1 }), L({ t: 'error', id: ids[0], reason: 'no answer within 20 s; stuck in x, in waitid', durationMs: 20000 })].join('\n');
    const j = judgeStream(cases.slice(0, 1), parseStream(text), { rerun, exit: 1 });
    expect(j.cases[0]).toMatchObject({ status: 'error', reason: 'no answer within 20 s; stuck in x, in waitid', durationMs: 20000 });
    expect(j.error).toBe('the probe supervisor stopped without finishing (exit 1)');
    expect(judgeStream(cases.slice(0, 1), parseStream(''), { rerun, exit: 0 }).error).toBe('the probe wrote no observations (exit 0)');
  });

  it('the plan carries each case\'s deadline: the catalog\'s, or the default', () => {
    const plan = planFor([{ ...cases[0], deadline: 60 }, cases[1]], '/s', { kmsg: true });
    expect(plan.cases.map((c) => c.deadlineMs)).toEqual([60_000, 20_000]);
  });
});

describe('suites/ observe, harness/ judges', () => {
  it('no file under suites/ imports harness/', () => {
    const offenders: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && /from '(\.\.\/)+harness\//.test(readFileSync(p, 'utf8'))) offenders.push(p);
      }
    };
    walk(repoPath('suites'));
    expect(offenders).toEqual([]);
  });

  it('every catalog case has a probe and every probe a catalog case', async () => {
    for (const f of readdirSync(repoPath('suites')).filter((n) => n.endsWith('.probe.ts'))) await import(repoPath('suites', f));
    const probes = [...registeredSuites().values()].flatMap((s) => Object.keys(s.probes).map((k) => `${s.featureId}/${k}`)).sort();
    expect(probes).toEqual(allCases(loadCatalog()).map((c) => c.id).sort());
  });
});

describe('a recorded real guest: trixie 6.12 with a hung probe and a sysrq panic', () => {
  const dir = repoPath('harness/fixtures/streams/trixie-faults');
  const s = parseStream(readFileSync(join(dir, 'observations.jsonl'), 'utf8'));
  const all = allCases(loadCatalog());
  const j = judgeStream(all, s, { rerun, stopped: 'kernel panic: sysrq triggered crash' });
  const byId = new Map(j.cases.map((c) => [c.id, c]));

  it('the hung case is an error naming its deadline and syscall; the panic names the running case', () => {
    expect(byId.get('pidfd_getfd/esrch_zombie')).toMatchObject({ status: 'error', reason: expect.stringMatching(/^no answer within 20 s; stuck in pidfd_getfd\/esrch_zombie, in waitid \(wchan do_wait\)/) });
    expect(s.running).toBe('pidfd_open/self');
    expect(j.error).toBe('kernel panic: sysrq triggered crash (while pidfd_open/self was running)');
  });

  it('every case before the panic kept its answer, and the same verdict as stored', () => {
    // The catalog may have grown since the recording: count the cases the stream answered.
    const p = all.findIndex((c) => c.id === 'pidfd_open/self');
    const before = j.cases.filter((c) => s.answers.has(c.id) && c.id !== 'pidfd_getfd/esrch_zombie');
    const known = [...s.answers.keys()].filter((id) => id !== 'pidfd_getfd/esrch_zombie' && all.some((c) => c.id === id));
    expect(before.length).toBe(known.length);
    expect(before.length).toBeGreaterThan(60); // 70 when recorded
    // A case the runner left out for a need the catalog has dropped since is an error saying so.
    const notRun = (c: { observed: Record<string, unknown> }) => typeof c.observed.not_run === 'string';
    expect(before.filter((c) => c.status === 'error' && !notRun(c))).toEqual([]);
    for (const c of before.filter(notRun)) expect(c.reason).toMatch(/not probed in this run .*the catalog's needs changed since: rerun it$/);
    const stored = new Map((JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')).cases as { id: string; status: string }[]).map((c) => [c.id, c.status]));
    expect(before.filter((c) => !notRun(c) && stored.get(c.id) !== c.status).map((c) => c.id)).toEqual([]);
    expect(j.cases.slice(p + 1).every((c) => c.status === 'error' && c.reason.startsWith('not run: kernel panic'))).toBe(true);
    expect(j.cases.slice(0, p).every((c) => s.answers.has(c.id) || c.reason.startsWith('not run: kernel panic'))).toBe(true);
  });
});
