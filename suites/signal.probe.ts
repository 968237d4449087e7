// pidfd_send_signal(2) and PIDFD_SIGNAL_* flags: reference §2 rows 1, 2, 22.
import { unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLONE, O, PIDFD_SIGNAL, PIDFD_THREAD, SIG } from './lib/constants.js';
import { addressOf, cloneRunCode, eventfd, getpid, kill, mmapExec, open, poll, read, socketpair, spawnpInGroup, spawnpNewGroup, writeMem } from './lib/libc.js';
import { readFileSync } from 'node:fs';
import { need, outcome, pidfdOpen, pidfdSendSignal, track } from './lib/pidfd.js';
import { adopt, clone3, reap, spawnChild, waitExitedNoReap } from './lib/process.js';
import { cldName } from './lib/names.js';
import { blockedTwoThreadCode, clone3Code, stepsThenExitCode, STUB_NR } from './lib/stub.js';
import { needsCapSysAdmin } from './lib/caps.js';
import { readdirSync } from 'node:fs';
import { sleepMs } from './lib/process.js';
import { featureSuite } from './lib/feature-test.js';
import { asUnprivileged } from './lib/unprivileged.js';

/** Run `code` (x86_64, ends in exit_group) in a glibc clone() child: works before clone3 (5.1, 5.2) too. */
function codeChild(code: Buffer): number {
  const page = mmapExec(4096);
  writeMem(page, code);
  const pid = need('clone(code child)', cloneRunCode(page));
  adopt(pid);
  return pid;
}

const procDir = (pid: number | 'self') => track(open(`/proc/${pid}`, O.DIRECTORY | O.CLOEXEC));

/** struct siginfo (128 bytes): si_signo, si_errno, si_code, then si_pid/si_uid. */
function siginfo(signo: number, code: number): Buffer {
  const b = Buffer.alloc(128);
  b.writeInt32LE(signo, 0);
  b.writeInt32LE(code, 8);
  b.writeInt32LE(getpid(), 16);
  b.writeUInt32LE(process.getuid?.() ?? 0, 20);
  return b;
}
const SI_USER = 0;
const SI_QUEUE = -1;
const SIGURG = 23;
const PAYLOAD = 0x5eed;
const keep: Buffer[] = [];
const u64 = (v: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
};

