// The commit oracle on real material (issue 19): a git repository made of Debian's real
// linux-source-6.12 files, and a Debian kernel's real changelog.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { allCases, loadCatalog } from './catalog.js';
import { backportLine, debianAnswer, gitAnswers, importedRootIdentity, oracleFor, parseDebianChangelog, readChangelog } from './commit-oracle.js';
import { findCommit, parseCommits } from './commits.js';
import { expectationIn, judge } from './judge.js';
import type { KernelFacts } from '../results.js';
import { repoPath } from '../../suites/lib/paths.js';
import { publicRepoName, treeIdentity } from '../../kernels/identity.js';

// A fixed table with real commits (shipped data changes as stable-data researches): R9 has no
// 6.12 entry (unknown), R4 reached 6.12.31, fa729c4df558 is in mainline 5.4.
const table = parseCommits(`commits:
  ab89060fbc92:
    subject: "pidfs: return -EREMOTE when PIDFD_GET_INFO is called on another ns"
    mainline: "7.0"
    stable: { "6.18": { release: "6.18.14", evidence: "test table" } }
  0fb482728ba1:
    subject: "pidfs: improve multi-threaded exec and premature thread-group leader exit polling"
    mainline: "6.15"
    stable: { "6.12": { release: "6.12.31", evidence: "test table" } }
  fa729c4df558: { subject: "clone3: validate stack arguments", mainline: "5.4" }
`, 'harness/judge/commit-oracle.test.ts');
const cases = allCases(loadCatalog());
const kase = (id: string) => cases.find((c) => c.id === id)!;
const R9 = 'ab89060fbc92';   // pidfs: return -EREMOTE when PIDFD_GET_INFO is called on another ns (7.0)
const R9_FULL = 'ab89060fbc92edd6e852bf0f533f29140afabe0e';
const R4 = '0fb482728ba1';   // pidfs: improve multi-threaded exec ... (6.15; stable 6.12.31)
const FILES = ['Makefile', 'fs/pidfs.c', 'kernel/pid.c', 'kernel/fork.c', 'kernel/signal.c', 'kernel/exit.c', 'include/uapi/linux/pidfd.h'];

const facts = (version: [number, number, number], commits: KernelFacts['commits']): KernelFacts => ({
  release: version.join('.'), version, arch: 'x86_64', uid: 0, root: true, seccomp: 0, lsms: [], selinux: 'disabled', container: null, hostname: 't', commits,
});

describe('backport lines and imported roots (pure)', () => {
  it('reads both stable backport forms by prefix, not a mention in prose', () => {
    expect(backportLine(`pidfs: x\n\ncommit ${R9_FULL} upstream.\n\nbody`, R9)).toBe(true);
    expect(backportLine(`pidfs: x\n\n[ Upstream commit ${R9_FULL} ]\n`, R9)).toBe(true);
    expect(backportLine(`pidfs: x\n\nSimilar to commit ${R9_FULL} ("...") upstream`, R9)).toBe(false);
    expect(backportLine(`commit ${R4}ee2130 upstream`, R9)).toBe(false);
  });
  it('a repository is named only from a public remote, never from a path', () => {
    expect(publicRepoName('https://github.com/gregkh/linux.git')).toBe('gregkh/linux');
    expect(publicRepoName('https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git')).toBe('git.kernel.org/linux/kernel/git/stable/linux');
    expect(publicRepoName('git@gitlab.com:owner/linux-6.1.y')).toBe('owner/linux-6.1.y');
    expect(publicRepoName('/root/.cache/pidfd-matrix/bisect-demo/linux')).toBeNull();
    expect(publicRepoName('file:///srv/linux.git')).toBeNull();
  });

  it('an import commit names its identity: a Debian source package or a tarball', () => {
    expect(importedRootIdentity("Import Debian's debian-linux-source-6.12_6.12.117-1")).toEqual({ what: 'Debian linux-source-6.12 6.12.117-1', version: [6, 12, 117] });
    expect(importedRootIdentity('import linux-5.4.286.tar.xz (sha256 ...)')?.version).toEqual([5, 4, 286]);
    expect(importedRootIdentity('Initial commit')).toBeNull();
  });
});

