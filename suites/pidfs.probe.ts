// pidfs (6.9) versus the anonymous inode: reference §3, §2 rows 20, 21, 24 and §7 R2.
import { readdirSync } from 'node:fs';
import { AT_EMPTY_PATH, O, PIDFD_THREAD, S_IFMT } from './lib/constants.js';
import { close, eventfd, getpid, open, sys } from './lib/libc.js';
import { fdLink, fstatfsType, hex, need, outcome, pidfdOpen, statx, track, type Statx } from './lib/pidfd.js';
import { childrenAtOnePid, spawnChild } from './lib/process.js';
import { needsCapSysAdmin } from './lib/caps.js';
import { featureSuite } from './lib/feature-test.js';

const ident = (s: Statx) => `${s.dev}/${s.ino}`;

function stat(step: string, fd: number): Statx {
  return need(step, statx(fd));
}

/** (st_dev, st_ino) of a fresh eventfd: the one shared anon inode on every kernel. */
function eventfdIdent(): string {
  const ev = need('eventfd', track(eventfd()));
  return ident(stat('statx(eventfd)', ev));
}

function fType(fd: number): string {
  return hex(need('fstatfs', fstatfsType(fd)));
}

/** A thread of this process other than the leader (Node always runs several). */
function nonLeaderTid(): number | null {
  const pid = getpid();
  const tids = readdirSync('/proc/self/task').map(Number).filter((t) => t !== pid);
  return tids[0] ?? null;
}

featureSuite('pidfs_magic', {
  f_type: () => {
    const fd = need('pidfd_open', track(pidfdOpen(getpid())));
    return { f_type: fType(fd) };
  },
  child_f_type: () => {
    const fd = need('pidfd_open(child)', track(pidfdOpen(spawnChild(['sleep', '30']))));
    return { f_type: fType(fd) };
  },
});

featureSuite('pidfs_inode', {
  same_process: () => {
    const a = stat('statx(a)', need('pidfd_open(a)', track(pidfdOpen(getpid()))));
    const b = stat('statx(b)', need('pidfd_open(b)', track(pidfdOpen(getpid()))));
    const ev = eventfdIdent();
    return { same_inode: ident(a) === ident(b), shares_eventfd_inode: ident(a) === ev, a: ident(a), b: ident(b), eventfd: ev };
  },
  other_process_differs: () => {
    const self = stat('statx(self)', need('pidfd_open(self)', track(pidfdOpen(getpid()))));
    const child = stat('statx(child)', need('pidfd_open(child)', track(pidfdOpen(spawnChild(['sleep', '30'])))));
    const ev = eventfdIdent();
    return {
      differs: ident(self) !== ident(child), same_dev: self.dev === child.dev, shares_eventfd_inode: ident(self) === ev,
      self: ident(self), child: ident(child), eventfd: ev,
    };
  },
  reopen_same_ino: () => {
    const pid = spawnChild(['sleep', '30']);
    const first = need('pidfd_open(1st)', pidfdOpen(pid));
    const s1 = stat('statx(1st)', first);
    close(first);
    const s2 = stat('statx(2nd)', need('pidfd_open(2nd)', track(pidfdOpen(pid))));
    const ev = eventfdIdent();
    return { reopen_same_ino: ident(s1) === ident(s2), shares_eventfd_inode: ident(s2) === ev, first: ident(s1), second: ident(s2), eventfd: ev };
  },
  // pidfs numbers inodes per struct pid and pids are handed out per struct pid too, so on a
  // quiet machine st_ino == pid happens by construction (seen on 7.2 and 7.3 guests). What is
  // guaranteed: a pid number used again is a new struct pid, so it gets a new inode.
  ino_not_pid: () => {
    const noCap = needsCapSysAdmin('clone3 set_tid (a second child at the first one\'s pid)');
    if (noCap) return noCap;
    const { first, second } = childrenAtOnePid();
    const again = need('clone3(set_tid=[the reaped pid])', second);
    if (again.pidfd === null || again.pidfd < 0) throw new Error(`clone3(CLONE_PIDFD, set_tid) returned child ${again.pid} but no pidfd`);
    const s1 = stat('statx(1st)', first.pidfd!), s2 = stat('statx(2nd)', again.pidfd);
    const ev = eventfdIdent();
    return {
      same_pid: again.pid === first.pid, reused_pid_same_inode: ident(s1) === ident(s2), shares_eventfd_inode: ident(s2) === ev,
      pid: first.pid, first: ident(s1), second: ident(s2), eventfd: ev,
    };
  },
});

