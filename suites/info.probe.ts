// pidfs ioctls: namespace ioctls (6.11), PIDFD_GET_INFO (6.13) and its later fields, ioctl
// validation and EREMOTE across pid namespaces.
// Reference §1.3, §2 rows 25, 26, 30, 31, 34, 38, 39, 40 and §7 R8, R9, R12.
import { existsSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLONE, O, PIDFD_THREAD, POLL, PIDFD_GET_NS, PIDFD_INFO, PIDFD_INFO_SIZE, PIDFS_IOCTL_MAGIC, SIG, pidfdGetInfo } from './lib/constants.js';
import { getInfo, maskNames, type PidfdInfo } from './lib/pidfd-info.js';
import { addressOf, eventfd, getpid, kill, open, poll, socket, write, type Res } from './lib/libc.js';
import { fstatfsType, hex, ioctl, need, outcome, pidfdOpen, pidfdSendSignal, statx, track } from './lib/pidfd.js';
import { reap, sleepMs, spawnChild, waitExitedNoReap } from './lib/process.js';
import {
  clone3Code, ioctlThenExitCode, prematureLeaderExitCode, runInChild, stepsThenExitCode, STUB_NR, syscallThenExitCode, threadExecCode,
} from './lib/stub.js';
import { cldName, pollNames } from './lib/names.js';
import { featureSuite } from './lib/feature-test.js';
import { needsCapSysAdmin } from './lib/caps.js';

const has = (i: PidfdInfo, bit: bigint) => (i.mask & bit) !== 0n;
const hex64 = (n: bigint) => '0x' + n.toString(16);

/**
 * Prerequisite: PIDFD_GET_INFO works at all (6.13+); older kernels report a missing prerequisite.
 * The step starts with the feature's id, so the host knows whose answer it is (a pidfd_get_info
 * case's own, any later feature's requirement).
 */
function needGetInfo(): void {
  const self = need('pidfd_open(self)', track(pidfdOpen(getpid())));
  need('pidfd_get_info (PIDFD_GET_INFO on self)', getInfo(self, 0n));
}

function selfPidfd(): number {
  return need('pidfd_open(self)', track(pidfdOpen(getpid())));
}

/** A child that has exited with `status` and been reaped; returns its pidfd. */
function reapedChild(argv: string[], killIt = false): { fd: number; pid: number } {
  const pid = spawnChild(argv);
  const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
  if (killIt) kill(pid, SIG.KILL);
  waitExitedNoReap(pid);
  reap(pid);
  return { fd, pid };
}

// ---- namespace ioctls ------------------------------------------------------------------
function nsCase(name: keyof typeof PIDFD_GET_NS) {
  return () => {
    const fd = selfPidfd();
    const r = track(ioctl(fd, PIDFD_GET_NS[name], 0));
    if (!r.ok) {
      if (r.errno === 'EOPNOTSUPP' || r.errno === 'ENOTSUP') return { skip: `${name} namespaces are not compiled into this kernel (${r.errno})`, errno: r.errno };
      return { errno: r.errno };
    }
    const ns = need('statx(nsfd)', statx(r.value));
    let procIno: string | null = null;
    try {
      procIno = String(statSync(`/proc/self/ns/${name}`, { bigint: true }).ino);
    } catch {
      procIno = null;
    }
    return {
      result: 'fd', f_type: hex(need('fstatfs(nsfd)', fstatfsType(r.value))),
      matches_proc_ns: procIno === String(ns.ino), ino: String(ns.ino), proc_ino: procIno,
    };
  };
}

featureSuite('pidfd_ns_ioctls', {
  ...Object.fromEntries((Object.keys(PIDFD_GET_NS) as (keyof typeof PIDFD_GET_NS)[]).map((n) => [n, nsCase(n)])),
  einval_arg: () => outcome(track(ioctl(selfPidfd(), PIDFD_GET_NS.uts, 1)), true),
  esrch_reaped: () => {
    const { fd } = reapedChild(['true']);
    return outcome(track(ioctl(fd, PIDFD_GET_NS.uts, 0)), true);
  },
});

