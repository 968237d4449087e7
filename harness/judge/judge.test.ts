// Expectation logic on kernels this machine does not run: the decisions behind every status.
import { describe, expect, it } from 'vitest';
import { parseCatalog, type CatalogCase } from './catalog.js';
import { expectationFor, judge, matches } from './judge.js';
import type { KernelFacts } from '../results.js';
import { parseVersion } from './version.js';

function facts(release: string, over: Partial<KernelFacts> = {}): KernelFacts {
  return {
    release, version: parseVersion(release)!, arch: 'x86_64', uid: 0, root: true, seccomp: 0,
    lsms: [], selinux: 'disabled', container: null, hostname: 'fixture', ...over,
  };
}

const catalog = parseCatalog(`
features:
  - id: pidfd_getfd
    title: pidfd_getfd(2)
    area: getfd
    introduced: "5.6"
    without: { errno: ENOSYS }
    cases:
      - id: self_cloexec
        probe: "pidfd_getfd(self, fd, 0)"
        with: { result: fd, cloexec: true }
      - id: eperm
        probe: "as an unprivileged caller"
        needs: [unprivileged]
        with: { errno: EPERM }
  - id: pidfd_nonblock
    title: PIDFD_NONBLOCK
    area: open
    introduced: "5.10"
    without: { errno: EINVAL }
    cases:
      - id: flag_set
        probe: "pidfd_open(getpid(), PIDFD_NONBLOCK)"
        with: { result: fd, nonblock: true }
  - id: fdinfo_nspid
    title: fdinfo Pid -1 after reap
    area: open
    introduced: "5.5"
    backports: ["5.4.294"]
    cases:
      - id: reaped
        probe: "reap; fdinfo"
        with: { pid_line: "-1" }
        without: { pid_line: still_child_pid }
  - id: lsof_compat
    title: lsof-compatible st_mode
    area: pidfs
    introduced: "5.1"
    broken: [{ from: "6.9", to: "6.10", reason: "pidfs exposed S_IFREG", ref: "R2" }]
    cases:
      - id: mode
        probe: fstat
        with: { type_bits: 0 }
        without: { type_bits: S_IFREG }
  - id: get_info_short
    title: short PIDFD_GET_INFO size
    area: info
    introduced: "6.18"
    cases:
      - id: short
        probe: ioctl
        with: { errno: [ENOTTY] }
        without: { errno: [EINVAL] }
  - id: pidfs_magic
    title: f_type
    area: pidfs
    kind: change
    introduced: "6.9"
    without: { f_type: "0x09041934" }
    cases:
      - id: f_type
        probe: fstatfs
        with: { f_type: "0x50494446" }
  - id: clone3
    title: clone3
    area: clone
    introduced: "5.3"
    without: { errno: ENOSYS }
    cases:
      - id: basic
        probe: clone3
        with: { result: pid }
`);
const composed = parseCatalog(`
features:
  - id: pidfd_open
    title: pidfd_open
    area: open
    introduced: "5.3"
    without: { errno: ENOSYS }
    cases: [{ id: self, probe: p, with: { result: fd } }]
  - id: pidfd_getfd
    title: pidfd_getfd
    area: getfd
    introduced: "5.6"
    requires: [pidfd_open]
    without: { errno: ENOSYS }
    cases:
      - { id: self, probe: p, with: { result: fd } }
      - { id: esrch_zombie, probe: p, introduced: "6.9", kind: change, with: { errno: ESRCH }, without: { errno: EBADF } }
  - id: pidfd_nonblock
    title: PIDFD_NONBLOCK
    area: open
    introduced: "5.10"
    requires: [pidfd_open]
    without: { errno: EINVAL }
    cases: [{ id: flag_set, probe: p, with: { result: fd } }]
`);
const req = (id: string): CatalogCase => composed.flatMap((f) => f.cases).find((c) => c.id === id)!;

const byId = (id: string): CatalogCase => catalog.flatMap((f) => f.cases).find((c) => c.id === id)!;