featureSuite('pidfs_thread_inode', {
  nonleader_own_inode: () => {
    const tid = nonLeaderTid();
    if (tid === null) return { skip: 'this process has no non-leader thread' };
    const r = track(pidfdOpen(tid, PIDFD_THREAD));
    if (!r.ok) return { ...outcome(r, true), tid };
    const t = stat('statx(thread)', r.value);
    const leader = stat('statx(leader)', need('pidfd_open(leader)', track(pidfdOpen(getpid()))));
    return { result: 'fd', thread_inode_differs: ident(t) !== ident(leader), thread: ident(t), leader: ident(leader), tid };
  },
  leader_thread_pidfd_shares_inode: () => {
    const r = track(pidfdOpen(getpid(), PIDFD_THREAD));
    if (!r.ok) return outcome(r, true);
    const t = stat('statx(PIDFD_THREAD)', r.value);
    const p = stat('statx(process)', need('pidfd_open(leader)', track(pidfdOpen(getpid()))));
    return { result: 'fd', same_inode: ident(t) === ident(p), thread_pidfd: ident(t), process_pidfd: ident(p) };
  },
});

featureSuite('lsof_compat', {
  st_mode_no_type: () => {
    const s = stat('statx', need('pidfd_open', track(pidfdOpen(getpid()))));
    const fmt = s.mode & S_IFMT;
    return { ifmt: fmt === 0 ? 'none' : fmt === 0o100000 ? 'S_IFREG' : '0o' + fmt.toString(8), mode: '0o' + s.mode.toString(8) };
  },
  readlink_anon_inode: () => {
    const fd = need('pidfd_open', track(pidfdOpen(getpid())));
    const link = fdLink(fd);
    return { link, link_form: /^pidfd:\[\d+\]$/.test(link) ? 'pidfd:[<ino>]' : link };
  },
});

featureSuite('pidfs_reopen', {
  proc_self_fd: () => {
    const fd = need('pidfd_open', track(pidfdOpen(getpid())));
    const r = track(open(`/proc/self/fd/${fd}`, O.RDWR | O.CLOEXEC));
    if (!r.ok) return outcome(r, true);
    const a = stat('statx(pidfd)', fd), b = stat('statx(reopened)', r.value);
    return { result: 'fd', f_type: fType(r.value), same_inode: ident(a) === ident(b), pidfd: ident(a), reopened: ident(b) };
  },
});

// The same reopen read-only (issue 20: only O_RDWR was asked before); pidfs allows it from 6.9.
featureSuite('pidfs_reopen_rdonly', {
  proc_self_fd: () => {
    const fd = need('pidfd_open', track(pidfdOpen(getpid())));
    const r = track(open(`/proc/self/fd/${fd}`, O.RDONLY | O.CLOEXEC));
    if (!r.ok) return outcome(r, true);
    const a = stat('statx(pidfd)', fd), b = stat('statx(reopened)', r.value);
    return { result: 'fd', f_type: fType(r.value), same_inode: ident(a) === ident(b), pidfd: ident(a), reopened: ident(b) };
  },
});

featureSuite('pidfs_setattr', {
  fchmod: () => {
    const fd = need('pidfd_open', track(pidfdOpen(getpid())));
    const mode = stat('statx', fd).mode & 0o7777; // write back what is there: no change on old kernels
    return { ...outcome(sys('fchmod', ['int', fd], ['uint', mode])), mode: '0o' + mode.toString(8) };
  },
  fchown: () => {
    const fd = need('pidfd_open', track(pidfdOpen(getpid())));
    return outcome(sys('fchown', ['int', fd], ['int', -1], ['int', -1]));
  },
});

featureSuite('pidfs_mode', {
  perm_bits: () => {
    const s = stat('statx', need('pidfd_open', track(pidfdOpen(getpid()))));
    return { perm: '0o' + (s.mode & 0o7777).toString(8), mode: '0o' + s.mode.toString(8) };
  },
});

// Fails before exec's point of no return on every kernel (a pidfd holds no binary), so the
// call is made in-process: its errno tells which check refused it.
featureSuite('pidfd_execveat', {
  empty_path: () => {
    const fd = need('pidfd_open', track(pidfdOpen(getpid())));
    const none = Buffer.alloc(8); // argv and envp: { NULL }
    return outcome(sys('execveat', ['int', fd], ['const char *', ''], ['void *', none], ['void *', none], ['int', AT_EMPTY_PATH]));
  },
});
