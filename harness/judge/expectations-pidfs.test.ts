// Fixture tests of the expectation logic for the pidfs / anon_inode catalog (issue 3): the real
// catalog (suites/catalog/*.yaml) judged against observations that kernels this machine does not
// run would give. 6.1 is the anon_inode era, 6.9.x the first pidfs release (R2 broken range),
// 6.12 a pidfs kernel, 6.18.13/6.18.14 the two sides of the EREMOTE backport (R9).
import { describe, expect, it } from 'vitest';
import { allCases, loadCatalog, type CatalogCase } from './catalog.js';
import { judge } from './judge.js';
import type { KernelFacts, Observation } from '../results.js';
import { parseVersion } from './version.js';

const cases = allCases(loadCatalog());

function kase(id: string): CatalogCase {
  const c = cases.find((x) => x.id === id);
  if (!c) throw new Error(`catalog case ${id} is missing`);
  return c;
}

function facts(release: string, over: Partial<KernelFacts> = {}): KernelFacts {
  return {
    release, version: parseVersion(release)!, arch: 'x86_64', uid: 0, root: true, seccomp: 0,
    lsms: [], selinux: 'disabled', container: null, hostname: 'fixture', ...over,
  };
}

const status = (id: string, release: string, observed: Observation, over: Partial<KernelFacts> = {}) =>
  judge(kase(id), facts(release, over), observed);

// What each era answers (taken from real runs on 6.18.44 and from reference §3 for anon_inode).
const ANON = {
  f_type: { f_type: '0x09041934' },
  same_process: { same_inode: true, shares_eventfd_inode: true, a: '0:13/1038', b: '0:13/1038', eventfd: '0:13/1038' },
  other_process: { differs: false, same_dev: true, shares_eventfd_inode: true },
  reopen: { reopen_same_ino: true, shares_eventfd_inode: true },
  ino_not_pid: { same_pid: true, reused_pid_same_inode: true, shares_eventfd_inode: true, pid: 4242, first: '0:13/1038', second: '0:13/1038', eventfd: '0:13/1038' },
  st_mode: { ifmt: 'none', mode: '0o600' },
  link: { link: 'anon_inode:[pidfd]', link_form: 'anon_inode:[pidfd]' },
};
const PIDFS = {
  f_type: { f_type: '0x50494446' },
  same_process: { same_inode: true, shares_eventfd_inode: false, a: '0:5/8833', b: '0:5/8833', eventfd: '0:16/1038' },
  other_process: { differs: true, same_dev: true, shares_eventfd_inode: false },
  reopen: { reopen_same_ino: true, shares_eventfd_inode: false },
  ino_not_pid: { same_pid: true, reused_pid_same_inode: false, shares_eventfd_inode: false, pid: 2761, first: '0:5/779776', second: '0:5/779777', eventfd: '0:16/1038' },
  st_mode: { ifmt: 'none', mode: '0o700' },
  link: { link: 'anon_inode:[pidfd]', link_form: 'anon_inode:[pidfd]' },
};
const PIDFS_69 = { st_mode: { ifmt: 'S_IFREG', mode: '0o100700' }, link: { link: 'pidfd:[1234]', link_form: 'pidfd:[<ino>]' } };

