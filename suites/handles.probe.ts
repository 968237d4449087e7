// pidfs as a filesystem object (6.14+): file handles, FS_IOC_GETVERSION, detached bind mounts,
// PIDFD_SELF_* (6.15), trusted xattrs and FD_PIDFS_ROOT (6.17), CLONE_AUTOREAP / CLONE_NNP /
// CLONE_PIDFD_AUTOKILL (7.1), io_uring IORING_OP_WAITID (6.7) and R6 (getfd on a zombie).
// Reference §2 rows 19, 27-29, 32, 36, 37, 41, §2.2, §3.7, §7 R6.
import {
  ARCH, CLONE, FD_PIDFS_ROOT, NR, SIG, FILEID_KERNFS, FS_IOC_GETVERSION, O, PIDFD_INFO, PIDFD_SELF_THREAD, PIDFD_SELF_THREAD_GROUP, POLL,
  AT_EMPTY_PATH,
} from './lib/constants.js';
import {
  addressOf, close, eventfd, fgetxattr, kill, write, flistxattr, fremovexattr, fsetxattr, getpid, open, poll, sys, type Res,
} from './lib/libc.js';
import { getInfo, maskNames } from './lib/pidfd-info.js';
import {
  fstatfsType, hex, ioctl, isCloexec, isNonblock, need, outcome, pidfdGetfd, pidfdOpen, pidfdSendSignal, statx, track, type Statx,
} from './lib/pidfd.js';
import { forget, reap, sleepMs, spawnChild, waitExitedNoReap, waitid } from './lib/process.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  clone3Code, forkWaitExitCode, prematureLeaderExitCode, reparentAutoreapCode, runInChild, stepsCode, stepsThenExitCode, syscallThenExitCode, STUB_NR,
} from './lib/stub.js';
import { featureSuite } from './lib/feature-test.js';
import { nameToHandle, openByHandle, type Handle } from './lib/fhandle.js';
import { needsCapSysAdmin } from './lib/caps.js';

const ident = (s: Statx) => `${s.dev}/${s.ino}`;
const selfPidfd = () => need('pidfd_open(self)', track(pidfdOpen(getpid())));

// ---- file handles ------------------------------------------------------------------------
// open(2) flags of x86_64 and the generic table (aarch64 differs only in O_DIRECT/O_DIRECTORY/
// O_NOFOLLOW/O_LARGEFILE, which this list reads from the table below per arch).
const OFLAG = ARCH === 'aarch64'
  ? { DIRECT: 0o200000, DIRECTORY: 0o40000, NOFOLLOW: 0o100000 }
  : { DIRECT: 0o40000, DIRECTORY: 0o200000, NOFOLLOW: 0o400000 };
/** selftest open_by_handle_at_invalid_flags: every flag pidfs must refuse on a decoded pidfd. */
const INVALID_OPEN_FLAGS: [string, number][] = [
  ['FASYNC', 0o20000], ['O_CREAT', 0o100], ['O_NOCTTY', 0o400], ['O_TRUNC', 0o1000], ['O_APPEND', 0o2000],
  ['O_SYNC', 0o4010000], ['O_DSYNC', 0o10000], ['O_DIRECT', OFLAG.DIRECT], ['O_DIRECTORY', OFLAG.DIRECTORY],
  ['O_NOFOLLOW', OFLAG.NOFOLLOW], ['O_NOATIME', 0o1000000], ['O_PATH', 0o10000000], ['O_TMPFILE', 0o20000000 | OFLAG.DIRECTORY],
];
const AT_HANDLE_FID = 0x200, AT_HANDLE_CONNECTABLE = 0x002, AT_FDCWD = -100, O_WRONLY = 1;

/** A live child's pidfd and its handle; null handle: the kernel cannot encode one (the feature's answer). */
function childHandle(): { pid: number; fd: number; h: Res<Handle> } {
  const pid = spawnChild(['sleep', '30']);
  const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
  return { pid, fd, h: nameToHandle(fd) };
}

/** Decode `h` with `flags` through the caller's own pidfd; an fd on the same inode as `fd`, or the errno. */
function decodeAs(fd: number, h: Handle, flags: number): string | boolean {
  const r = track(openByHandle(selfPidfd(), h, flags));
  if (!r.ok) return r.errno;
  const a = need('statx(pidfd)', statx(fd)), b = need('statx(decoded)', statx(r.value));
  return ident(a) === ident(b);
}