// ---- PIDFD_GET_INFO --------------------------------------------------------------------
function sizeCase(size: number) {
  return () => {
    const pid = spawnChild(['sleep', '30']);
    const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
    const r = getInfo(fd, PIDFD_INFO.PID | PIDFD_INFO.CREDS | PIDFD_INFO.CGROUPID, size);
    if (!r.ok) return { errno: r.errno, size };
    const i = r.value;
    return {
      result: 0, size, pid_matches: i.pid === pid && i.tgid === pid, ppid_matches: i.ppid === getpid(),
      uid_matches: i.ruid === process.getuid!() && i.euid === process.geteuid!(),
      has_pid_creds: has(i, PIDFD_INFO.PID) && has(i, PIDFD_INFO.CREDS), returned: maskNames(i.mask), cgroupid: String(i.cgroupid),
    };
  };
}

featureSuite('pidfd_get_info', {
  size_64: sizeCase(64),
  size_72: sizeCase(72),
  size_80: sizeCase(80),
  size_88: sizeCase(88),
  pid_creds_always: () => {
    const r = getInfo(selfPidfd(), 0n);
    if (!r.ok) return { errno: r.errno };
    return { result: 0, has_pid_creds: has(r.value, PIDFD_INFO.PID) && has(r.value, PIDFD_INFO.CREDS), returned: maskNames(r.value.mask) };
  },
  zombie_creds_no_exit: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
    waitExitedNoReap(pid);
    const r = getInfo(fd, PIDFD_INFO.CREDS | PIDFD_INFO.EXIT);
    if (!r.ok) return { errno: r.errno };
    return { result: 0, creds_bit: has(r.value, PIDFD_INFO.CREDS), exit_bit: has(r.value, PIDFD_INFO.EXIT), returned: maskNames(r.value.mask) };
  },
  reaped_esrch: () => {
    const { fd } = reapedChild(['true']);
    const r = getInfo(fd, PIDFD_INFO.PID);
    return r.ok ? { result: 0, returned: maskNames(r.value.mask) } : { errno: r.errno };
  },
  // Every credential field and the cgroup id (selftest pidfd_info_test.c reads them; issue 20):
  // a target child with distinct real/effective/saved/fs ids, made by setresgid, setfsgid,
  // setresuid and setfsuid in a clone3 child (root only: needs CAP_SETUID/CAP_SETGID).
  creds_fields: () => {
    needGetInfo();
    const ready = need('eventfd', track(eventfd()));
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    const ts = Buffer.alloc(16);
    ts.writeBigInt64LE(30n, 0);
    keepBufs.push(one, ts);
    const child = need('clone3(target with set ids)', clone3Code(0n, stepsThenExitCode([
      { nr: STUB_NR.setgroups, args: [0, 0] },
      { nr: STUB_NR.setresgid, args: [1001, 1002, 1003] },
      { nr: STUB_NR.setfsgid /* to the saved gid: allowed */, args: [1003] },
      { nr: STUB_NR.setresuid, args: [2001, 2002, 2003] },
      { nr: STUB_NR.setfsuid /* to the saved uid: allowed */, args: [2003] },
      { nr: STUB_NR.write, args: [ready, addressOf(one), 8] },
      { nr: STUB_NR.nanosleep, args: [addressOf(ts), 0] },
    ])));
    const rev = poll(ready, POLL.IN, 5000);
    const status = readFileSync(`/proc/${child}/status`, 'utf8');
    const ids = (k: string) => new RegExp(`^${k}:\\s+(.*)$`, 'm').exec(status)?.[1].trim().split(/\s+/).join(' ');
    if (!rev.ok || rev.value === 0 || ids('Uid') !== '2001 2002 2003 2003' || ids('Gid') !== '1001 1002 1003 1003')
      return { setup_error: `the target did not take its ids (status Uid ${ids('Uid')}, Gid ${ids('Gid')})` };
    const fd = need('pidfd_open(target)', track(pidfdOpen(child)));
    const b = Buffer.alloc(PIDFD_INFO_SIZE.VER0);
    b.writeBigUInt64LE(PIDFD_INFO.CREDS | PIDFD_INFO.CGROUPID, 0);
    const r = ioctl(fd, pidfdGetInfo(PIDFD_INFO_SIZE.VER0), b);
    if (!r.ok) return { errno: r.errno };
    const u = (off: number) => b.readUInt32LE(off);
    return {
      result: 0, returned: maskNames(b.readBigUInt64LE(0)),
      uids: `${u(28)} ${u(36)} ${u(44)} ${u(52)}`, gids: `${u(32)} ${u(40)} ${u(48)} ${u(56)}`,
      cgroupid: cgroupIdCheck(child, b.readBigUInt64LE(8)),
    };
  },
  // LTP ioctl_pidfd05: a NULL argument. Only asked where PIDFD_GET_INFO works (as LTP's setup),
  // since the older kernels' EINVAL/ENOTTY for the command itself would look the same.
  null_arg: () => {
    needGetInfo();
    const r = ioctl(selfPidfd(), pidfdGetInfo(PIDFD_INFO_SIZE.VER0), null);
    return { null_arg: r.ok ? `result ${r.value}` : r.errno };
  },
  // LTP ioctl_pidfd01: PIDFD_GET_INFO on fds that are not pidfds fails (LTP accepts EINVAL, EBADF,
  // ENOTTY, and EACCES under SELinux); each type's own errno is recorded.
  non_pidfd_fds: () => {
    needGetInfo();
    const path = join(tmpdir(), `pidfd-matrix-info-${process.pid}`);
    writeFileSync(path, 'x');
    const fds: Record<string, Res> = {
      regular_file: track(open(path, O.RDONLY | O.CLOEXEC)),
      dev_null: track(open('/dev/null', O.RDONLY | O.CLOEXEC)),
      proc_dir: track(open('/proc/self', O.DIRECTORY | O.CLOEXEC)),
      eventfd: track(eventfd()),
      unix_socket: track(socket(1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | O.CLOEXEC)),
    };
    unlinkSync(path);
    const out: Record<string, string> = {};
    for (const [name, r] of Object.entries(fds)) {
      const fd = need(`open ${name}`, r);
      const b = Buffer.alloc(PIDFD_INFO_SIZE.VER0);
      b.writeBigUInt64LE(PIDFD_INFO.PID | PIDFD_INFO.EXIT, 0);
      const got = ioctl(fd, pidfdGetInfo(PIDFD_INFO_SIZE.VER0), b);
      out[name] = got.ok ? `result ${got.value}` : got.errno;
    }
    return out;
  },
});

