// The commit table (suites/catalog/commits.yaml), the catalog keys that name commits, and the
// judge deciding by commit answers where a cell has them (issue 19).
import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allCases, CatalogError, loadCatalog, parseCatalog } from './catalog.js';
import { COMMITS_PATH, CommitsError, findCommit, loadCommits, parseCommits, tableAnswer } from './commits.js';
import { expectationFor, judge } from './judge.js';
import type { KernelFacts } from '../results.js';
import { parseVersion } from './version.js';

const R4 = `commits:
  0fb482728ba1:
    subject: "pidfs: improve multi-threaded exec and premature thread-group leader exit polling"
    mainline: "6.15"
    stable:
      "6.12": { release: "6.12.31", evidence: "review [PATCH 6.12 097/626]" }
      "6.6": { taken: false, evidence: "git log --grep on a 6.6.y history finds nothing" }
      "6.14": { unknown: "not read" }
`;

describe('commits.yaml: the loader', () => {
  it('reads the shipped table, and every commit the shipped catalog names is in it', () => {
    const t = loadCommits();
    expect(findCommit(t, '0fb482728ba1')?.subject).toMatch(/premature thread-group leader/);
    const named = allCases(loadCatalog()).flatMap((c) => [...c.commits, ...c.broken.flatMap((b) => [...b.broke, ...b.fixed])]);
    expect(named.length).toBeGreaterThan(0);
    for (const s of named) expect(findCommit(t, s), s).not.toBeNull();
  });

  it('answers by series: mainline, first stable release, not taken, unknown', () => {
    const e = findCommit(parseCommits(R4), '0fb482728ba1')!;
    expect(tableAnswer(e, [6, 15, 0])).toEqual({ has: true, by: 'stable table: mainline 6.15 <= 6.15' });
    expect(tableAnswer(e, [6, 12, 31])).toEqual({ has: true, by: 'stable table: 6.12.31 <= 6.12.31' });
    expect(tableAnswer(e, [6, 12, 30])).toEqual({ has: false, by: 'stable table: 6.12.30 < 6.12.31' });
    expect(tableAnswer(e, [6, 6, 90]).has).toBe(false);
    expect(tableAnswer(e, [6, 14, 9]).has).toBeNull();
    expect(tableAnswer(e, [6, 1, 100])).toEqual({ has: null, by: 'stable table: 6.1 not listed for 0fb482728ba1 (first release in that series unknown)' });
    // A longer sha finds the 12-digit key, and the reverse.
    expect(findCommit(parseCommits(R4), '0fb482728ba1a2b3c4')).not.toBeNull();
  });

  it('refuses bad entries with the file, the entry and the fix', () => {
    const bad = (yaml: string) => () => parseCommits(yaml, 'commits.yaml');
    expect(bad('commits:\n  0fb48272:\n    subject: x\n    mainline: "6.15"\n')).toThrow(/commits\.0fb48272: the key must be an upstream commit id of 12 to 40/);
    expect(bad('commits:\n  0fb482728ba1:\n    subject: x\n    mainline: 6.15\n')).toThrow(/'mainline' must be the first mainline release containing it, quoted/);
    expect(bad('commits:\n  0fb482728ba1:\n    subject: x\n    mainline: "6.15"\n    stable:\n      "6.12": { release: "6.12.31" }\n'))
      .toThrow(/commits\.0fb482728ba1 stable\."6\.12": 'evidence' must be a non-empty string/);
    expect(bad('commits:\n  0fb482728ba1:\n    subject: x\n    mainline: "6.15"\n    stable:\n      "6.12": { release: "6.13.1", evidence: e }\n'))
      .toThrow(/release 6\.13\.1 is not in the 6\.12 series/);
    expect(bad('commits:\n  0fb482728ba1:\n    subject: x\n    mainline: "6.15"\n    stable:\n      "6.12": { release: "6.12.31", taken: false, evidence: e }\n'))
      .toThrow(/exactly one of release, taken: false or unknown/);
    expect(bad('commits:\n  0fb482728ba1:\n    subject: x\n    mainline: "6.15"\n    stable:\n      "6.16": { unknown: later }\n'))
      .toThrow(/series 6\.16 is at or after mainline 6\.15/);
    expect(bad('commits:\n  0fb482728ba1:\n    subject: x\n    mainline: "6.15"\n  0fb482728ba1ff:\n    subject: y\n    mainline: "6.15"\n'))
      .toThrow(/the same commit as 0fb482728ba1/);
    expect(bad('commits: [1, 2]')).toThrow(CommitsError);
  });

  it('a catalog naming a commit the table lacks is a load error naming both files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-commits-'));
    copyFileSync(COMMITS_PATH, join(dir, 'commits.yaml'));
    writeFileSync(join(dir, 'x.yaml'), `features:
  - id: x
    title: x
    area: x
    introduced: "6.15"
    commits: [0123456789ab]
    cases: [{ id: a, probe: p, with: { r: 1 } }]
`);
    expect(() => loadCatalog(dir)).toThrow(CatalogError);
    expect(() => loadCatalog(dir)).toThrow(/x: commit 0123456789ab is not in .*commits\.yaml: add it there/);
    expect(() => parseCatalog('features:\n  - { id: x, title: x, area: x, introduced: "6.1", commits: [xyz], cases: [{ id: a, probe: p, with: { r: 1 } }] }\n'))
      .toThrow(/'commits' must be a list of upstream commit ids/);
  });
});

