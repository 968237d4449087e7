// The libc axis judged on libcs this machine does not run: suites/catalog/libc.yaml's features are
// keyed by facts.libc (glibc 2.31 bullseye, 2.36 bookworm, 2.41 trixie, musl), and still compose
// `requires:` on kernel features (a 2.39 wrapper on a kernel without the syscall).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CatalogError, loadCatalog, parseCatalog, type CatalogCase } from './catalog.js';
import { expectationIn, judge } from './judge.js';
import { repoPath } from '../../suites/lib/paths.js';
import type { KernelFacts } from '../results.js';
import { boundaries, kernelTable, recordCell } from './verification.js';
import { parseVersion } from './version.js';

function facts(release: string, libc: string | null, over: Partial<KernelFacts> = {}): KernelFacts {
  const [name, version] = libc ? libc.split(' ') : [];
  return {
    release, version: parseVersion(release)!, arch: 'x86_64', uid: 0, root: true, seccomp: 0,
    lsms: [], selinux: 'disabled', container: null, hostname: 'fixture',
    libc: libc ? { name, version, source: 'fixture', confstr: libc } : null, ...over,
  };
}

// The real catalog: libc.yaml is linked against the kernel features it requires.
const cases = new Map(loadCatalog(repoPath('suites/catalog')).flatMap((f) => f.cases).map((c) => [c.id, c]));
const get = (id: string): CatalogCase => {
  const c = cases.get(id);
  if (!c) throw new Error(`no case ${id} in suites/catalog`);
  return c;
};

const SPAWN_OK = { result: 'pidfd', cloexec: true, si_code: 'CLD_EXITED', si_status: 7, si_pid: 'child' };