const keepBufs: Buffer[] = [];

/**
 * cgroupid against the inode of the task's cgroup v2 directory ('0::<path>' in /proc/<pid>/cgroup,
 * under a cgroup2 mount of /proc/self/mountinfo); 'no cgroup2 mount' when none is mounted.
 */
function cgroupIdCheck(pid: number, id: bigint): string {
  const rel = /^0::(\/.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1];
  const mnt = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' '))
    .find((f) => f[f.indexOf('-') + 1] === 'cgroup2');
  if (!mnt || rel === undefined) return rel === undefined ? 'no cgroup v2 line' : 'no cgroup2 mount';
  const root = mnt[3], point = mnt[4];
  if (!rel.startsWith(root)) return `cgroup ${rel} outside the mount's root ${root}`;
  const ino = statSync(join(point, rel.slice(root.length)), { bigint: true }).ino;
  return ino === id ? 'matches' : `differs (id ${id}, inode ${ino})`;
}

featureSuite('pidfd_info_size_check', {
  short_size: () => {
    needGetInfo();
    const b = Buffer.alloc(64);
    const r = ioctl(selfPidfd(), pidfdGetInfo(32), b);
    return { short_size: r.ok ? `result ${r.value}` : r.errno, cmd: hex(pidfdGetInfo(32)) };
  },
});

/**
 * selftest success_exit/success_reaped and LTP ioctl_pidfd02-04: a clone3(CLONE_NEWUSER|CLONE_NEWPID)
 * child (pid 1 of its namespaces) that exits with `status` or, with `kill`, pause()s and is
 * SIGKILLed; PIDFD_GET_INFO as a zombie, then after the reap, against waitid's own answer.
 */