featureSuite('pidfs_file_handle', {
  encode: () => {
    const fd = selfPidfd();
    const h = nameToHandle(fd);
    if (!h.ok) return { errno: h.errno };
    const st = need('statx', statx(fd));
    return { result: 0, handle_type: hex(h.value.type), handle_bytes: h.value.bytes, payload_is_ino: h.value.payload === String(st.ino), payload: h.value.payload, ino: String(st.ino) };
  },
  decode: () => {
    const pid = spawnChild(['sleep', '30']);
    const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
    const h = nameToHandle(fd);
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const r = track(openByHandle(fd, h.value));
    if (!r.ok) return { errno: r.errno, step: 'open_by_handle_at' };
    const a = need('statx(pidfd)', statx(fd)), b = need('statx(decoded)', statx(r.value));
    const ft = fstatfsType(r.value);
    return { result: 'fd', same_inode: ident(a) === ident(b), f_type: ft.ok ? hex(ft.value) : ft.errno };
  },
  decode_reaped: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
    const h = nameToHandle(fd);
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    waitExitedNoReap(pid);
    reap(pid);
    return { ...outcome(track(openByHandle(fd, h.value)), true), step: 'open_by_handle_at' };
  },
  // selftest file_handle_same_pidns: the three opens it makes, and the fd flags they give
  decode_open_flags: () => {
    const { fd, h } = childHandle();
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const opens = [0, O.CLOEXEC, O.NONBLOCK].map((fl) => track(openByHandle(selfPidfd(), h.value, fl)));
    const bad = opens.find((r) => !r.ok);
    if (bad && !bad.ok) return { errno: bad.errno, step: 'open_by_handle_at' };
    const fds = opens.map((r) => (r as { value: number }).value);
    const a = need('statx(pidfd)', statx(fd));
    return {
      result: 'fd', same_inode: fds.every((x) => ident(need('statx(decoded)', statx(x))) === ident(a)),
      plain: `${isCloexec(fds[0]) ? 'cloexec' : 'no cloexec'}, ${isNonblock(fds[0]) ? 'nonblock' : 'blocking'}`,
      o_cloexec: isCloexec(fds[1]), o_nonblock: isNonblock(fds[2]),
    };
  },
  // selftest pid_has_exited: the child is a zombie and its only pidfd is closed; the handle decodes
  decode_zombie: () => {
    const { pid, fd, h } = childHandle();
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const before = need('statx(pidfd)', statx(fd));
    need('pidfd_send_signal(SIGKILL)', pidfdSendSignal(fd, SIG.KILL));
    waitExitedNoReap(pid);
    close(fd);
    const r = track(openByHandle(selfPidfd(), h.value, 0));
    if (!r.ok) return { errno: r.errno, step: 'open_by_handle_at' };
    return { result: 'fd', same_inode: ident(need('statx(decoded)', statx(r.value))) === ident(before) };
  },
  // selftest file_handle_child_pidns: a child in a new pid namespace decodes from ours (its ancestor)
  decode_child_pidns: () => {
    const noCap = needsCapSysAdmin('clone3(CLONE_NEWPID)');
    if (noCap) return noCap;
    const out = new Int32Array([-1]);
    const pause = syscallThenExitCode(STUB_NR.pause, []);
    const c = need('clone3(CLONE_NEWPID|CLONE_PIDFD)', clone3Code(BigInt(CLONE.NEWPID | CLONE.PIDFD), pause, SIG.CHLD, out));
    const fd = out[0];
    track({ ok: true, value: fd });
    const h = nameToHandle(fd);
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const same = decodeAs(fd, h.value, 0);
    kill(c, SIG.KILL);
    reap(c);
    return typeof same === 'string' ? { errno: same, step: 'open_by_handle_at' } : { result: 'fd', same_inode: same };
  },
  // selftest file_handle_foreign_pidns: a caller inside a new pid namespace cannot decode the
  // handle of a process outside it (here: the prober itself, its parent's namespace)
  decode_foreign_pidns: () => {
    const noCap = needsCapSysAdmin('clone3(CLONE_NEWPID)');
    if (noCap) return noCap;
    const self = selfPidfd();
    const h = nameToHandle(self);
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const decode = syscallThenExitCode(NR.open_by_handle_at, [self, addressOf(h.value.buf), 0]);
    const r = runInChild(BigInt(CLONE.NEWPID), decode);
    return { result: 0, child_decode: need('clone3(CLONE_NEWPID)', r) };
  },
  // selftest open_by_handle_at_valid_flags (O_NDELAY is O_NONBLOCK, PIDFD_THREAD is O_EXCL)
  open_flags_valid: () => {
    const { fd, h } = childHandle();
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const same = decodeAs(fd, h.value, O.RDONLY | O_WRONLY | O.RDWR | O.NONBLOCK | O.CLOEXEC | O.EXCL);
    return typeof same === 'string' ? { errno: same, step: 'open_by_handle_at' } : { result: 'fd', same_inode: same };
  },
  // selftest open_by_handle_at_invalid_flags: each flag alone; the names the kernel accepted, and its errnos
  open_flags_invalid: () => {
    const { h } = childHandle();
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const answers = INVALID_OPEN_FLAGS.map(([name, fl]) => [name, track(openByHandle(selfPidfd(), h.value, fl))] as const);
    const accepted = answers.filter(([, r]) => r.ok).map(([n]) => n);
    const errnos = [...new Set(answers.flatMap(([, r]) => (r.ok ? [] : [r.errno])))].sort();
    return { result: 0, accepted: accepted.length ? accepted.join(' ') : 'none', refused_with: errnos.join(' ') };
  },
  // selftest lookup_must_fail: a pidfd is no directory, with or without AT_EMPTY_PATH
  lookup_enotdir: () => {
    const { fd, h } = childHandle();
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' }; // the plain handle first: the kernel has them
    const name = 'lookup-is-not-possible-with-pidfs';
    const a = nameToHandle(fd, AT_EMPTY_PATH, name), b = nameToHandle(fd, 0, name);
    return { result: 0, lookup_empty_path: a.ok ? 'handle' : a.errno, lookup: b.ok ? 'handle' : b.errno };
  },
  // selftest invalid_name_to_handle_at_flags: AT_HANDLE_CONNECTABLE (6.13) with AT_EMPTY_PATH
  connectable_refused: () => {
    const { fd, h } = childHandle();
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const c = nameToHandle(fd, AT_EMPTY_PATH | AT_HANDLE_CONNECTABLE);
    return { result: 0, connectable: c.ok ? 'handle' : c.errno };
  },
  // selftest valid_name_to_handle_at_flags: an AT_HANDLE_FID handle still decodes on pidfs
  fid_decodes: () => {
    const { fd, h } = childHandle();
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const fid = nameToHandle(fd, AT_EMPTY_PATH | AT_HANDLE_FID);
    if (!fid.ok) return { result: 0, fid_handle: fid.errno };
    const same = decodeAs(fd, fid.value, 0);
    return { result: 0, fid_handle: 'handle', decoded: typeof same === 'string' ? same : 'fd', same_inode: same === true };
  },
  // selftest decode_purely_based_on_file_handle: -EBADF and AT_FDCWD are no mount fd for a pidfs handle
  refused_mount_fds: () => {
    const { h } = childHandle();
    if (!h.ok) return { errno: h.errno, step: 'name_to_handle_at' };
    const a = track(openByHandle(-9, h.value, 0)), b = track(openByHandle(AT_FDCWD, h.value, 0));
    return { result: 0, ebadf_fd: a.ok ? 'fd' : a.errno, at_fdcwd: b.ok ? 'fd' : b.errno };
  },
});

