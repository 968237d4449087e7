// pidfd_send_signal(2) and PIDFD_SIGNAL_* flags: reference §2 rows 1, 2, 22.
import { unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { O, PIDFD_SIGNAL, PIDFD_THREAD, SIG } from './lib/constants.js';
import { getpid, open, spawnpInGroup, spawnpNewGroup } from './lib/libc.js';
import { readFileSync } from 'node:fs';
import { need, outcome, pidfdOpen, pidfdSendSignal, track } from './lib/pidfd.js';
import { adopt, reap, spawnChild, waitExitedNoReap } from './lib/process.js';
import { cldName } from './lib/names.js';
import { blockedTwoThreadCode, clone3Code } from './lib/x86stub.js';
import { readdirSync } from 'node:fs';
import { sleepMs } from './lib/process.js';
import { featureSuite } from './lib/feature-test.js';
import { asUnprivileged } from './lib/unprivileged.js';

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