function isolatedChildExit(status: number, killIt: boolean) {
  needGetInfo();
  const out = new Int32Array([-1]);
  const code = killIt ? syscallThenExitCode(STUB_NR.pause, []) : syscallThenExitCode(STUB_NR.exit, [status]);
  const pid = need('clone3(CLONE_NEWUSER|CLONE_NEWPID|CLONE_PIDFD)',
    clone3Code(BigInt(CLONE.NEWUSER | CLONE.NEWPID | CLONE.PIDFD), code, SIG.CHLD, out));
  const fd = out[0];
  track({ ok: true, value: fd });
  if (killIt) need('pidfd_send_signal(SIGKILL)', pidfdSendSignal(fd, SIG.KILL));
  waitExitedNoReap(pid);
  const z = getInfo(fd, PIDFD_INFO.CREDS | PIDFD_INFO.EXIT);
  const bits = (i: PidfdInfo) => `${has(i, PIDFD_INFO.CREDS) ? 'CREDS' : 'no CREDS'}, ${has(i, PIDFD_INFO.EXIT) ? 'EXIT' : 'no EXIT'}`;
  const zombie = z.ok ? bits(z.value) : z.errno;
  const si = reap(pid);
  const plain = getInfo(fd, PIDFD_INFO.PID);
  const r = getInfo(fd, PIDFD_INFO.EXIT);
  if (!r.ok) return { errno: r.errno };
  const x = r.value.exitCode;
  const waited = si ? `${cldName(si.code)} ${si.status}` : 'not reaped';
  const fromInfo = (x & 0x7f) === 0 ? `CLD_EXITED ${(x >> 8) & 0xff}` : `CLD_KILLED ${x & 0x7f}`;
  return {
    result: 0, zombie, reaped_without_exit_bit: plain.ok ? 'answered' : plain.errno, exit_bit: has(r.value, PIDFD_INFO.EXIT),
    creds_bit: has(r.value, PIDFD_INFO.CREDS), exit_code: hex(x), matches_waitid: fromInfo === waited, waitid: waited,
  };
}

/**
 * selftest thread_group_exec (`leaderGone`: the leader exit()ed as a thread first) and
 * thread_group_exec_thread (the leader sleeps): a subthread execs `sleep 30` 1.5 s after the
 * clone, while the prober holds pidfds of the leader (plain and PIDFD_THREAD) and of that thread.
 */
/** The child's tasks, polled every 10 ms for up to `tries` times until its second thread shows; tid 0 if it never does. */
function secondTask(pid: number, tries: number): { tids: string[]; tid: number } {
  let tids: string[] = [];
  for (let t = 0; t < tries && tids.length < 2; t++) {
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      tids = [];
    }
    if (tids.length < 2) sleepMs(10);
  }
  return { tids, tid: Number(tids.find((x) => Number(x) !== pid) ?? 0) };
}

function threadGroupExec(leaderGone: boolean) {
  needGetInfo();
  const path = ['/usr/bin/sleep', '/bin/sleep'].find((p) => existsSync(p));
  if (!path) return { setup_error: 'no sleep binary at /usr/bin/sleep or /bin/sleep to exec' };
  const t0 = performance.now();
  const code = threadExecCode(path, ['sleep', '30'], 1500, leaderGone ? 200 : 30_000, leaderGone);
  const pid = need('clone3(two-thread child)', clone3Code(0n, code));
  const leader = need('pidfd_open(leader)', track(pidfdOpen(pid)));
  const leaderThread = need('pidfd_open(leader, PIDFD_THREAD)', track(pidfdOpen(pid, PIDFD_THREAD)));
  const { tids, tid } = secondTask(pid, 100);
  const thread = tid ? track(pidfdOpen(tid, PIDFD_THREAD)) : null;
  const opened = Math.round(performance.now() - t0);
  if (!thread?.ok || opened >= 1200)
    return { setup_error: `the thread's PIDFD_THREAD pidfd was not open in time (${opened} ms, before the exec at 1500 ms): ${thread?.ok === false ? thread.errno : `tasks ${tids.join(' ')}`}` };
  // across the exec (1.5 s) and 1.5 s after it: the leader's PIDFD_THREAD pidfd stays quiet
  const across = poll(leaderThread, POLL.IN, 3000);
  const hup = poll(thread.value, POLL.HUP, 5000);
  const names = (r: Res) => (r.ok ? (r.value === 0 ? 'timeout' : pollNames(r.value)) : r.errno);
  const comm = (() => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return 'gone';
    }
  })();
  const threadInfo = exitThrough(thread.value), leaderInfo = exitThrough(leader);
  need('pidfd_send_signal(leader, SIGKILL)', pidfdSendSignal(leader, SIG.KILL));
  const killed = poll(leaderThread, POLL.IN, 5000);
  const si = reap(pid);
  return {
    result: 0, comm_after_exec: comm, leader_thread_across_exec: names(across), thread_pidfd: names(hup), thread: threadInfo,
    leader_before_kill: leaderInfo, leader_thread_after_kill: names(killed), waitid: si ? `${cldName(si.code)} ${si.status}` : 'not reaped',
    leader_after_reap: exitThrough(leader),
  };
}