featureSuite('pidfd_send_signal', {
  procfs_dirfd: () => outcome(pidfdSendSignal(need('open /proc/self', procDir('self')), 0)),
  pidfd_kill_child: () => {
    const pid = spawnChild(['sleep', '30']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    const r = pidfdSendSignal(fd, SIG.KILL);
    if (!r.ok) return { errno: r.errno };
    const si = reap(pid);
    return { result: r.value, si_code: si ? cldName(si.code) : 'reap failed', si_status: si?.status ?? -1 };
  },
  ebadf_regular_file: () => {
    const path = join(tmpdir(), `pidfd-matrix-regular-${process.pid}`);
    writeFileSync(path, 'x');
    const r = track(open(path, O.RDONLY | O.CLOEXEC));
    unlinkSync(path);
    return outcome(pidfdSendSignal(need('open regular file', r), 0));
  },
  einval_bad_flags: () => outcome(pidfdSendSignal(need('open /proc/self', procDir('self')), 0, 99999)),
  einval_bad_signal: () => outcome(pidfdSendSignal(need('open /proc/self', procDir('self')), 9999)),
  einval_siginfo_mismatch: () =>
    outcome(pidfdSendSignal(need('open /proc/self', procDir('self')), 0, 0, siginfo(SIG.USR1, SI_QUEUE))),
  eperm_siginfo_code: () => {
    const pid = spawnChild(['sleep', '30']);
    return outcome(pidfdSendSignal(need('open /proc/<child>', procDir(pid)), 0, 0, siginfo(0, SI_USER)));
  },
  esrch_reaped: () => {
    const pid = spawnChild(['true']);
    waitExitedNoReap(pid);
    const fd = need('open /proc/<child>', procDir(pid));
    reap(pid);
    return outcome(pidfdSendSignal(fd, 0));
  },
  // LTP pidfd_send_signal01: the siginfo given to pidfd_send_signal reaches the target as
  // rt_sigqueueinfo would deliver it. The target (a code child with SIGUSR1 blocked) takes the
  // signal with rt_sigtimedwait and sends the siginfo it got back over a socket.
  siginfo_payload: () => {
    const ready = need('eventfd', track(eventfd()));
    const [mine, theirs] = need('socketpair', socketpair(1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | O.CLOEXEC));
    track({ ok: true, value: mine });
    track({ ok: true, value: theirs });
    const set = u64(bit(SIG.USR1)), one = u64(1n), got = Buffer.alloc(128), ts = Buffer.alloc(16);
    ts.writeBigInt64LE(10n, 0);
    keep.push(set, one, got, ts);
    const child = codeChild(stepsThenExitCode([
      { nr: STUB_NR.rt_sigprocmask, args: [0 /* SIG_BLOCK */, addressOf(set), 0, 8] },
      { nr: STUB_NR.write, args: [ready, addressOf(one), 8] },
      { nr: STUB_NR.rt_sigtimedwait, args: [addressOf(set), addressOf(got), addressOf(ts), 8] },
      { nr: STUB_NR.write, args: [theirs, addressOf(got), 128] },
    ]));
    const rev = poll(ready, 1 /* POLLIN */, 5000);
    if (!rev.ok || rev.value === 0) return { setup_error: `the target child ${child} did not block SIGUSR1 within 5 s` };
    const info = siginfo(SIG.USR1, SI_QUEUE);
    info.writeInt32LE(PAYLOAD, 24); // si_value.sival_int
    const r = pidfdSendSignal(need('open /proc/<child>', procDir(child)), SIG.USR1, 0, info);
    if (!r.ok) return { errno: r.errno };
    const rev2 = poll(mine, 1, 10_000);
    if (!rev2.ok || rev2.value === 0) return { result: r.value, delivered: 'no siginfo from the target within 10 s' };
    const b = need('read siginfo', read(mine, 128));
    if (b.length < 32) return { setup_error: `short siginfo read (${b.length} bytes)` };
    const code = b.readInt32LE(8);
    return {
      result: r.value, si_signo: b.readInt32LE(0), si_code: code === SI_QUEUE ? 'SI_QUEUE' : code,
      si_pid: b.readInt32LE(16) === getpid() ? 'sender' : b.readInt32LE(16),
      si_uid: b.readUInt32LE(20) === (process.getuid?.() ?? 0) ? 'sender' : b.readUInt32LE(20),
      si_value: b.readInt32LE(24) === PAYLOAD ? 'payload' : b.readInt32LE(24),
    };
  },
  // selftest pidfd_test.c test_pidfd_send_signal_simple_success: a real signal (not only 0)
  // through a /proc/self fd reaches this process's handler. SIGURG: its default is to ignore,
  // so a late delivery after the listener is gone cannot kill the runner.
  self_real_signal: async () => {
    const fd = need('open /proc/self', procDir('self'));
    let ran = false;
    const handled = new Promise<void>((resolve) => process.once('SIGURG', () => { ran = true; resolve(); }));
    const r = pidfdSendSignal(fd, SIGURG);
    if (!r.ok) return { errno: r.errno };
    await Promise.race([handled, new Promise((res) => setTimeout(res, 5000))]);
    process.removeAllListeners('SIGURG');
    return { result: r.value, handler_ran: ran };
  },
  // LTP pidfd_send_signal03 and selftest pidfd_test.c recycled_pid_fail: once the pid number is
  // taken by another process (here through set_tid, so no pid wrap-around is needed), the old
  // pidfd still names the reaped process: ESRCH, while the new one at that number is alive.
  esrch_pid_reused: () => {
    const noCap = needsCapSysAdmin('clone3 set_tid');
    if (noCap) return noCap;
    const ts = Buffer.alloc(16);
    ts.writeBigInt64LE(30n, 0);
    keep.push(ts);
    const sleeper = stepsThenExitCode([{ nr: STUB_NR.nanosleep, args: [addressOf(ts), 0] }]);
    for (let attempt = 1; ; attempt++) {
      const first = need('clone3(CLONE_PIDFD)', clone3({ flags: BigInt(CLONE.PIDFD) }));
      if (first.pidfd === null || first.pidfd < 0) throw new Error(`clone3(CLONE_PIDFD) returned child ${first.pid} but no pidfd`);
      track({ ok: true, value: first.pidfd });
      reap(first.pid);
      const second = clone3Code(0n, sleeper, SIG.CHLD, undefined, first.pid);
      if (!second.ok && second.errno === 'EEXIST' && attempt < 5) continue; // another process took the number
      const pid = need('clone3(set_tid = the reaped pid)', second);
      const r = pidfdSendSignal(first.pidfd, 0);
      return { ...outcome(r), number_reused: pid === first.pid, new_process_alive: kill(pid, 0).ok };
    }
  },
  // Sent by a child that dropped to uid 65534: root may signal init.
  eperm_unprivileged_init: () => asUnprivileged('pidfd_send_signal', [need('open /proc/1', procDir(1)), 0, 0, 0]),
});

/** Field 5 of /proc/<pid>/stat (after the parenthesised comm). */
function pgrpOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}