featureSuite('pidfs_getversion', {
  fs_ioc_getversion: () => {
    const b = Buffer.alloc(8, 0xff);
    const r = ioctl(selfPidfd(), FS_IOC_GETVERSION, b);
    if (!r.ok) return { errno: r.errno };
    return { result: 0, generation: b.readUInt32LE(0) };
  },
});

// ---- bind mounts: only a detached clone (open_tree(OPEN_TREE_CLONE)), never attached --------
const OPEN_TREE_CLONE = 1, OPEN_TREE_CLOEXEC = O.CLOEXEC;

function bindOpenTreeClone() {
  const noCap = needsCapSysAdmin('open_tree(OPEN_TREE_CLONE)');
  if (noCap) return noCap;
  const fd = selfPidfd();
  const r = track(sys('open_tree', ['int', fd], ['const char *', ''], ['uint', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH]));
  if (!r.ok) return { errno: r.errno };
  const a = need('statx(pidfd)', statx(fd)), b = need('statx(tree)', statx(r.value));
  // reopen through the detached mount's O_PATH fd, as the selftest does via /proc/self/fd
  const re = track(open(`/proc/self/fd/${r.value}`, O.RDWR | O.CLOEXEC));
  const c = re.ok ? statx(re.value) : null;
  return {
    result: 'fd', same_inode: ident(a) === ident(b),
    reopened: re.ok ? 'fd' : re.errno, reopened_same_inode: c?.ok ? ident(c.value) === ident(a) : false,
  };
}

const MOVE_STEPS = ['mount(/, MS_REC|MS_PRIVATE)', 'move_mount(tree fd -> target)', 'open(target, O_RDWR)', 'pidfd_send_signal(reopened, 0)'];