describe('6.1: anon_inode answers are the `without` answers of the pidfs features', () => {
  const k = '6.1.119';
  it.each([
    ['pidfs_magic/f_type', ANON.f_type],
    ['pidfs_magic/child_f_type', ANON.f_type],
    ['pidfs_inode/same_process', ANON.same_process],
    ['pidfs_inode/other_process_differs', ANON.other_process],
    ['pidfs_inode/reopen_same_ino', ANON.reopen],
    ['pidfs_inode/ino_not_pid', ANON.ino_not_pid],
  ])('%s: the anon_inode semantics are checked (kind: change): pass with the older answer', (id, observed) => {
    const v = status(id, k, observed);
    expect(v.status, v.reason).toBe('pass');
    expect(v.reason).toContain('the answer before 6.9');
    expect(v.expected).toBe('without');
  });

  it.each([
    ['pidfs_thread_inode/nonleader_own_inode', { errno: 'EINVAL', tid: 5 }],
    ['pidfs_reopen/proc_self_fd', { errno: 'ENXIO' }],
    ['pidfs_setattr/fchmod', { result: 0, mode: '0o600' }],
    ['pidfs_setattr/fchown', { result: 0 }],
    ['pidfd_ns_ioctls/uts', { errno: 'ENOTTY' }],
    ['pidfd_get_info/size_64', { errno: 'ENOTTY', size: 64 }],
    ['pidfs_file_handle/encode', { errno: 'ENOTSUP' }],
    ['so_peerpidfd/socketpair_self', { errno: 'ENOPROTOOPT' }],
  ])('%s: skip, absent as expected', (id, observed) => {
    const v = status(id, k, observed);
    expect(v.status, v.reason).toBe('skip');
    expect(v.reason).toMatch(/^absent as expected/);
    expect(v.expected).toBe('without');
  });

  it('prerequisites of newer features report absence, not failure', () => {
    for (const [id, prereq, errno] of [
      ['pidfd_info_eremote/foreign_pidns', 'PIDFD_GET_INFO(self)', 'ENOTTY'],
      ['so_peerpidfd_reaped/reaped_peer', 'SO_PEERPIDFD(socketpair)', 'ENOPROTOOPT'],
      ['pidfd_info_size_check/short_size', 'PIDFD_GET_INFO(self)', 'ENOTTY'],
      ['pidfd_ioctl_validation/unknown_cmd_arg', 'PIDFD_GET_UTS_NAMESPACE(self)', 'ENOTTY'],
      ['pidfd_ioctl_validation/unknown_cmd_reaped', 'PIDFD_GET_UTS_NAMESPACE(self)', 'ENOTTY'],
      ['pidfs_xattr/user_rejected', 'fsetxattr(trusted.*)', 'ENOTSUP'],
      ['fd_pidfs_root/open_by_handle', 'name_to_handle_at', 'ENOTSUP'],
      ['pidfd_info_exit/reaped_exit_status', 'PIDFD_GET_INFO(self)', 'EINVAL'],
    ]) {
      // the prerequisite's errno must never be mistaken for the case's own answer
      const v = status(id, k, { prereq, errno });
      expect(v.status, v.reason).toBe('skip');
      expect(v.reason).toContain(`${prereq} unavailable`);
    }
  });

  it('lsof view is the same as before pidfs: pass', () => {
    expect(status('lsof_compat/st_mode_no_type', k, ANON.st_mode).status).toBe('pass');
    expect(status('lsof_compat/readlink_anon_inode', k, ANON.link).status).toBe('pass');
  });

  it('"not pidfs" is not enough: an answer that is neither pidfs nor anon_inode fails', () => {
    const v = status('pidfs_magic/f_type', k, { f_type: '0x01021994' });
    expect(v.status).toBe('fail');
    expect(v.reason).toContain('0x09041934');
    const w = status('pidfs_inode/same_process', k, { same_inode: false, shares_eventfd_inode: false });
    expect(w.status).toBe('fail');
  });

  it('pidfs answers on 6.1 would be an xpass (backport), never a silent pass', () => {
    expect(status('pidfs_magic/f_type', k, PIDFS.f_type).status).toBe('xpass');
  });
});