/** "EXIT <code>" or "CREDS, no EXIT" etc.: what PIDFD_GET_INFO(EXIT) says through one pidfd. */
function exitThrough(fd: number): string {
  const r = getInfo(fd, PIDFD_INFO.EXIT);
  if (!r.ok) return r.errno;
  const creds = has(r.value, PIDFD_INFO.CREDS) ? 'CREDS, ' : '';
  return has(r.value, PIDFD_INFO.EXIT) ? `${creds}EXIT ${hex(r.value.exitCode)}` : `${creds}no EXIT`;
}

featureSuite('pidfd_info_exit', {
  // selftest pidfd_info_test.c thread_group: the leader exits first (as a thread), the group is
  // SIGKILLed through the leader's pidfd and reaped; exit info through the leader's pidfd, the
  // leader's PIDFD_THREAD pidfd and the surviving thread's PIDFD_THREAD pidfd
  thread_group_exit: () => {
    needGetInfo();
    const wake = need('eventfd', track(eventfd()));
    const pid = need('clone3(two-thread child)', clone3Code(0n, prematureLeaderExitCode(300, wake, 10_000)));
    const leader = need('pidfd_open(leader)', track(pidfdOpen(pid)));
    const leaderThread = need('pidfd_open(leader, PIDFD_THREAD)', track(pidfdOpen(pid, PIDFD_THREAD)));
    const { tids, tid } = secondTask(pid, 250);
    if (!tid) return { setup_error: `the child's thread did not show in /proc/${pid}/task (${tids.join(' ')})` };
    const thread = need('pidfd_open(thread, PIDFD_THREAD)', track(pidfdOpen(tid, PIDFD_THREAD)));
    let state = '';
    for (let t = 0; t < 250 && state !== 'Z'; t++) {
      sleepMs(10);
      state = /^State:\s*(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'gone';
    }
    need('pidfd_send_signal(leader, SIGKILL)', pidfdSendSignal(leader, SIG.KILL));
    const si = reap(pid);
    const r = getInfo(leader, PIDFD_INFO.EXIT);
    if (!r.ok) return { errno: r.errno };
    return {
      result: 0, leader_state: state, waitid: si ? `${cldName(si.code)} ${si.status}` : 'not reaped',
      leader: exitThrough(leader), leader_thread: exitThrough(leaderThread), thread: exitThrough(thread),
    };
  },
  thread_exec_leader_gone: () => threadGroupExec(true),
  thread_exec_leader_alive: () => threadGroupExec(false),
  isolated_exit: () => isolatedChildExit(5, false),
  isolated_killed: () => isolatedChildExit(0, true),
  reaped_exit_status: () => {
    needGetInfo();
    const { fd } = reapedChild(['sh', '-c', 'exit 7']);
    const r = getInfo(fd, PIDFD_INFO.EXIT);
    if (!r.ok) return { errno: r.errno };
    const i = r.value;
    return {
      result: 0, exit_bit: has(i, PIDFD_INFO.EXIT), creds_bit: has(i, PIDFD_INFO.CREDS), returned: maskNames(i.mask),
      exit_code: hex(i.exitCode), exit_status: (i.exitCode >> 8) & 0xff,
    };
  },
  reaped_killed: () => {
    needGetInfo();
    const { fd } = reapedChild(['sleep', '30'], true);
    const r = getInfo(fd, PIDFD_INFO.EXIT);
    if (!r.ok) return { errno: r.errno };
    const i = r.value;
    return { result: 0, exit_bit: has(i, PIDFD_INFO.EXIT), returned: maskNames(i.mask), exit_code: hex(i.exitCode), term_signal: i.exitCode & 0x7f };
  },
});

featureSuite('pidfd_info_coredump', {
  live_task: () => {
    needGetInfo();
    const fd = need('pidfd_open(child)', track(pidfdOpen(spawnChild(['sleep', '30']))));
    const r = need('PIDFD_GET_INFO(COREDUMP)', getInfo(fd, PIDFD_INFO.COREDUMP, PIDFD_INFO_SIZE.VER1));
    return { coredump_bit: has(r, PIDFD_INFO.COREDUMP), returned: maskNames(r.mask), coredump_mask: hex(r.coredumpMask) };
  },
});

featureSuite('pidfd_info_supported_mask', {
  supported_bit: () => {
    needGetInfo();
    // Encoded with 88 bytes (VER3) so a 7.1+ kernel has room for every field it knows; the
    // u64 is read at offset 72 (6.19 header) and, for open question Q1, also at 80.
    const b = Buffer.alloc(88);
    b.writeBigUInt64LE(PIDFD_INFO.SUPPORTED_MASK, 0);
    need('PIDFD_GET_INFO(SUPPORTED_MASK, 88)', ioctl(selfPidfd(), pidfdGetInfo(PIDFD_INFO_SIZE.VER3), b));
    const mask = b.readBigUInt64LE(0);
    const bit = (mask & PIDFD_INFO.SUPPORTED_MASK) !== 0n;
    return {
      supported_bit: bit, returned: maskNames(mask),
      ...(bit ? { supported_mask_at_72: hex64(b.readBigUInt64LE(72)), supported_at_72: maskNames(b.readBigUInt64LE(72)), u64_at_80: hex64(b.readBigUInt64LE(80)) } : {}),
    };
  },
});

// selftest pidfd_info_test.c supported_mask_field and supported_mask_with_other_fields: what the
// supported mask names, and where the kernel put it. The reply's own SUPPORTED_MASK bit marks
// the u64 that is the supported mask (it names itself), at offset 72 or 80 (open question Q1).
featureSuite('pidfd_info_supported_mask_contents', {
  contents: () => {
    needGetInfo();
    const b = Buffer.alloc(88);
    b.writeBigUInt64LE(PIDFD_INFO.SUPPORTED_MASK | PIDFD_INFO.CGROUPID, 0);
    need('PIDFD_GET_INFO(SUPPORTED_MASK|CGROUPID, 88)', ioctl(selfPidfd(), pidfdGetInfo(PIDFD_INFO_SIZE.VER3), b));
    const mask = b.readBigUInt64LE(0);
    if (!(mask & PIDFD_INFO.SUPPORTED_MASK)) return { supported_bit: false, returned: maskNames(mask) };
    const at = [72, 80].filter((o) => (b.readBigUInt64LE(o) & PIDFD_INFO.SUPPORTED_MASK) !== 0n);
    return {
      supported_bit: true, returned: maskNames(mask).join(' '), at_offset: at.length === 1 ? at[0] : `ambiguous (${at.join(', ') || 'neither'})`,
      supported: at.length === 1 ? maskNames(b.readBigUInt64LE(at[0])).join(' ') : null,
      u64_at_72: hex64(b.readBigUInt64LE(72)), u64_at_80: hex64(b.readBigUInt64LE(80)),
    };
  },
});

/** An ioctl number in pidfs' magic that no kernel defines. */
const UNKNOWN_PIDFS_IOCTL = (PIDFS_IOCTL_MAGIC << 8) | 99;

featureSuite('pidfd_ioctl_validation', {
  unknown_cmd_arg: () => {
    const fd = selfPidfd();
    need('PIDFD_GET_UTS_NAMESPACE(self)', track(ioctl(fd, PIDFD_GET_NS.uts, 0)));
    const r = ioctl(fd, UNKNOWN_PIDFS_IOCTL, 1);
    return { unknown_cmd: r.ok ? `result ${r.value}` : r.errno };
  },
  unknown_cmd_reaped: () => {
    need('PIDFD_GET_UTS_NAMESPACE(self)', track(ioctl(selfPidfd(), PIDFD_GET_NS.uts, 0)));
    const { fd } = reapedChild(['true']);
    const r = ioctl(fd, UNKNOWN_PIDFS_IOCTL, 0);
    return { unknown_cmd: r.ok ? `result ${r.value}` : r.errno };
  },
});

featureSuite('pidfd_info_eremote', {
  foreign_pidns: () => {
    needGetInfo();
    const noCap = needsCapSysAdmin('clone3(CLONE_NEWPID)');
    if (noCap) return noCap;
    // The child is pid 1 of a new pid namespace; this Node process (the pidfd's target) has
    // no pid there. It calls PIDFD_GET_INFO on the inherited pidfd and exits with the errno.
    const fd = selfPidfd();
    const r = runInChild(BigInt(CLONE.NEWPID), ioctlThenExitCode(fd, pidfdGetInfo(64), Number(PIDFD_INFO.PID)));
    if (!r.ok) return { prereq: 'clone3(CLONE_NEWPID)', errno: r.errno };
    return { child_errno: r.value };
  },
});

/** State and Threads of /proc/<pid>/status ('gone' when it cannot be read). */
function procState(pid: number): { state: string; threads: string } {
  let status = '';
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    status = '';
  }
  return { state: /^State:\s*(\S+)/m.exec(status)?.[1] ?? 'gone', threads: /^Threads:\s*(\d+)/m.exec(status)?.[1] ?? '?' };
}