// What this is: not a full import (about 90 000 files, minutes to commit), but a small git
// repository whose root commit holds the real Makefile and pidfd sources of Debian's
// linux-source-6.12, fetched through the project's own `kernels source` (cached after the first
// run), with an import message as `make bisect-demo` writes it. The oracle reads only history,
// so these files are all it needs; the full import answers the same (see the README).
describe('a git tree of Debian linux-source-6.12: expectations by ancestry, not by the Makefile', () => {
  let src: string | null = null;
  let why = '';
  let repo = '';
  let revA = '', revB = '';
  beforeAll(() => {
    const r = spawnSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'kernels', 'source', '--package', 'linux-source-6.12', '--suite', 'trixie'], { encoding: 'utf8', timeout: 1_500_000 });
    if (r.status !== 0) {
      why = `kernels source --package linux-source-6.12 --suite trixie exited ${r.status}: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`;
      return;
    }
    src = r.stdout.trim();
    repo = mkdtempSync(join(tmpdir(), 'pm-oracle-git-'));
    const git = (...a: string[]) => execFileSync('git', ['-C', repo, ...a], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t.invalid' } }).trim();
    git('init', '-q', '-b', 'main');
    for (const f of FILES) {
      mkdirSync(dirname(join(repo, f)), { recursive: true });
      copyFileSync(join(src, f), join(repo, f));
    }
    git('add', '-A');
    git('commit', '-qm', `Import Debian's ${dirname(src).split('/').pop()} (Makefile and pidfd sources only)`);
    writeFileSync(join(repo, 'kernel/pid.c'), readFileSync(join(repo, 'kernel/pid.c'), 'utf8') + '/* a vendor comment */\n');
    git('commit', '-qam', 'pid: a vendor comment (touches no named commit)');
    revA = git('rev-parse', 'HEAD');
    // A vendor backport of the EREMOTE change, as stable trees write it.
    writeFileSync(join(repo, 'fs/pidfs.c'), readFileSync(join(repo, 'fs/pidfs.c'), 'utf8') + '/* backport of the EREMOTE change (planted) */\n');
    git('commit', '-qam', `pidfs: return -EREMOTE when PIDFD_GET_INFO is called on another ns\n\ncommit ${R9_FULL} upstream.\n\nPlanted by harness/judge/commit-oracle.test.ts.`);
    revB = git('rev-parse', 'HEAD');
  }, 1_600_000);

  it('the two revisions have the same Makefile version', () => {
    if (!src) throw new Error(`could not run: ${why}`);
    const mk = (rev: string) => execFileSync('git', ['-C', repo, 'show', `${rev}:Makefile`], { encoding: 'utf8' }).split('\n').slice(1, 4).join(' ');
    expect(mk(revA)).toBe(mk(revB));
    expect(mk(revA)).toMatch(/VERSION = 6 PATCHLEVEL = 12 SUBLEVEL = \d+/);
  });

  it('R9 (ab89060fbc92, 7.0): without at the vendor commit, with at the planted backport, decided by history', async () => {
    if (!src) throw new Error(`could not run: ${why}`);
    const a = await gitAnswers(repo, table, [R9, R4], revA);
    const b = await gitAnswers(repo, table, [R9, R4], revB);
    expect(b[R9]).toEqual({ has: true, by: `backport line in ${revB.slice(0, 12)}` });
    // At revA nothing names it and the import root is Debian 6.12.117, whose series the table does not list.
    expect(a[R9].has).toBeNull();
    expect(a[R9].by).toMatch(/no backport line after the imported root [0-9a-f]{12} \(Debian linux-source-6\.12 6\.12\.\d+-\d+\): stable table: 6\.12 not listed/);
    const c = kase('pidfd_info_eremote/foreign_pidns');
    const v: [number, number, number] = [6, 12, 117];
    const ea = expectationIn(c, facts(v, a));
    const eb = expectationIn(c, facts(v, b));
    expect(ea.expect).toBe('without');
    expect(ea.why).toMatch(/needs 7\.0; ab89060fbc92 unknown .*: version rule/);
    expect(eb).toEqual({ expect: 'with', why: `has ab89060fbc92 (backport line in ${revB.slice(0, 12)})` });
    // The same EREMOTE answer is an xpass at revA and a pass at revB.
    const eremote = { ...(Array.isArray(c.with) ? c.with[0] : c.with) };
    expect(judge(c, facts(v, a), eremote).status).toBe('xpass');
    expect(judge(c, facts(v, b), eremote).status).toBe('pass');
  });

  it('R4 (0fb482728ba1): the imported root decides by its own identity (Debian 6.12.117 >= 6.12.31)', async () => {
    if (!src) throw new Error(`could not run: ${why}`);
    const a = await gitAnswers(repo, table, [R4], revA);
    expect(a[R4].has).toBe(true);
    expect(a[R4].by).toMatch(/imported root .*Debian linux-source-6\.12 .*stable table: 6\.12\.31 <= 6\.12\.\d+/);
  });

  it('oracleFor picks the tree for a git origin, and kernels build\'s identity hashes the pidfd sources', async () => {
    if (!src) throw new Error(`could not run: ${why}`);
    const o = await oracleFor({ kind: 'git', tree: repo, rev: revB }, cases, table);
    expect(o.kind).toBe('git');
    expect(o.answer({ version: [0, 0, 0] })[R9].has).toBe(true);
    const id = await treeIdentity(repo);
    // A local repository with no public remote: recorded, but not proven.
    expect(id).toMatchObject({ kind: 'unproven', commit: revB, proven: false });
    expect(id.makefile).toMatch(/^6\.12\.\d+$/);
    expect(Object.keys(id.pidfd_sources!)).toEqual(expect.arrayContaining(['fs/pidfs.c', 'kernel/pid.c', 'include/uapi/linux/pidfd.h']));
    execFileSync('git', ['-C', repo, 'remote', 'add', 'origin', 'https://github.com/example/linux-6.12.y.git']);
    // A remote named but never fetched: nothing shows that it has this commit.
    expect(await treeIdentity(repo)).toMatchObject({ kind: 'git', repo: 'example/linux-6.12.y', commit: revB, proven: false });
    // What a clone or fetch leaves: a remote-tracking ref holding the commit.
    execFileSync('git', ['-C', repo, 'update-ref', 'refs/remotes/origin/linux-6.12.y', revB]);
    expect(await treeIdentity(repo)).toMatchObject({ kind: 'git', repo: 'example/linux-6.12.y', commit: revB, proven: true });
    execFileSync('git', ['-C', repo, 'update-ref', '-d', 'refs/remotes/origin/linux-6.12.y']);
  });
});