describe('commits_unknown: a boundary that says why it names no commit', () => {
  const cat = (extra: string) => `features:
  - id: x
    title: x
    area: x
    introduced: "5.10"
    commits_unknown: "only the merge of the series is known"
    cases:
      - { id: a, probe: p, with: { r: 1 } }
      - { id: b, probe: p, with: { r: 1 }, introduced: "6.9" }
${extra}`;

  it('cases inherit the reason like commits; a case with its own introduced does not', () => {
    const [a, b] = parseCatalog(cat(''))[0].cases;
    expect(a.commitsUnknown).toBe('only the merge of the series is known');
    expect(a.commits).toEqual([]);
    expect(b.commitsUnknown).toBe('');
  });

  it('refuses both commits and commits_unknown, or a libc feature with it', () => {
    expect(() => parseCatalog('features:\n  - { id: x, title: x, area: x, introduced: "6.1", commits: [0fb482728ba1], commits_unknown: why, cases: [{ id: a, probe: p, with: { r: 1 } }] }\n'))
      .toThrow(/give one of 'commits' .* not commits and commits_unknown/);
    expect(() => parseCatalog('features:\n  - { id: x, title: x, area: x, libc: "glibc 2.36", commits_unknown: why, cases: [{ id: a, probe: p, with: { r: 1 } }] }\n'))
      .toThrow(/'commits_unknown' are about kernel versions/);
    expect(() => parseCatalog('features:\n  - { id: x, title: x, area: x, introduced: "6.1", commits_unknown: "", cases: [{ id: a, probe: p, with: { r: 1 } }] }\n'))
      .toThrow(/'commits_unknown' must be a non-empty string/);
  });

  it('the judge still decides by version and says no commit is named', () => {
    const [a] = parseCatalog(cat(''))[0].cases;
    expect(expectationFor(a, [5, 10, 0], {}).why).toBe('since 5.10; no commit named: version rule');
    expect(expectationFor(a, [5, 4, 0], {}).expect).toBe('without');
  });
});