describe('judge', () => {
  it('5.4 kernel: pidfd_getfd absent as expected is a skip naming the feature, version and kernel', () => {
    const v = judge(byId('pidfd_getfd/self_cloexec'), facts('5.4.0-150-generic'), { errno: 'ENOSYS' });
    expect(v.status).toBe('skip');
    expect(v.reason).toBe('absent as expected: pidfd_getfd/self_cloexec needs 5.6, kernel 5.4.0-150-generic');
  });

  it('5.4 kernel answering something else than ENOSYS fails with expected versus observed', () => {
    const v = judge(byId('pidfd_getfd/self_cloexec'), facts('5.4.0'), { errno: 'EINVAL' });
    expect(v.status).toBe('fail');
    expect(v.reason).toContain('expected { errno: "ENOSYS" }, observed { errno: "EINVAL" }');
  });

  it('5.10 kernel with a feature newer than it (backport) is xpass, not a failure', () => {
    const v = judge(byId('fdinfo_nspid/reaped'), facts('5.4.100'), { pid_line: '-1' });
    expect(v.status).toBe('xpass');
    const w = judge(byId('get_info_short/short'), facts('5.10.230'), { errno: 'ENOTTY' });
    expect(w.status).toBe('xpass');
    expect(w.reason).toContain('backport');
  });

  it('a listed stable backport makes the with-answer expected on that stable series only', () => {
    expect(expectationFor(byId('fdinfo_nspid/reaped'), [5, 4, 294]).expect).toBe('with');
    expect(expectationFor(byId('fdinfo_nspid/reaped'), [5, 4, 293]).expect).toBe('without');
    expect(expectationFor(byId('fdinfo_nspid/reaped'), [5, 5, 0]).expect).toBe('with');
  });

  it('kind change: an older kernel giving the older answer passes (checked), any other answer fails', () => {
    const old = judge(byId('pidfs_magic/f_type'), facts('6.1.0-50-amd64'), { f_type: '0x09041934' });
    expect(old.status).toBe('pass');
    expect(old.expected).toBe('without');
    expect(old.reason).toBe('pidfs_magic/f_type: the answer before 6.9, as expected (the answer changed in 6.9), kernel 6.1.0-50-amd64');
    expect(judge(byId('pidfs_magic/f_type'), facts('6.1.0'), { f_type: '0x1234' }).status).toBe('fail');
    expect(judge(byId('pidfs_magic/f_type'), facts('6.1.0'), { f_type: '0x50494446' }).status).toBe('xpass');
    expect(judge(byId('pidfs_magic/f_type'), facts('6.12.0'), { f_type: '0x09041934' }).status).toBe('fail');
    // A plain feature's older answer stays a skip: nothing of the feature was exercised.
    expect(judge(byId('pidfd_getfd/self_cloexec'), facts('5.4.0'), { errno: 'ENOSYS' }).status).toBe('skip');
  });

  it('a kernel that should have it and answers the without-answer is a regression', () => {
    const v = judge(byId('pidfd_nonblock/flag_set'), facts('6.1.0-30-amd64'), { errno: 'EINVAL' });
    expect(v.status).toBe('fail');
    expect(v.reason).toMatch(/pidfd_nonblock\/flag_set: kernel 6\.1\.0-30-amd64 should have it \(since 5\.10\)/);
  });

  it('seccomp-blocked call is a skip saying blocked by seccomp, never "kernel lacks it", with its evidence', () => {
    // Docker's default profile: clone3 ENOSYS although the kernel has sys_clone3; pidfd_getfd EPERM to a bad fd too.
    const clone3 = { syscall: 'clone3', errno: 'ENOSYS', control_errno: 'ENOSYS', in_kallsyms: true };
    const v = judge(byId('clone3/basic'), facts('6.12.0', { seccomp: 2 }), { errno: 'ENOSYS', seccomp_controls: [clone3] });
    expect(v.status).toBe('skip');
    expect(v.reason).toMatch(/^blocked by seccomp: clone3\/basic got ENOSYS from a Seccomp filter \(mode 2\): clone3 with a bad argument got ENOSYS too, and the kernel has sys_clone3/);
    const getfd = { syscall: 'pidfd_getfd', errno: 'EPERM', control_errno: 'EPERM', in_kallsyms: null };
    const g = judge(byId('pidfd_getfd/self_cloexec'), facts('6.12.0', { seccomp: 2 }), { errno: 'EPERM', seccomp_controls: [getfd] });
    expect(g.status).toBe('skip');
    expect(g.reason).toMatch(/^blocked by seccomp: .*pidfd_getfd with a bad argument got EPERM too, where the kernel answers EBADF or EINVAL/);
    // Even an answer that matches (EPERM expected from the kernel) is hidden when the filter gave it.
    expect(judge(byId('pidfd_getfd/eperm'), facts('6.12.0', { seccomp: 2 }), { errno: 'EPERM', seccomp_controls: [getfd] }).status).toBe('skip');
    // Without a filter the same answer is a regression.
    expect(judge(byId('clone3/basic'), facts('6.12.0'), { errno: 'ENOSYS' }).status).toBe('fail');
    // The harness's own clone3 fallback filter (5.3.0-5.3.10) never answers a probe: no excuse.
    const own = facts('5.3.1', { seccomp: 2, harnessFilter: 'clone3-size88-enosys' });
    expect(judge(byId('pidfd_getfd/self_cloexec'), { ...own, version: [6, 12, 0] }, { errno: 'EPERM' }).status).toBe('fail');
  });

  it('no evidence, no excuse: under a filter a refusal the control question shows to be the kernel\'s is judged as the kernel\'s', () => {
    // The kernel answered the bad-fd control itself (EBADF): this EPERM is a regression, not the filter.
    const kernelSaid = { syscall: 'pidfd_getfd', errno: 'EPERM', control_errno: 'EBADF', in_kallsyms: null };
    const v = judge(byId('pidfd_getfd/self_cloexec'), facts('6.12.0', { seccomp: 2 }), { errno: 'EPERM', seccomp_controls: [kernelSaid] });
    expect(v.status).toBe('fail');
    expect(v.reason).toMatch(/a Seccomp filter is active but did not give this EPERM: pidfd_getfd with a bad argument got EBADF, so the kernel answered$/);
    // No control question at all (a call the probe lib cannot ask again): no excuse either.
    expect(judge(byId('pidfd_getfd/self_cloexec'), facts('6.12.0', { seccomp: 2 }), { errno: 'EPERM' }).status).toBe('fail');
    // ENOSYS to the control too, but the kernel has no sys_clone3: the kernel lacks it (a 5.2 kernel: absent as expected).
    const lacks = { syscall: 'clone3', errno: 'ENOSYS', control_errno: 'ENOSYS', in_kallsyms: false };
    expect(judge(byId('clone3/basic'), facts('6.12.0', { seccomp: 2 }), { errno: 'ENOSYS', seccomp_controls: [lacks] }).status).toBe('fail');
  });

  it('needs root / unprivileged skip with the reason', () => {
    // The probe drops privileges itself: root runs the unprivileged cases for real (x86_64).
    expect(judge(byId('pidfd_getfd/eperm'), facts('6.12.0'), { errno: 'EPERM', as_uid: 65534 }).status).toBe('pass');
    // arm64 has the stub children too (suites/lib/arm64stub.ts); an architecture without them skips.
    expect(judge(byId('pidfd_getfd/eperm'), facts('6.12.0', { arch: 'aarch64' }), { errno: 'EPERM', as_uid: 65534 }).status).toBe('pass');
    expect(judge(byId('pidfd_getfd/eperm'), facts('6.12.0', { arch: 'riscv64' }), {}).reason).toMatch(/^needs an unprivileged child: the uid drop is implemented for x86_64 and aarch64 only \(arch riscv64\)/);
    const c = { ...byId('pidfd_getfd/self_cloexec'), needs: ['root' as const] };
    expect(judge(c, facts('6.12.0', { root: false, uid: 1000 }), {}).reason).toBe('needs root: running as uid 1000');
    expect(judge(c, facts('6.12.0', { capSysAdmin: false }), {}).reason).toMatch(/needs root with CAP_SYS_ADMIN/);
  });

  it('broken ranges: 6.9.x giving the broken answer is xfail, a fixed 6.9.y is xpass, 6.10 must work', () => {
    expect(judge(byId('lsof_compat/mode'), facts('6.9.3'), { type_bits: 'S_IFREG' }).status).toBe('xfail');
    expect(judge(byId('lsof_compat/mode'), facts('6.9.12'), { type_bits: 0 }).status).toBe('xpass');
    expect(judge(byId('lsof_compat/mode'), facts('6.10.0'), { type_bits: 'S_IFREG' }).status).toBe('fail');
    expect(judge(byId('lsof_compat/mode'), facts('6.1.0'), { type_bits: 0 }).status).toBe('pass');
  });

  it('a broken range with a stable backport of the fix: that stable series is expected fixed', () => {
    const c = { ...byId('lsof_compat/mode'), broken: [{ from: [6, 9, 0], to: [6, 17, 0], reason: 'r', backports: [[6, 12, 117]] }] } as CatalogCase;
    expect(expectationFor(c, [6, 12, 117])).toMatchObject({ expect: 'with', why: 'fixed in 6.17, backported to 6.12.117' });
    expect(judge(c, facts('6.12.117'), { type_bits: 0 }).status).toBe('pass');
    expect(judge(c, facts('6.12.100'), { type_bits: 'S_IFREG' }).status).toBe('xfail');
    expect(judge(c, facts('6.13.7'), { type_bits: 'S_IFREG' }).status).toBe('xfail');
    expect(judge(c, facts('6.12.117'), { type_bits: 'S_IFREG' }).status).toBe('fail');
  });

  it('a missing prerequisite on an old kernel is absent-as-expected, on a new kernel a failure', () => {
    expect(judge(byId('pidfd_nonblock/flag_set'), facts('5.2.0'), { prereq: 'pidfd_open', errno: 'ENOSYS' }).status).toBe('skip');
    const v = judge(byId('pidfd_nonblock/flag_set'), facts('6.1.0'), { prereq: 'pidfd_open', errno: 'ENOSYS' });
    expect(v.status).toBe('fail');
    expect(v.reason).toContain('prerequisite pidfd_open failed');
  });

  it('an answer may be a list of maps (any of them), e.g. result 0 on anon inodes or EPERM on early pidfs', () => {
    const c = { ...byId('lsof_compat/mode'), broken: [], introduced: [6, 15, 0] as [number, number, number], without: [{ result: 0 }, { errno: 'EPERM' }] };
    expect(judge(c, facts('6.1.0'), { result: 0 }).status).toBe('skip');
    expect(judge(c, facts('6.12.117'), { errno: 'EPERM' }).status).toBe('skip');
    expect(judge(c, facts('6.12.117'), { errno: 'EIO' }).reason).toContain('expected { result: 0 } or { errno: "EPERM" }');
  });

  it('requires: a prerequisite expected absent answers with its own without (5.1: ENOSYS, not the EINVAL of PIDFD_NONBLOCK)', () => {
    const v = judge(req('pidfd_nonblock/flag_set'), facts('5.1.15'), { errno: 'ENOSYS' });
    expect(v.status).toBe('skip');
    expect(v.reason).toBe('absent as expected: pidfd_nonblock/flag_set needs pidfd_open (needs 5.3), kernel 5.1.15');
    expect(v.expectedAnswer).toEqual({ errno: 'ENOSYS' });
    // Where pidfd_open exists, ENOSYS is no longer "absent": PIDFD_NONBLOCK must give EINVAL.
    expect(judge(req('pidfd_nonblock/flag_set'), facts('5.4.286'), { errno: 'ENOSYS' }).status).toBe('fail');
    expect(judge(req('pidfd_nonblock/flag_set'), facts('5.4.286'), { errno: 'EINVAL' }).status).toBe('skip');
    // The prerequisite present anyway (a backport) and the case's own answer given: judged on its own.
    expect(judge(req('pidfd_nonblock/flag_set'), facts('5.2.1'), { errno: 'EINVAL' }).status).toBe('skip');
    expect(judge(req('pidfd_nonblock/flag_set'), facts('5.2.1'), { result: 'fd' }).status).toBe('xpass');
  });

  it('requires: a case newer than its feature needs the feature (5.4: no pidfd_getfd, ENOSYS; 5.6-6.8: EBADF passes)', () => {
    const c = req('pidfd_getfd/esrch_zombie');
    expect(c.requires.map((r) => r.feature)).toEqual(['pidfd_open', 'pidfd_getfd']);
    const v = judge(c, facts('5.4.286'), { errno: 'ENOSYS' });
    expect(v.status).toBe('skip');
    expect(v.reason).toContain('needs pidfd_getfd (needs 5.6)');
    expect(judge(c, facts('5.6.4'), { errno: 'EBADF' }).status).toBe('pass');
    expect(judge(c, facts('5.6.4'), { errno: 'ENOSYS' }).status).toBe('fail');
    expect(judge(c, facts('6.9.0'), { errno: 'ESRCH' }).status).toBe('pass');
    expect(judge(req('pidfd_getfd/self'), facts('5.2.1'), { prereq: 'pidfd_open', errno: 'ENOSYS' }).reason).toContain('needs pidfd_open (needs 5.3)');
  });

  it('a case with no older answer listed fails below its version naming the whole observation and the fix (5.3.1 under SELinux)', () => {
    const c = parseCatalog(`
features:
  - { id: sel, title: t, area: selinux, introduced: "5.3", cases: [{ id: getfd, probe: p, introduced: "5.6", with: { pidfd_getfd: EPERM } }] }
`)[0].cases[0] as CatalogCase;
    const v = judge(c, facts('5.3.1'), { pidfd_getfd: 'ENOSYS', avc_count: 0 });
    expect(v.status).toBe('fail');
    expect(v.reason).toContain('no older answer listed in the catalog (add `without:`), observed { pidfd_getfd: "ENOSYS", avc_count: 0 }');
  });

  it('answers: a list means any of, extra observed keys are ignored', () => {
    expect(matches({ errno: ['EINVAL', 'ENOTTY'] }, { errno: 'ENOTTY', step: 'x' })).toBe(true);
    expect(matches({ errno: ['EINVAL'] }, { errno: 'ENOTTY' })).toBe(false);
    expect(matches({ result: 'fd', cloexec: true }, { result: 'fd' })).toBe(false);
  });
});

describe('a probe that could not set itself up is an error, never a skip or a verdict', () => {
  it('setup_error (e.g. "child did not open fd 3 within 5 s") is an error naming it, on any kernel', () => {
    for (const release of ['5.4.0', '6.12.0']) {
      const v = judge(byId('pidfd_getfd/self_cloexec'), facts(release), { setup_error: 'child did not open fd 3 within 5 s' });
      expect(v).toEqual({ status: 'error', reason: 'pidfd_getfd/self_cloexec: could not run: child did not open fd 3 within 5 s', expected: null, expectedAnswer: null });
    }
  });
});