describe('6.9.x: R2 broken range (S_IFREG, pidfd:[ino])', () => {
  const k = '6.9.5';
  it('S_IFREG and pidfd:[<ino>] are xfail with the R2 reason', () => {
    for (const [id, obs] of [['lsof_compat/st_mode_no_type', PIDFS_69.st_mode], ['lsof_compat/readlink_anon_inode', PIDFS_69.link]] as const) {
      const v = status(id, k, obs);
      expect(v.status, v.reason).toBe('xfail');
      expect(v.reason).toContain('R2');
      expect(v.reason).toContain('db3d841ac9ed');
    }
  });
  it('a 6.9.y kernel with the lsof fix backported is an xpass', () => {
    expect(status('lsof_compat/st_mode_no_type', k, PIDFS.st_mode).status).toBe('xpass');
  });
  it('pidfs itself is there: magic and inode cases pass', () => {
    expect(status('pidfs_magic/f_type', k, PIDFS.f_type).status).toBe('pass');
    expect(status('pidfs_inode/other_process_differs', k, PIDFS.other_process).status).toBe('pass');
  });
  it('6.10 is past the broken range: S_IFREG fails there', () => {
    expect(status('lsof_compat/st_mode_no_type', '6.10.3', PIDFS_69.st_mode).status).toBe('fail');
  });
});

describe('6.12: pidfs answers pass, anon_inode answers fail', () => {
  const k = '6.12.48';
  it.each([
    ['pidfs_magic/f_type', PIDFS.f_type],
    ['pidfs_inode/same_process', PIDFS.same_process],
    ['pidfs_inode/other_process_differs', PIDFS.other_process],
    ['pidfs_inode/reopen_same_ino', PIDFS.reopen],
    ['pidfs_inode/ino_not_pid', PIDFS.ino_not_pid],
    ['lsof_compat/st_mode_no_type', PIDFS.st_mode],
    ['lsof_compat/readlink_anon_inode', PIDFS.link],
    ['pidfd_ns_ioctls/uts', { result: 'fd', f_type: '0x6e736673', matches_proc_ns: true }],
  ])('%s: pass', (id, observed) => {
    const v = status(id, k, observed);
    expect(v.status, v.reason).toBe('pass');
  });
  it('anon_inode answers on 6.12 are regressions', () => {
    expect(status('pidfs_magic/f_type', k, ANON.f_type).status).toBe('fail');
    expect(status('pidfs_inode/same_process', k, ANON.same_process).status).toBe('fail');
  });
  it('features newer than 6.12 are absent with their old answers', () => {
    expect(status('pidfd_get_info/size_64', k, { errno: 'EINVAL', size: 64 }).status).toBe('skip');
    expect(status('so_peerpidfd_reaped/reaped_peer', k, { errno: 'EINVAL', child: 7 }).status).toBe('skip');
    expect(status('pidfd_ioctl_validation/unknown_cmd_arg', k, { unknown_cmd: 'EINVAL' }).status).toBe('skip');
    expect(status('scm_pidfd_reaped/reaped_sender', k, { scm_pidfd: 'errno', scm_errno: 'EINVAL' }).status).toBe('skip');
  });
  it('what a real 6.12.117 guest answered: reopen and fchmod EPERM, trusted xattr EPERM (absent as expected)', () => {
    expect(status('pidfs_reopen/proc_self_fd', k, { errno: 'EPERM' }).status).toBe('skip');
    expect(status('pidfs_setattr/fchmod', k, { errno: 'EPERM', mode: '0o700' }).status).toBe('skip');
    expect(status('pidfs_xattr/trusted_roundtrip', k, { errno: 'EPERM', step: 'fsetxattr' }).status).toBe('skip');
    // and what 6.18 answers passes there
    expect(status('pidfs_reopen/proc_self_fd', '6.18.44', { result: 'fd', f_type: '0x50494446', same_inode: true }).status).toBe('pass');
    expect(status('pidfs_setattr/fchmod', '6.18.44', { errno: 'ENOTSUP', mode: '0o700' }).status).toBe('pass');
  });
});