const selfPidfd = () => need('pidfd_open(getpid())', track(pidfdOpen(getpid())));

featureSuite('pidfd_signal_flags', {
  thread_group: () => outcome(pidfdSendSignal(selfPidfd(), 0, PIDFD_SIGNAL.THREAD_GROUP)),
  thread: () => outcome(pidfdSendSignal(selfPidfd(), 0, PIDFD_SIGNAL.THREAD)),
  process_group: () => {
    const pid = need('posix_spawnp(SETPGROUP)', spawnpNewGroup(['sleep', '30']));
    adopt(pid);
    const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
    return { ...outcome(pidfdSendSignal(fd, 0, PIDFD_SIGNAL.PROCESS_GROUP)), pgrp: pgrpOf(pid) === pid ? 'child' : pgrpOf(pid) };
  },
  // The probe builds the situation itself (a group leader child, then a second child in that
  // group), so the answer never depends on whether the runner happens to lead its own group.
  process_group_not_leader: () => {
    const leader = need('posix_spawnp(SETPGROUP 0)', spawnpNewGroup(['sleep', '30']));
    adopt(leader);
    const member = need('posix_spawnp(SETPGROUP leader)', spawnpInGroup(['sleep', '30'], leader));
    adopt(member);
    const pgrp = pgrpOf(member);
    if (pgrp !== leader) throw new Error(`the second child ${member} is in process group ${pgrp}, not in the leader's ${leader}`);
    const fd = need('pidfd_open(member)', track(pidfdOpen(member)));
    return { ...outcome(pidfdSendSignal(fd, 0, PIDFD_SIGNAL.PROCESS_GROUP)), member_pgrp: 'leader child' };
  },
});

// Which pending set a signal with flags 0 lands in: the thread's own (SigPnd) or the process's
// shared one (ShdPnd). The target blocks SIGUSR1/SIGUSR2 in both of its threads, so the signals
// stay pending where the kernel queued them.
const SIGUSR2 = 12;
const bit = (sig: number) => 1n << BigInt(sig - 1);

function pendingScope(status: string, sig: number): string {
  const read = (key: string) => BigInt('0x' + (new RegExp(`^${key}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0'));
  const t = (read('SigPnd') & bit(sig)) !== 0n, p = (read('ShdPnd') & bit(sig)) !== 0n;
  return t && p ? 'both' : t ? 'thread' : p ? 'process' : 'not pending';
}

featureSuite('pidfd_signal_scope', {
  thread_pidfd_flags0: () => {
    const child = need('clone3(two-thread child)', clone3Code(0n, blockedTwoThreadCode(bit(SIG.USR1) | bit(SIGUSR2), 20_000)));
    let tid: number | undefined;
    for (let i = 0; i < 100 && tid === undefined; i++) {
      tid = readdirSync(`/proc/${child}/task`).map(Number).find((t) => t !== child);
      if (tid === undefined) sleepMs(50);
    }
    if (tid === undefined) throw new Error(`the clone3 child ${child} never started its second thread`);
    const threadFd = track(pidfdOpen(tid, PIDFD_THREAD));
    if (!threadFd.ok) return { errno: threadFd.errno, step: 'pidfd_open(tid, PIDFD_THREAD)' };
    need('pidfd_send_signal(thread pidfd, SIGUSR1, flags 0)', pidfdSendSignal(threadFd.value, SIG.USR1));
    const plainFd = need('pidfd_open(child, 0)', track(pidfdOpen(child)));
    need('pidfd_send_signal(process pidfd, SIGUSR2, flags 0)', pidfdSendSignal(plainFd, SIGUSR2));
    const status = readFileSync(`/proc/${child}/task/${tid}/status`, 'utf8');
    return { result: 'fd', scope: pendingScope(status, SIG.USR1), plain_pidfd_scope: pendingScope(status, SIGUSR2) };
  },
});