featureSuite('pidfd_thread_leader_poll', {
  premature_leader_exit: () => {
    // child: the leader starts a thread and exits as a thread after 300 ms; the thread ends the
    // group when we write `wake` (after the first poll has returned), or by itself after
    // GROUP_LIMIT_MS. So "no POLLIN" is read while the group surely lives, with no fixed wait.
    const LEADER_LIMIT_MS = 2500;
    const GROUP_LIMIT_MS = 10_000;
    const WINDOW_MS = 250; // the early wakeup is level-triggered: it shows as soon as the leader is a zombie
    const t0 = performance.now();
    const since = () => Math.round(performance.now() - t0);
    const wake = need('eventfd', track(eventfd()));
    const pid = need('clone3(two-thread child)', clone3Code(0n, prematureLeaderExitCode(300, wake, GROUP_LIMIT_MS)));
    const endGroup = () => write(wake, EVENTFD_ONE);
    const r = track(pidfdOpen(pid, PIDFD_THREAD));
    if (!r.ok) {
      endGroup();
      return { leader_thread_poll: r.errno };
    }
    // Precondition: the leader has exited (a zombie) while its thread still runs. Only then
    // does "no POLLIN" say the kernel waits for the group; a live leader also gives no POLLIN.
    let before = procState(pid);
    while (before.state !== 'Z' && since() < LEADER_LIMIT_MS) {
      sleepMs(10);
      before = procState(pid);
    }
    if (before.state !== 'Z') {
      endGroup();
      return { setup_error: `the leader had not exited ${since()} ms after clone3 (State ${before.state}, Threads ${before.threads}): a poll now would not test R4` };
    }
    const first = poll(r.value, POLL.IN, WINDOW_MS);
    const ended = since();
    // The thread's own limit ends the group without us: past it, POLLIN is no early wakeup.
    if (ended >= GROUP_LIMIT_MS) {
      endGroup();
      return { setup_error: `the poll ended ${ended} ms after clone3, past the group's own exit at ${GROUP_LIMIT_MS} ms: cannot tell an early wakeup from the group's exit` };
    }
    const woke = endGroup();
    if (!woke.ok) return { prereq: 'write(eventfd)', errno: woke.errno };
    const later = poll(r.value, POLL.IN, GROUP_LIMIT_MS + 5000);
    const fired = (x: typeof first) => (x.ok ? (x.value & POLL.IN ? 'POLLIN' : 'timeout') : x.errno);
    return {
      leader_thread_poll: fired(first) === 'POLLIN' ? 'early' : 'waits',
      leader_state_before_poll: before.state, threads_before_poll: before.threads, poll_window_ms: WINDOW_MS, poll_ended_ms: ended,
      after_group_exit: fired(later),
    };
  },
});

/** An eventfd write of 1 (the u64 counter). */
const EVENTFD_ONE = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);