describe('a Debian kernel judged by its changelog', () => {
  const excerpt = readFileSync(repoPath('harness/fixtures/debian-changelog/linux-image-6.1.0-50-amd64_6.1.176-1.excerpt'), 'utf8');
  const log = parseDebianChangelog(excerpt);
  // Not in the shipped table yet (stable-data fills it): the subject of the 6.1.176 backport.
  const exiting = { sha: '000000000000', subject: 'pidfd: refuse access to tasks that have started exiting harder', mainline: [6, 15, 0] as [number, number, number], stable: new Map() };

  it('reads the version, the stable updates from 6.1.1 and the unwrapped change lines', () => {
    expect(log.version).toBe('6.1.176+1');
    expect(log.stable.map((v) => v.join('.'))).toEqual(['6.1.175', '6.1.176', '6.1.1']);
    expect(log.subjects.has('pidfd: refuse access to tasks that have started exiting harder')).toBe(true);
    expect(log.subjects.has('IB/isert: Reject login PDUs shorter than ISER_HEADERS_LEN')).toBe(true); // wrapped, CVE dropped
  });

  it('a subject in the changelog proves the commit; a series listed from 6.1.1 without it lacks it', () => {
    expect(debianAnswer(exiting, log, [6, 1, 176])).toEqual({ has: true, by: 'Debian changelog 6.1.176+1: "pidfd: refuse access to tasks that have started exiting harder"' });
    const r4 = findCommit(table, R4)!;
    expect(debianAnswer(r4, log, [6, 1, 176])).toMatchObject({ has: false });
    expect(debianAnswer(r4, log, [6, 1, 176]).by).toMatch(/stable updates 6\.1\.1\.\.6\.1\.176 and Debian's patches, no line "pidfs: improve/);
    expect(debianAnswer(findCommit(table, 'fa729c4df558')!, log, [6, 1, 176])).toEqual({ has: true, by: 'Debian 6.1.176+1: stable table: mainline 5.4 <= 6.1.176' });
  });

  it('the judge names the changelog as what decided', () => {
    const c = kase('pidfd_thread_leader_poll/premature_leader_exit');
    const a = { [R4]: debianAnswer(findCommit(table, R4)!, log, [6, 1, 176]) };
    const e = expectationIn(c, facts([6, 1, 176], a));
    expect(e.expect).toBe('without');
    expect(e.why).toMatch(/lacks 0fb482728ba1 \(Debian changelog 6\.1\.176\+1/);
  });

  // The bookworm kernel the CI smoke boots: found in the cache, or fetched here (a real,
  // signature-checked download) so that a fresh CI machine runs this check instead of skipping.
  const bookwormChangelog = (): { path: string; release: string; debianVersion: string } => {
    const cache = join(homedir(), '.cache/pidfd-matrix/kernels');
    const find = () => (existsSync(cache) ? readdirSync(cache) : [])
      .map((d) => /^debian-linux-image-(6\.1\.0-\d+-amd64)_(6\.1\.\d+)-(\d+)$/.exec(d))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ path: join(cache, m[0], 'root/usr/share/doc/linux-image-' + m[1], 'changelog.gz'), release: m[2], debianVersion: `${m[2]}+${m[3]}` }))
      .filter((c) => existsSync(c.path));
    if (find().length === 0) {
      execFileSync(process.execPath, [repoPath('bin/pidfd-matrix.js'), 'kernels', 'fetch', 'bookworm'], { stdio: 'inherit', timeout: 600_000 });
    }
    const found = find();
    if (found.length === 0) throw new Error('kernels fetch bookworm left no linux-image-6.1 changelog in the cache');
    return found[found.length - 1];
  };
  it('the whole real changelog of a cached bookworm package answers as its excerpt', () => {
    const { path, release, debianVersion } = bookwormChangelog();
    const version = release.split('.').map(Number) as [number, number, number];
    const full = readChangelog(path);
    expect(full.version).toBe(debianVersion);
    expect(full.stable.length).toBeGreaterThan(170);
    // 62c4d31d7829 reached 6.1.y in 6.1.176, so every bookworm upload from 6.1.176 on has it;
    // R4 was never taken by 6.1.y (no PIDFD_THREAD there).
    expect(version[2]).toBeGreaterThanOrEqual(176);
    expect(debianAnswer(exiting, full, version).has).toBe(true);
    expect(debianAnswer(findCommit(table, R4)!, full, version).has).toBe(false);
  }, 660_000);
});