featureSuite('pidfs_bind_mount', {
  open_tree_clone: bindOpenTreeClone,
  move_mount_private_ns: () => {
    const noCap = needsCapSysAdmin('a private mount namespace');
    if (noCap) return noCap;
    const fd = selfPidfd();
    const tree = track(sys('open_tree', ['int', fd], ['const char *', ''], ['uint', OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH]));
    if (!tree.ok) return { errno: tree.errno };
    // The attach happens only in a clone3(CLONE_NEWNS) child whose mounts are first made
    // private, so nothing propagates to this namespace; the child's namespace dies with it.
    const dir = mkdtempSync('/tmp/pidfd-matrix-bind-');
    const target = `${dir}/pidfd`;
    writeFileSync(target, '');
    const path = Buffer.from(target + '\0'), root = Buffer.from('/\0'), empty = Buffer.from('\0');
    try {
      const code = stepsThenExitCode([
        { nr: STUB_NR.mount, args: [0, addressOf(root), 0, 0x4000 | 0x40000, 0] }, // mount(NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL)
        { nr: STUB_NR.move_mount, args: [tree.value, addressOf(empty), -100, addressOf(path), 0x4] }, // move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH)
        { nr: STUB_NR.openat, args: [-100, addressOf(path), O.RDWR | O.CLOEXEC, 0] }, // openat(AT_FDCWD, target, O_RDWR|O_CLOEXEC)
        { nr: STUB_NR.pidfd_send_signal, args: ['prev', 0, 0, 0] }, // pidfd_send_signal(that fd, 0, NULL, 0)
      ]);
      const pid = need('clone3(CLONE_NEWNS)', clone3Code(BigInt(CLONE.NEWNS), code));
      const si = reap(pid);
      const st = si?.status ?? -1;
      return { result: 'fd', child: st === 0 ? 'ok' : st >= 200 && st < 204 ? `failed: ${MOVE_STEPS[st - 200]}` : `status ${st}` };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
});

// ---- PIDFD_SELF_* -------------------------------------------------------------------------
featureSuite('pidfd_self', {
  thread_group: () => outcome(pidfdSendSignal(PIDFD_SELF_THREAD_GROUP, 0)),
  thread: () => outcome(pidfdSendSignal(PIDFD_SELF_THREAD, 0)),
});

// ---- trusted xattrs ------------------------------------------------------------------------
featureSuite('pidfs_xattr', {
  trusted_roundtrip: () => {
    const noCap = needsCapSysAdmin('setting trusted.* xattrs');
    if (noCap) return noCap;
    const fd = selfPidfd();
    const name = 'trusted.pidfd_matrix';
    const s = fsetxattr(fd, name, Buffer.from('v1'));
    if (!s.ok) return { errno: s.errno, step: 'fsetxattr' };
    const g = fgetxattr(fd, name);
    const l = flistxattr(fd);
    const rm = fremovexattr(fd, name);
    const after = fgetxattr(fd, name);
    return {
      result: 0, get: g.ok ? g.value.toString() : g.errno, listed: l.ok ? l.value.includes(name) : l.errno,
      remove: rm.ok ? 0 : rm.errno, after_remove: after.ok ? 'still there' : after.errno,
    };
  },
  // selftest pidfd_xattr_test.c set_get_list_xattr_multiple: ten xattrs set, read, listed, removed.
  ten_xattrs: () => {
    const noCap = needsCapSysAdmin('setting trusted.* xattrs');
    if (noCap) return noCap;
    const fd = selfPidfd();
    const names = Array.from({ length: 10 }, (_, i) => `trusted.pidfd_matrix_${i}`);
    const first = fsetxattr(fd, names[0], Buffer.from('value0'));
    if (!first.ok) return { errno: first.errno, step: 'fsetxattr' };
    const set = names.slice(1).map((n, i) => fsetxattr(fd, n, Buffer.from(`value${i + 1}`)));
    const got = names.map((n, i) => fgetxattr(fd, n)).filter((g, i) => g.ok && g.value.toString() === `value${i}`).length;
    const l = flistxattr(fd);
    const listed = l.ok ? names.filter((n) => l.value.includes(n)).length : l.errno;
    const removed = names.map((n) => fremovexattr(fd, n)).filter((r) => r.ok).length;
    const after = names.map((n) => fgetxattr(fd, n)).map((g) => (g.ok ? 'still there' : g.errno));
    return {
      result: 0, set: 1 + set.filter((r) => r.ok).length, read_back: got, listed, removed,
      after_remove: after.every((a) => a === after[0]) ? after[0] : after.join(' '),
    };
  },
  // set_get_list_xattr_persistent: an xattr set through a child's pidfd is still there after that
  // (only) pidfd is closed and pidfd_open makes a new one (the xattrs live with the struct pid).
  persists_after_close: () => {
    const noCap = needsCapSysAdmin('setting trusted.* xattrs');
    if (noCap) return noCap;
    const pid = spawnChild(['sleep', '30']);
    const a = need('pidfd_open(child)', pidfdOpen(pid));
    const s = fsetxattr(a, 'trusted.pidfd_matrix_persist', Buffer.from('kept'));
    close(a);
    if (!s.ok) return { errno: s.errno, step: 'fsetxattr' };
    const b = need('pidfd_open(child) again', track(pidfdOpen(pid)));
    const g = fgetxattr(b, 'trusted.pidfd_matrix_persist');
    return { result: 0, after_reopen: g.ok ? g.value.toString() : g.errno };
  },
  user_rejected: () => {
    const noCap = needsCapSysAdmin('the trusted.* prerequisite');
    if (noCap) return noCap;
    // only trusted.* has a handler; user.* is refused on every kernel with or without pidfs xattrs
    const fd = selfPidfd();
    // named by the feature's id: refused, it is this feature's older answer (no pidfs xattrs)
    need('pidfs_xattr (fsetxattr trusted.*)', fsetxattr(fd, 'trusted.pidfd_matrix_probe', Buffer.from('x')));
    fremovexattr(fd, 'trusted.pidfd_matrix_probe');
    const r = fsetxattr(fd, 'user.pidfd_matrix', Buffer.from('x'));
    if (r.ok) fremovexattr(fd, 'user.pidfd_matrix');
    return { user_xattr: r.ok ? 'set' : r.errno };
  },
});

featureSuite('fd_pidfs_root', {
  open_by_handle: () => {
    const pid = spawnChild(['sleep', '30']);
    const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
    const h = need('name_to_handle_at', nameToHandle(fd)); // 6.14+
    const r = track(openByHandle(FD_PIDFS_ROOT, h));
    if (!r.ok) return { errno: r.errno };
    const a = need('statx(pidfd)', statx(fd)), b = need('statx(decoded)', statx(r.value));
    return { result: 'fd', same_inode: ident(a) === ident(b) };
  },
  // selftest decode_purely_based_on_file_handle: FD_PIDFS_ROOT with open flags 0, O_CLOEXEC, O_NONBLOCK
  open_flags: () => {
    const { fd, h } = childHandle();
    const handle = need('name_to_handle_at', h); // 6.14+
    const opens = [0, O.CLOEXEC, O.NONBLOCK].map((fl) => track(openByHandle(FD_PIDFS_ROOT, handle, fl)));
    const bad = opens.find((r) => !r.ok);
    if (bad && !bad.ok) return { errno: bad.errno };
    const fds = opens.map((r) => (r as { value: number }).value);
    const a = need('statx(pidfd)', statx(fd));
    return {
      result: 'fd', same_inode: fds.every((x) => ident(need('statx(decoded)', statx(x))) === ident(a)),
      o_cloexec: isCloexec(fds[1]), o_nonblock: isNonblock(fds[2]),
    };
  },
});

// ---- clone3 flags of 7.1 -------------------------------------------------------------------
function waitPollIn(fd: number, ms: number): string {
  const r = poll(fd, POLL.IN, ms);
  return r.ok ? (r.value & POLL.IN ? 'POLLIN' : 'timeout') : r.errno;
}

/** PIDFD_GET_INFO(EXIT) of an autoreaped child, asked again for up to 2 s (see `autoreap` below). */
function autoreapExit(fd: number): string {
  let info = getInfo(fd, PIDFD_INFO.EXIT);
  for (let t = 0; t < 200 && info.ok && !maskNames(info.value.mask).includes('EXIT'); t++) {
    sleepMs(10);
    info = getInfo(fd, PIDFD_INFO.EXIT);
  }
  return info.ok ? (maskNames(info.value.mask).includes('EXIT') ? hex(info.value.exitCode) : 'no EXIT bit') : info.errno;
}

const noZombie = (pid: number): string => {
  const w = waitid(1 /* P_PID */, pid, 4 /* WEXITED */ | 1 /* WNOHANG */);
  forget(pid);
  return w.ok ? `pid ${w.value.pid}` : w.errno;
};

/** An autoreap child that pause()s, with its clone3 pidfd; null when the kernel refuses CLONE_AUTOREAP. */
function pausedAutoreapChild(extra = 0n): { pid: number; fd: number } | { errno: string } {
  const out = new Int32Array([-1]);
  const r = clone3Code(CLONE.AUTOREAP | BigInt(CLONE.PIDFD) | extra, syscallThenExitCode(STUB_NR.pause, []), 0, out);
  if (!r.ok) return { errno: r.errno };
  track({ ok: true, value: out[0] });
  return { pid: r.value, fd: out[0] };
}

/** pidfd_autoreap_test.c's rejected combinations: [key, flags, exit_signal]. */
const THREADED = BigInt(CLONE.THREAD | CLONE.SIGHAND | CLONE.VM);
const REJECTED_COMBOS: [string, bigint, number][] = [
  ['exit_signal', CLONE.AUTOREAP, SIG.CHLD], //                                        autoreap_rejects_exit_signal
  ['parent', CLONE.AUTOREAP | BigInt(CLONE.PARENT), 0], //                            autoreap_rejects_parent
  ['thread', CLONE.AUTOREAP | THREADED, 0], //                                        autoreap_rejects_thread
  ['nnp_thread', CLONE.NNP | THREADED, 0], //                                         nnp_rejects_thread
  ['autokill_no_pidfd', CLONE.PIDFD_AUTOKILL | CLONE.AUTOREAP, 0], //                  autokill_requires_pidfd
  ['autokill_no_autoreap', CLONE.PIDFD_AUTOKILL | BigInt(CLONE.PIDFD), 0], //          autokill_requires_autoreap
  ['autokill_thread', CLONE.PIDFD_AUTOKILL | CLONE.AUTOREAP | BigInt(CLONE.PIDFD) | THREADED, 0], // autokill_rejects_thread
];

featureSuite('clone_autoreap', {
  autoreap: () => {
    const out = new Int32Array([-1]);
    const r = clone3Code(CLONE.AUTOREAP | BigInt(CLONE.PIDFD), syscallThenExitCode(STUB_NR.exit, [3]), 0, out);
    if (!r.ok) return { errno: r.errno };
    track({ ok: true, value: out[0] });
    const polled = waitPollIn(out[0], 5000);
    const w = waitid(1 /* P_PID */, r.value, 4 /* WEXITED */ | 1 /* WNOHANG */);
    forget(r.value);
    // The POLLIN wake-up can come before the exit information is stored for an autoreaped child
    // (seen once on sid 7.2.13 under TCG: "no EXIT bit", then right on two reruns), so ask again
    // for up to 2 s; a kernel that never stores it still answers "no EXIT bit".
    let info = getInfo(out[0], PIDFD_INFO.EXIT);
    for (let t = 0; t < 200 && info.ok && !maskNames(info.value.mask).includes('EXIT'); t++) {
      sleepMs(10);
      info = getInfo(out[0], PIDFD_INFO.EXIT);
    }
    return {
      result: 'child', poll: polled, waitid: w.ok ? `pid ${w.value.pid}` : w.errno,
      exit: info.ok ? (maskNames(info.value.mask).includes('EXIT') ? hex(info.value.exitCode) : 'no EXIT bit') : info.errno,
    };
  },
  nnp: () => {
    // child exits with prctl(PR_GET_NO_NEW_PRIVS) as its status
    const r = clone3Code(CLONE.NNP, syscallThenExitCode(STUB_NR.prctl, [39, 0, 0, 0, 0], 'result'));
    if (!r.ok) return { errno: r.errno };
    const si = reap(r.value);
    return { result: 'child', child_no_new_privs: si ? si.status : 'not reaped' };
  },
  pidfd_autokill: () => {
    const noCap = needsCapSysAdmin('CLONE_PIDFD_AUTOKILL without CLONE_NNP');
    if (noCap) return noCap;
    // CLONE_PIDFD|CLONE_AUTOREAP|CLONE_PIDFD_AUTOKILL: closing the clone3 pidfd SIGKILLs the child
    const out = new Int32Array([-1]);
    const r = clone3Code(CLONE.PIDFD_AUTOKILL | CLONE.AUTOREAP | BigInt(CLONE.PIDFD), syscallThenExitCode(STUB_NR.pause, []), 0, out);
    if (!r.ok) return { errno: r.errno };
    const watch = need('pidfd_open(child)', track(pidfdOpen(r.value)));
    const before = waitPollIn(watch, 0);
    close(out[0]);
    const after = waitPollIn(watch, 5000);
    forget(r.value);
    // the exit information can trail the POLLIN wake-up of an autoreaped child (autoreapExit): seen
    // once on trixie-backports 7.3.4 under TCG (2026-12-06, 'no EXIT bit' right after POLLIN)
    const told = autoreapExit(watch);
    const exit = /^0x/.test(told) ? parseInt(told, 16) : null;
    return { result: 'child', before_close: before, after_close: after, killed_on_close: after === 'POLLIN' && exit !== null && (exit & 0x7f) === 9, exit_code: exit === null ? null : hex(exit) };
  },
  // selftest autoreap_without_pidfd: no CLONE_PIDFD; a pidfd_open() fd watches the child die
  without_pidfd: () => {
    const r = clone3Code(CLONE.AUTOREAP, syscallThenExitCode(STUB_NR.pause, []), 0);
    if (!r.ok) return { errno: r.errno };
    const watch = need('pidfd_open(child)', track(pidfdOpen(r.value)));
    need('pidfd_send_signal(SIGKILL)', pidfdSendSignal(watch, SIG.KILL));
    return { result: 'child', poll: waitPollIn(watch, 5000), waitid: noZombie(r.value) };
  },
  // selftest autoreap_signaled
  signaled: () => {
    const c = pausedAutoreapChild();
    if ('errno' in c) return c;
    need('pidfd_send_signal(SIGKILL)', pidfdSendSignal(c.fd, SIG.KILL));
    const polled = waitPollIn(c.fd, 5000);
    return { result: 'child', poll: polled, exit: autoreapExit(c.fd), waitid: noZombie(c.pid) };
  },
  // the seven EINVAL rows of the selftest; a plain CLONE_AUTOREAP child first (the kernel has the flags)
  rejected_combos: () => {
    const plain = clone3Code(CLONE.AUTOREAP, syscallThenExitCode(STUB_NR.exit, [0]), 0);
    if (!plain.ok) return { errno: plain.errno };
    forget(plain.value);
    const out: Record<string, string> = { result: 'child' };
    for (const [key, flags, sig] of REJECTED_COMBOS) {
      const pidfd = new Int32Array([-1]);
      const r = clone3Code(flags, syscallThenExitCode(STUB_NR.exit /* this thread or child only */, [0]), sig, pidfd);
      if (r.ok) {
        // Accepted (a regression): never kill() a thread of this process at cleanup.
        if (flags & THREADED) forget(r.value);
        if (pidfd[0] >= 0) close(pidfd[0]);
      }
      out[key] = r.ok ? 'accepted' : r.errno;
    }
    return out;
  },
  // selftest autoreap_no_new_privs_unset: only CLONE_NNP sets it
  no_new_privs_unset: () => {
    const out = new Int32Array([-1]);
    const getNnp = syscallThenExitCode(STUB_NR.prctl, [39 /* PR_GET_NO_NEW_PRIVS */, 0, 0, 0, 0], 'result');
    const r = clone3Code(CLONE.AUTOREAP | BigInt(CLONE.PIDFD), getNnp, 0, out);
    if (!r.ok) return { errno: r.errno };
    track({ ok: true, value: out[0] });
    const polled = waitPollIn(out[0], 5000);
    forget(r.value);
    const exit = autoreapExit(out[0]);
    const nnp = /^0x/.test(exit) ? (parseInt(exit, 16) >> 8) & 0xff : exit;
    return { result: 'child', poll: polled, exit, child_no_new_privs: nnp };
  },
  // selftest autokill_pidfd_open_no_effect (CLONE_NNP: no CAP_SYS_ADMIN needed)
  autokill_pidfd_open_no_effect: () => {
    const c = pausedAutoreapChild(CLONE.PIDFD_AUTOKILL | CLONE.NNP);
    if ('errno' in c) return c;
    close(need('pidfd_open(child)', pidfdOpen(c.pid)));
    sleepMs(200);
    const afterOpenClose = waitPollIn(c.fd, 0);
    const watch = need('pidfd_open(child) again', track(pidfdOpen(c.pid)));
    close(c.fd);
    const afterCloneClose = waitPollIn(watch, 5000);
    return {
      result: 'child', after_pidfd_open_close: afterOpenClose, after_clone3_pidfd_close: afterCloneClose, waitid: noZombie(c.pid),
    };
  },
  // selftest autokill_requires_cap_sys_admin: a caller that dropped every capability (capset),
  // without CLONE_NNP; a plain CLONE_AUTOREAP child first (the kernel has the flags)
  autokill_eperm_no_cap: () => {
    const plain = clone3Code(CLONE.AUTOREAP, syscallThenExitCode(STUB_NR.exit, [0]), 0);
    if (!plain.ok) return { errno: plain.errno };
    forget(plain.value);
    const hdr = Buffer.alloc(8), data = Buffer.alloc(24), pidfd = Buffer.alloc(8), args = Buffer.alloc(64);
    hdr.writeUInt32LE(0x20080522, 0); // _LINUX_CAPABILITY_VERSION_3, pid 0: this process; data all zero
    args.writeBigUInt64LE(CLONE.PIDFD_AUTOKILL | CLONE.AUTOREAP | BigInt(CLONE.PIDFD), 0);
    args.writeBigUInt64LE(addressOf(pidfd), 8); // exit_signal 0, no stack: a fork-like child
    const code = Buffer.concat([
      stepsCode([{ nr: STUB_NR.capset, args: [addressOf(hdr), addressOf(data)] }]),
      syscallThenExitCode(NR.clone3, [addressOf(args), 64]),
    ]);
    const r = runInChild(0n, code);
    return { result: 'child', unprivileged_clone3: need('clone3(stub)', r) };
  },
  // selftest autoreap_multithreaded: the leader exits first (as a thread); the group is reaped
  // only when its last thread ends, which this probe decides through an eventfd
  multithreaded: () => {
    const wake = need('eventfd', track(eventfd()));
    const out = new Int32Array([-1]);
    const r = clone3Code(CLONE.AUTOREAP | BigInt(CLONE.PIDFD), prematureLeaderExitCode(100, wake, 10_000), 0, out);
    if (!r.ok) return { errno: r.errno };
    track({ ok: true, value: out[0] });
    let state = '';
    for (let t = 0; t < 250 && state !== 'Z'; t++) {
      sleepMs(10);
      state = /^State:\s*(\S)/m.exec(readStatus(r.value))?.[1] ?? 'gone';
    }
    const beforeGroupExit = waitPollIn(out[0], 100);
    write(wake, Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]));
    const afterGroupExit = waitPollIn(out[0], 5000);
    return {
      result: 'child', leader_state: state, before_group_exit: beforeGroupExit, after_group_exit: afterGroupExit,
      exit: autoreapExit(out[0]), waitid: noZombie(r.value),
    };
  },
  // selftest autoreap_reparent, with a stub process as the subreaper (the runner never is one)
  reparent: () => {
    const plain = clone3Code(CLONE.AUTOREAP, syscallThenExitCode(STUB_NR.exit, [0]), 0);
    if (!plain.ok) return { errno: plain.errno };
    forget(plain.value);
    const args = Buffer.alloc(64);
    args.writeBigUInt64LE(CLONE.AUTOREAP, 0); // exit_signal 0, no stack: a fork-like grandchild
    const s = need('clone3(subreaper stub)', clone3Code(0n, reparentAutoreapCode(args)));
    const st = reap(s)?.status ?? -1;
    const said: Record<number, string> = { 0: 'ECHILD', 1: 'reaped a zombie', 2: 'other', 3: 'middle clone3 failed', 4: 'still running' };
    return { result: 'child', subreaper_wait4: said[st] ?? `status ${st}` };
  },
  // selftest autoreap_no_inherit: the autoreap child fork()s; its own child is a normal zombie it
  // can wait4(); the autoreap child exits with that grandchild's exit status (77)
  no_inherit: () => {
    const out = new Int32Array([-1]);
    const r = clone3Code(CLONE.AUTOREAP | BigInt(CLONE.PIDFD), forkWaitExitCode(77), 0, out);
    if (!r.ok) return { errno: r.errno };
    track({ ok: true, value: out[0] });
    const polled = waitPollIn(out[0], 5000);
    const exit = autoreapExit(out[0]);
    return { result: 'child', poll: polled, exit, waitid: noZombie(r.value) };
  },
});

function readStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

featureSuite('io_uring_waitid', {
  probe_opcode: () => {
    const params = Buffer.alloc(120);
    const ring = track(sys('io_uring_setup', ['uint', 1], ['void *', params]));
    if (!ring.ok) {
      if (ring.errno === 'EPERM' || ring.errno === 'ENOSYS') return { skip: `io_uring unavailable (${ring.errno}: kernel.io_uring_disabled or CONFIG_IO_URING=n)`, errno: ring.errno };
      return { prereq: 'io_uring_setup', errno: ring.errno };
    }
    const probe = Buffer.alloc(16 + 256 * 8);
    need('IORING_REGISTER_PROBE', sys('io_uring_register', ['uint', ring.value], ['uint', 8], ['void *', probe], ['uint', 256]));
    const lastOp = probe.readUInt8(0);
    const IORING_OP_WAITID = 50;
    const supported = IORING_OP_WAITID <= lastOp && (probe.readUInt16LE(16 + IORING_OP_WAITID * 8 + 2) & 1) === 1;
    return { waitid_supported: supported, last_op: lastOp };
  },
});