// 6.19.4, not 6.19.10 as the reference says: [PATCH 6.19 601/781] is in the 6.19.4-rc1 review.
describe('R9 EREMOTE: 7.0, backported to 6.18.14 and 6.19.4', () => {
  const id = 'pidfd_info_eremote/foreign_pidns';
  it('6.18.14 with EREMOTE passes (backport)', () => {
    const v = status(id, '6.18.14', { child_errno: 'EREMOTE' });
    expect(v.status, v.reason).toBe('pass');
    expect(v.reason).toContain('backported to 6.18.14');
  });
  it('6.18.14 with ESRCH fails (the backport is missing)', () => {
    expect(status(id, '6.18.14', { child_errno: 'ESRCH' }).status).toBe('fail');
  });
  it('6.18.13 gives ESRCH: absent as expected; EREMOTE there would be an xpass', () => {
    expect(status(id, '6.18.13', { child_errno: 'ESRCH' }).status).toBe('skip');
    expect(status(id, '6.18.13', { child_errno: 'EREMOTE' }).status).toBe('xpass');
  });
  it('6.19.3 ESRCH skips, 6.19.4 and 6.19.9 EREMOTE pass, 6.19.9 ESRCH fails, 7.0 ESRCH fails', () => {
    expect(status(id, '6.19.3', { child_errno: 'ESRCH' }).status).toBe('skip');
    expect(status(id, '6.19.4', { child_errno: 'EREMOTE' }).status).toBe('pass');
    expect(status(id, '6.19.9', { child_errno: 'EREMOTE' }).status).toBe('pass');
    expect(status(id, '6.19.9', { child_errno: 'ESRCH' }).status).toBe('fail');
    expect(status(id, '7.0.1', { child_errno: 'ESRCH' }).status).toBe('fail');
  });
  it('needs root', () => {
    const v = status(id, '6.18.14', { child_errno: 'EREMOTE' }, { uid: 1000, root: false });
    expect(v.status).toBe('skip');
    expect(v.reason).toContain('needs root');
  });
});

describe('R8 and the named regressions carry their ids and fix versions', () => {
  it('R8: EINVAL up to 6.17.0 skips, ENOTTY from 6.18 passes; on 6.17.0 (no 3c17001b21b9) it is an xpass', () => {
    expect(status('pidfd_info_size_check/short_size', '6.14.0', { short_size: 'EINVAL' }).status).toBe('skip');
    expect(status('pidfd_info_size_check/short_size', '6.17.0', { short_size: 'EINVAL' }).status).toBe('skip');
    // The "vanilla 6.17.0" that answered ENOTTY carried 3c17001b21b9 (6.18): no v6.17 (issue 19).
    expect(status('pidfd_info_size_check/short_size', '6.17.0', { short_size: 'ENOTTY' }).status).toBe('xpass');
    expect(status('pidfd_info_size_check/short_size', '6.18.0', { short_size: 'ENOTTY' }).status).toBe('pass');
  });
  it.each([
    ['R2', 'lsof_compat/st_mode_no_type', '5.3'],
    ['R6', 'pidfd_getfd/esrch_zombie', '6.9'],
    ['R8', 'pidfd_info_size_check/short_size', '6.18'],
    ['R9', 'pidfd_info_eremote/foreign_pidns', '7.0'],
    ['R10', 'so_peerpidfd_reaped/reaped_peer', '6.16'],
    ['R4', 'pidfd_thread_leader_poll/premature_leader_exit', '6.15'],
  ])('%s is named in %s (introduced %s)', (rid, id, introduced) => {
    const c = kase(id);
    expect(`${c.title} ${c.ref}`).toContain(rid);
    expect(c.introduced).toEqual(parseVersion(introduced));
  });
});

describe('R4: leader PIDFD_THREAD poll fix in 6.15 (0fb482728ba1), first stable releases 6.12.31 and 6.14.9', () => {
  const id = 'pidfd_thread_leader_poll/premature_leader_exit';
  const fixed = { leader_thread_poll: 'waits', after_group_exit: 'POLLIN' };
  it('6.1 refuses PIDFD_THREAD: absent', () => expect(status(id, '6.1.119', { leader_thread_poll: 'EINVAL' }).status).toBe('skip'));
  it('6.12.20 fires early: absent as expected', () => expect(status(id, '6.12.20', { leader_thread_poll: 'early', after_group_exit: 'POLLIN' }).status).toBe('skip'));
  it('6.12.26-6.12.30 (the AUTOSEL bases, not releases with the fix) firing early are absent as expected, not regressions', () => {
    expect(status(id, '6.12.26', { leader_thread_poll: 'early', after_group_exit: 'POLLIN' }).status).toBe('skip');
    expect(status(id, '6.14.5', { leader_thread_poll: 'early', after_group_exit: 'POLLIN' }).status).toBe('skip');
  });
  it('6.12.31 has the backport: fixed passes, early fails', () => {
    expect(status(id, '6.12.31', fixed).status).toBe('pass');
    expect(status(id, '6.12.31', { leader_thread_poll: 'early', after_group_exit: 'POLLIN' }).status).toBe('fail');
    expect(status(id, '6.14.9', fixed).status).toBe('pass');
  });
  it('6.18 passes when fixed', () => expect(status(id, '6.18.44', fixed).status).toBe('pass'));
});