describe('libc-keyed expectations (suites/catalog/libc.yaml)', () => {
  it('parses `libc:` instead of `introduced:` and links requires: to kernel features', () => {
    const spawn = get('libc_pidfd_spawn/works');
    expect(spawn.libc).toEqual([{ name: 'glibc', version: [2, 39, 0] }]);
    expect(spawn.requires.map((r) => r.feature)).toEqual(['clone_pidfd', 'pidfd_open', 'waitid_pidfd']); // oldest first
    expect(spawn.requires.every((r) => r.libc === null)).toBe(true);
    expect(get('glibc_clone3_fallback/enosys').libc).toEqual([{ name: 'glibc', version: [2, 0, 0] }]);
  });

  it('chooses the answer by facts.libc, not by the kernel', () => {
    const sym = get('libc_pidfd_open/symbol');
    expect(expectationIn(sym, facts('6.12.0', 'glibc 2.36')).expect).toBe('with');
    expect(expectationIn(sym, facts('6.12.0', 'glibc 2.31')).expect).toBe('without');
    expect(expectationIn(sym, facts('5.10.0', 'glibc 2.41')).expect).toBe('with');
    expect(expectationIn(sym, facts('6.12.0', 'musl 1.2.5')).expect).toBe('without');
    expect(expectationIn(sym, facts('6.12.0', 'musl 1.2.5')).why).toBe('needs glibc 2.36 (the catalog lists no musl release)');
  });

  it('glibc 2.31 (bullseye) lacks every wrapper: absent as expected, whatever the kernel', () => {
    const v = judge(get('libc_pidfd_open/symbol'), facts('6.12.0', 'glibc 2.31'), { symbol: false });
    expect(v.status).toBe('skip');
    expect(v.reason).toBe('absent as expected: libc_pidfd_open/symbol needs glibc 2.36, glibc 2.31, kernel 6.12.0');
    expect(judge(get('libc_pidfd_spawn/works'), facts('6.12.0', 'glibc 2.31'), { symbol: false }).status).toBe('skip');
  });

  it('glibc 2.36 (bookworm) has the 2.36 wrappers; a missing one is a failure', () => {
    const f = facts('6.1.0', 'glibc 2.36');
    expect(judge(get('libc_pidfd_getfd/symbol'), f, { symbol: true, version_node: 'GLIBC_2.36' }).status).toBe('pass');
    const gone = judge(get('libc_pidfd_getfd/symbol'), f, { symbol: false });
    expect(gone.status).toBe('fail');
    expect(gone.reason).toContain('glibc 2.36, kernel 6.1.0 should have it (since glibc 2.36)');
    expect(judge(get('libc_pidfd_spawn/symbol'), f, { symbol: false }).status).toBe('skip');
  });

  it('a wrapper found on an older glibc is an xpass (a distro backport), never a failure', () => {
    const v = judge(get('libc_pidfd_getpid/symbol'), facts('6.1.0', 'glibc 2.36'), { symbol: true, version_node: 'GLIBC_2.39' });
    expect(v.status).toBe('xpass');
    expect(v.reason).toContain('needs glibc 2.39');
  });

  it('glibc 2.41 (trixie) on a kernel with the syscalls: pidfd_spawn must work', () => {
    const f = facts('6.12.0', 'glibc 2.41');
    expect(judge(get('libc_pidfd_spawn/works'), f, SPAWN_OK).status).toBe('pass');
    const broken = judge(get('libc_pidfd_spawn/works'), f, { errno: 'ENOSYS' });
    expect(broken.status).toBe('fail');
  });

  it('a 2.39 wrapper on a kernel without the syscall: the kernel requirement answers (absent as expected)', () => {
    // pidfd_open's wrapper exists in glibc 2.41, the 5.2 kernel answers ENOSYS: no libc defect.
    const v = judge(get('libc_pidfd_open/works'), facts('5.2.21', 'glibc 2.41'), { errno: 'ENOSYS' });
    expect(v.status).toBe('skip');
    expect(v.reason).toBe('absent as expected: libc_pidfd_open/works needs pidfd_open (needs 5.3), glibc 2.41, kernel 5.2.21');
    // pidfd_spawn on 5.3: glibc hands back a pidfd, but waitid(P_PIDFD) needs 5.4 (the probe's prerequisite).
    const w = judge(get('libc_pidfd_spawn/works'), facts('5.3.18', 'glibc 2.41'), { prereq: 'waitid(P_PIDFD)', errno: 'EINVAL' });
    expect(w.status).toBe('skip');
    expect(w.reason).toContain('needs waitid_pidfd (needs 5.4)');
    // The same prerequisite failing on a kernel that has it is a regression.
    expect(judge(get('libc_pidfd_spawn/works'), facts('6.12.0', 'glibc 2.41'), { prereq: 'waitid(P_PIDFD)', errno: 'EINVAL' }).status).toBe('fail');
  });

  it('the clone3 fallback: glibc >= 2.34 does not fall back on EPERM, older glibc never calls clone3', () => {
    const eperm = { seccomp: 2, clone3_errno: 'EPERM', spawn: 'EPERM', thread: 'failed: ERR_WORKER_INIT_FAILED' };
    const old = { seccomp: 2, clone3_errno: 'EPERM', spawn: 'CLD_EXITED 5', thread: 'ran' };
    expect(judge(get('glibc_clone3_fallback/eperm_thread'), facts('6.1.0', 'glibc 2.36'), eperm).status).toBe('pass');
    const older = judge(get('glibc_clone3_fallback/eperm_thread'), facts('5.10.0', 'glibc 2.31'), old);
    expect(older.status).toBe('pass');
    expect(older.reason).toContain('the answer before 2.34');
    // glibc 2.36 that started the thread although clone3 was refused with EPERM: not what it does.
    expect(judge(get('glibc_clone3_fallback/eperm_thread'), facts('6.1.0', 'glibc 2.36'), old).status).toBe('fail');
    const enosys = { seccomp: 2, clone3_errno: 'ENOSYS', spawn: 'CLD_EXITED 5', thread: 'ran' };
    for (const libc of ['glibc 2.31', 'glibc 2.36', 'glibc 2.41'])
      expect(judge(get('glibc_clone3_fallback/enosys'), facts('6.12.0', libc), enosys).status).toBe('pass');
    expect(judge(get('glibc_clone3_fallback/enosys'), facts('6.12.0', 'glibc 2.41'), { ...enosys, thread: 'failed: ERR_WORKER_INIT_FAILED' }).status).toBe('fail');
  });

  it('enosys_remembered: glibc 2.41 keeps threads on clone after one ENOSYS; 2.36 and 2.31 give their own answers', () => {
    const c = get('glibc_clone3_fallback/enosys_remembered');
    const seen = (thread: string, spawn: string) => ({ thread_under_enosys: 'ran', clone3_errno: 'EPERM', thread, spawn });
    expect(judge(c, facts('6.12.0', 'glibc 2.41'), seen('ran', 'EPERM')).status).toBe('pass');
    expect(judge(c, facts('6.1.0', 'glibc 2.36'), seen('failed: ERR_WORKER_INIT_FAILED', 'EPERM')).status).toBe('pass');
    expect(judge(c, facts('5.10.0', 'glibc 2.31'), seen('ran', 'CLD_EXITED 5')).status).toBe('pass');
    // A 2.41 that asks clone3 again for a thread has lost the memory: a change worth a failure.
    expect(judge(c, facts('6.12.0', 'glibc 2.41'), seen('failed: ERR_WORKER_INIT_FAILED', 'EPERM')).status).toBe('fail');
    // Remembering on 2.39 (not measured here) would be an xpass, not a failure.
    expect(judge(c, facts('6.8.0', 'glibc 2.39'), seen('ran', 'EPERM')).status).toBe('xpass');
  });

  it('a musl case is judged by the musl its test binary names, not by the process\'s glibc', () => {
    const v = judge(get('libc_pidfd_open/musl'), facts('6.12.0', 'glibc 2.41'), { libc: 'musl 1.2.3', symbol: false });
    expect(v.status).toBe('skip');
    expect(v.reason).toBe('absent as expected: libc_pidfd_open/musl needs glibc 2.36 (the catalog lists no musl release), musl 1.2.3, kernel 6.12.0');
    // A musl that grew the wrapper before the catalog says so: an xpass, to be recorded as "musl X".
    expect(judge(get('libc_pidfd_open/musl'), facts('6.12.0', 'glibc 2.41'), { libc: 'musl 1.2.6', symbol: true }).status).toBe('xpass');
    // The same observation without a libc of its own falls back to facts.libc (glibc 2.41 has it).
    expect(judge(get('libc_pidfd_open/musl'), facts('6.12.0', 'glibc 2.41'), { symbol: false }).status).toBe('fail');
  });

  it('a cell without facts.libc (a result from before the axis) skips libc cases, saying why', () => {
    const v = judge(get('libc_pidfd_open/symbol'), facts('6.12.0', null), { symbol: true, version_node: 'GLIBC_2.36' });
    expect(v.status).toBe('skip');
    expect(v.reason).toContain('recorded no libc');
  });

  it('libc cases stay out of the kernel verification record and boundaries', () => {
    const features = loadCatalog(repoPath('suites/catalog'));
    const v = { unobtainable: [], kernels: [] };
    expect(boundaries(features, v).some((b) => b.case.startsWith('libc_'))).toBe(false);
    expect(kernelTable(features, v).rows.some((r) => r.feature.startsWith('libc_'))).toBe(false);
    const cell = {
      kernelId: 'x', mode: 'host', startedAt: '2026-12-01T00:00:00Z', error: null, provenance: {},
      facts: facts('6.1.0', 'glibc 2.36'),
      cases: [{ id: 'libc_pidfd_open/symbol', status: 'pass', observed: { symbol: true, version_node: 'GLIBC_2.36' } }],
    } as unknown as Parameters<typeof recordCell>[0];
    const rec = recordCell(cell, features).record!;
    expect([...rec.with, ...rec.without]).toEqual([]);
  });

  it('refuses a catalog mixing both keys, a bad libc name, or kernel ranges on a libc feature', () => {
    const one = (extra: string) => `
features:
  - id: w
    title: w
    area: libc
${extra}
    cases:
      - id: c
        probe: p
        with: { symbol: true }
`;
    expect(() => parseCatalog(one('    libc: "glibc 2.36"\n    introduced: "5.3"'))).toThrow(/either 'introduced'.*or 'libc'/);
    expect(() => parseCatalog(one('    libc: "2.36"'))).toThrow(CatalogError);
    expect(() => parseCatalog(one('    libc: "glibc 2.36"\n    backports: ["2.35.1"]'))).toThrow(/kernel versions/);
    expect(parseCatalog(one('    libc: ["glibc 2.36", "musl 1.2.6"]'))[0].cases[0].libc).toEqual([
      { name: 'glibc', version: [2, 36, 0] }, { name: 'musl', version: [1, 2, 6] }]);
  });

  it('the catalog file says how it is keyed (a user edits it without TypeScript)', () => {
    expect(readFileSync(repoPath('suites/catalog/libc.yaml'), 'utf8')).toMatch(/libc: "glibc 2.36"/);
  });
});