describe('commits_any: each of the commits brings the answer on its own', () => {
  const [c] = parseCatalog(`features:
  - id: x
    title: x
    area: x
    introduced: "6.9"
    kind: change
    commits_any: [0c9bd6bc4bb2, 62c4d31d7829]
    backports: ["6.1.176"]
    without: { errno: EBADF }
    cases: [{ id: a, probe: p, with: { errno: ESRCH } }]
`)[0].cases;
  const yes = (by: string) => ({ has: true, by }), no = (by: string) => ({ has: false, by }), dunno = (by: string) => ({ has: null, by });

  it('one present is enough, all missing is a lack, otherwise the version rule says it could not tell', () => {
    expect(c.commitsAny).toBe(true);
    expect(c.commits).toEqual(['0c9bd6bc4bb2', '62c4d31d7829']);
    const later = expectationFor(c, [6, 1, 176], { '0c9bd6bc4bb2': no('6.1 did not take it'), '62c4d31d7829': yes('Debian changelog') });
    expect(later).toMatchObject({ expect: 'with', why: 'has 62c4d31d7829 (Debian changelog)' });
    const neither = expectationFor(c, [6, 1, 166], { '0c9bd6bc4bb2': no('not taken'), '62c4d31d7829': no('6.1.166 < 6.1.176') });
    expect(neither.expect).toBe('without');
    expect(neither.why).toMatch(/lacks 0c9bd6bc4bb2 \(not taken\), lacks 62c4d31d7829/);
    // A git tree of unknown identity: nobody can tell, so the version rule and the backports decide.
    const unknown = expectationFor(c, [6, 1, 180], { '0c9bd6bc4bb2': no('not taken'), '62c4d31d7829': dunno('snapshot') });
    expect(unknown).toMatchObject({ expect: 'with' });
    expect(unknown.why).toMatch(/backported to 6\.1\.176; 62c4d31d7829 unknown \(snapshot\): version rule/);
  });

  it('refuses it beside commits or commits_unknown, and with fewer than two commits', () => {
    const one = (x: string) => () => parseCatalog(`features:\n  - { id: x, title: x, area: x, introduced: "6.1", ${x}, cases: [{ id: a, probe: p, with: { r: 1 } }] }\n`);
    expect(one('commits_any: [0c9bd6bc4bb2, 62c4d31d7829], commits: [0c9bd6bc4bb2]')).toThrow(/give one of 'commits'/);
    expect(one('commits_any: [0c9bd6bc4bb2, 62c4d31d7829], commits_unknown: why')).toThrow(/not commits_any and commits_unknown/);
    expect(one('commits_any: [0c9bd6bc4bb2]')).toThrow(/two or more commits that each bring the answer on their own \(one commit: use 'commits'\)/);
  });
});

describe('the judge with commit answers (facts.commits)', () => {
  const cat = parseCatalog(`features:
  - id: r4
    title: r4
    area: info
    introduced: "6.15"
    commits: [0fb482728ba1]
    backports: ["6.12.31"]
    cases:
      - { id: poll, probe: p, with: { poll: waits }, without: { poll: early } }
      - { id: newer, introduced: "6.16", probe: p, with: { poll: waits } }
  - id: ex
    title: ex
    area: pidfs
    introduced: "5.3"
    broken: [{ from: "6.9", to: "6.17", reason: "ETXTBSY", fixed: [1a1ad73aa1a6] }]
    cases:
      - { id: e, probe: p, with: { errno: EACCES }, without: { errno: ETXTBSY } }
`);
  const [poll, newer] = cat[0].cases;
  const ex = cat[1].cases[0];
  const facts = (release: string, commits?: KernelFacts['commits']): KernelFacts => ({
    release, version: parseVersion(release)!, arch: 'x86_64', uid: 0, root: true, seccomp: 0, lsms: [], selinux: 'disabled', container: null, hostname: 't',
    ...(commits ? { commits } : {}),
  });

  it('a case inherits its feature\'s commits unless it has its own introduced', () => {
    expect(poll.commits).toEqual(['0fb482728ba1']);
    expect(newer.commits).toEqual([]);
  });

  it('the commit decides whatever the version says, and the reason names what decided', () => {
    const has = { '0fb482728ba1': { has: true, by: 'backport line in 1a2b3c4d5e6f' } };
    const lacks = { '0fb482728ba1': { has: false, by: 'not in HEAD\'s history (git ancestry)' } };
    // Same version 6.12.20 (below the table's 6.12.31): the tree with the backport expects the fix.
    const a = judge(poll, facts('6.12.20', has), { poll: 'waits' });
    expect(a.status).toBe('pass');
    expect(a.reason).toContain('has 0fb482728ba1 (backport line in 1a2b3c4d5e6f)');
    const b = judge(poll, facts('6.12.40', lacks), { poll: 'early' });
    expect(b.status).toBe('skip'); // absent as expected: the kernel lacks the commit
    expect(b.expected).toBe('without');
    expect(b.reason).toContain('lacks 0fb482728ba1 (not in HEAD\'s history (git ancestry))');
  });

  it('a change\'s older answer names what decided too', () => {
    const [c] = parseCatalog(`features:
  - { id: ch, title: t, area: a, introduced: "6.15", kind: change, commits: [0fb482728ba1], cases: [{ id: x, probe: p, with: { r: new }, without: { r: old } }] }
`)[0].cases;
    const v = judge(c, facts('6.12.40', { '0fb482728ba1': { has: false, by: 'Debian changelog 6.12.40-1: no line' } }), { r: 'old' });
    expect(v.status).toBe('pass');
    expect(v.reason).toContain('(the answer changed in 6.15; needs 6.15 or a backport: lacks 0fb482728ba1 (Debian changelog 6.12.40-1: no line))');
    expect(judge(c, facts('6.12.40'), { r: 'old' }).reason).toContain('(the answer changed in 6.15), kernel');
  });

  it('an unknown answer falls back to the version rule and says so; older results judge as before', () => {
    const unk = { '0fb482728ba1': { has: null, by: 'stable table: 6.12 unknown' } };
    expect(expectationFor(poll, [6, 12, 40], unk)).toEqual({ expect: 'with', why: 'backported to 6.12.31; 0fb482728ba1 unknown (stable table: 6.12 unknown): version rule' });
    expect(expectationFor(poll, [6, 12, 40], {})).toEqual({ expect: 'with', why: 'backported to 6.12.31; 0fb482728ba1 unknown (not asked when this cell ran (rerun it to ask)): version rule' });
    expect(expectationFor(newer, [6, 17, 0], {}).why).toBe('since 6.16; no commit named: version rule');
    expect(expectationFor(poll, [6, 12, 40])).toEqual({ expect: 'with', why: 'backported to 6.12.31' });
  });

  it('a broken range ends where the kernel has the fixing commit, not where its version says', () => {
    const fixed = { '1a1ad73aa1a6': { has: true, by: 'Debian changelog 6.12.117-1' } };
    const notFixed = { '1a1ad73aa1a6': { has: false, by: 'stable table: 6.12.100 < 6.12.107' } };
    expect(judge(ex, facts('6.12.107', fixed), { errno: 'EACCES' }).status).toBe('pass');
    const x = judge(ex, facts('6.12.100', notFixed), { errno: 'ETXTBSY' });
    expect(x.status).toBe('xfail');
    expect(x.reason).toContain('lacks 1a1ad73aa1a6 (stable table: 6.12.100 < 6.12.107)');
    // Before the range's first version nothing is broken, whatever the fix.
    expect(judge(ex, facts('6.1.100', notFixed), { errno: 'EACCES' }).status).toBe('pass');
  });
});