describe('pidfs_inode/ino_not_pid: the inode belongs to the struct pid, not the pid number', () => {
  const id = 'pidfs_inode/ino_not_pid';
  it('>= 6.14 numbers inodes per struct pid, like pids: st_ino == pid on a quiet guest is no failure', () => {
    // What sid 7.2.13 gave with --cpus 1 (2026-12-01): inode numbers one off the pid numbers
    // (the old probe failed there on an exact match). Only the reuse is judged, never numbers.
    const quiet = { same_pid: true, reused_pid_same_inode: false, shares_eventfd_inode: false, pid: 272, first: '0:6/273', second: '0:6/274', eventfd: '0:17/142' };
    const v = status(id, '7.2.13', quiet);
    expect(v.status, v.reason).toBe('pass');
    expect(status(id, '7.2.13', { ...quiet, first: '0:6/272', second: '0:6/273' }).status).toBe('pass');
  });
  it('what bookworm 6.1.176 gave: the reused pid shares the one anon inode (a checked pass)', () => {
    const v = status(id, '6.1.176', { same_pid: true, reused_pid_same_inode: true, shares_eventfd_inode: true, pid: 274, first: '0:14/1048', second: '0:14/1048', eventfd: '0:14/1048' });
    expect(v.status, v.reason).toBe('pass');
  });
  it('pidfs handing the reused pid the old inode would be a regression', () => {
    const v = status(id, '6.12.48', { ...PIDFS.ino_not_pid, reused_pid_same_inode: true, second: PIDFS.ino_not_pid.first });
    expect(v.status).toBe('fail');
    expect(v.reason).toContain('reused_pid_same_inode: false');
  });
  it('5.4 has clone3 but no set_tid (E2BIG): absent as expected, naming clone3_set_tid', () => {
    const v = status(id, '5.4.286', { prereq: 'clone3(set_tid=[the reaped pid])', errno: 'E2BIG' });
    expect(v.status, v.reason).toBe('skip');
    expect(v.reason).toContain('needs clone3_set_tid');
    // and 5.2 has no clone3 at all
    expect(status(id, '5.2.1', { prereq: 'clone3(CLONE_PIDFD)', errno: 'ENOSYS' }).status).toBe('skip');
  });
  it('set_tid needs CAP_SYS_ADMIN: root without it (a container) and non-root skip with the reason', () => {
    const noCap = status(id, '6.18.44', {}, { capSysAdmin: false });
    expect(noCap.status).toBe('skip');
    expect(noCap.reason).toContain('CAP_SYS_ADMIN');
    expect(status(id, '6.18.44', {}, { uid: 1000, root: false }).reason).toContain('needs root');
  });
  it('clone3_set_tid/reused_pid: E2BIG on 5.4 is absent as expected, the requested pid on 5.5+ passes', () => {
    expect(status('clone3_set_tid/reused_pid', '5.4.286', { errno: 'E2BIG', requested: 300 }).status).toBe('skip');
    expect(status('clone3_set_tid/reused_pid', '6.1.119', { result: 'child', same_pid: true, requested: 300, got: 300 }).status).toBe('pass');
    expect(status('clone3_set_tid/reused_pid', '6.1.119', { errno: 'EINVAL', requested: 300 }).status).toBe('fail');
  });
});