describe('report --rejudge with commit answers', () => {
  it('keeps the stored answers, asks the table about a commit named since, and says so', async () => {
    const { rejudgeCell } = await import('./rejudge.js');
    const cases = allCases(loadCatalog());
    const c = cases.find((x) => x.id === 'pidfd_thread_leader_poll/premature_leader_exit')!;
    const facts: KernelFacts = {
      release: '6.12.20', version: [6, 12, 20], arch: 'x86_64', uid: 0, root: true, seccomp: 0, lsms: [], selinux: 'disabled', container: null, hostname: 't',
      // As a git cell stored it: the planted backport decided, whatever the version says.
      commits: { '0fb482728ba1': { has: true, by: 'backport line in 1a2b3c4d5e6f' } },
    };
    const observed = { leader_thread_poll: 'waits', after_group_exit: 'POLLIN' };
    const cell = {
      schema: 1, kernelId: 'k', mode: 'guest', accel: 'tcg', lsm: null, facts, startedAt: '2026-12-06T00:00:00Z', durationMs: 1, hostname: 'h', error: null,
      provenance: { harnessRev: 'x', node: 'v20', command: 'x' }, rerun: 'r',
      cases: [{ id: c.id, feature: c.feature, case: c.case, area: c.area, title: c.title, status: 'fail', reason: 'old', expected: null, expectedAnswer: null, observed, durationMs: 1, rerun: 'r' }],
    } as never;
    const r = rejudgeCell(cell, cases, []);
    expect(r.cell.cases[0].status).toBe('pass');
    expect(r.cell.cases[0].reason).toContain('has 0fb482728ba1 (backport line in 1a2b3c4d5e6f)');
    // Commits the catalog names now but the cell was never asked about come from the table, marked.
    expect(r.cell.facts!.commits!['fa729c4df558']).toEqual({ has: true, by: 'stable table: mainline 5.4 <= 6.12.20 (named after this cell ran: asked of the table at rejudge)' });
    // Without stored answers (a results.json from before), the version rule alone: 6.12.20 < 6.12.31.
    const old = rejudgeCell({ ...(cell as object), facts: { ...facts, commits: undefined } } as never, cases, []);
    expect(old.cell.cases[0].status).toBe('xpass');
  });
});
