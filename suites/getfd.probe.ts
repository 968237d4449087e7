// pidfd_getfd(2): reference §2 row 12; LTP pidfd_getfd01/02.
import { addressOf, cloneRunCode, eventfd, getpid, kcmp, mmapExec, poll, read, sys, writeMem } from './lib/libc.js';
import { isCloexec, need, outcome, pidfdGetfd, pidfdOpen, track } from './lib/pidfd.js';
import { readFileSync, readlinkSync } from 'node:fs';
import { CAP_SYS_PTRACE, hasCap } from './lib/caps.js';
import { adopt, reap, sleepMs, spawnChild, waitExitedNoReap } from './lib/process.js';
import { featureSuite } from './lib/feature-test.js';
import { asUnprivileged } from './lib/unprivileged.js';
import { stepsThenExitCode, STUB_NR } from './lib/stub.js';

const KCMP_FILE = 0;

/** /proc/sys/kernel/yama/ptrace_scope, 0 without Yama. */
function yamaPtraceScope(): number {
  try {
    return Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

function linkOf(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** Poll a condition every 10 ms for up to 5 s. */
function waitFor(cond: () => boolean): boolean {
  for (let i = 0; i < 500; i++) {
    if (cond()) return true;
    sleepMs(10);
  }
  return false;
}
const PR_SET_DUMPABLE = 4;

const keep: Buffer[] = [];

/**
 * A clone3 child (a copy of this process, so it holds our fds) that sets its dumpable flag,
 * says so through the eventfd `ready`, and sleeps 30 s (the suite kills it afterwards).
 */
function dumpableChild(dumpable: 0 | 1, ready: number): number {
  const one = Buffer.alloc(8);
  one.writeBigUInt64LE(1n);
  const ts = Buffer.alloc(16);
  ts.writeBigInt64LE(30n, 0);
  keep.push(one, ts);
  const code = stepsThenExitCode([
    { nr: STUB_NR.prctl, args: [PR_SET_DUMPABLE, dumpable, 0, 0, 0] },
    { nr: STUB_NR.write, args: [ready, addressOf(one), 8] },
    { nr: STUB_NR.nanosleep, args: [addressOf(ts), 0] },
  ]);
  // glibc clone(), not clone3: the target is made where a container's filter refuses clone3 too
  const page = mmapExec(4096);
  writeMem(page, code);
  const pid = need('clone(target child)', cloneRunCode(page));
  adopt(pid);
  const rev = poll(ready, 1 /* POLLIN */, 5000);
  if (!rev.ok || rev.value === 0) throw new Error(`the target child ${pid} did not report prctl(PR_SET_DUMPABLE, ${dumpable}) within 5 s`);
  return pid;
}

/**
 * pidfd_getfd(pidfd, fd, 0) as the selftest's caller: root turns into euid 65534 for the call
 * (seteuid: the real uid stays 0, so the uid check against a root target passes and only the
 * effective capabilities, CAP_SYS_PTRACE among them, are gone); anyone else calls as is.
 */
function getfdWithoutCaps(pidfd: number, fd: number): { r: ReturnType<typeof pidfdGetfd>; caller: string; ptrace_cap: boolean } {
  const root = process.geteuid?.() === 0;
  if (root) setEuid(65534);
  try {
    return { r: track(pidfdGetfd(pidfd, fd)), caller: root ? 'euid 65534, ruid 0' : `uid ${process.getuid?.()}`, ptrace_cap: hasCap(CAP_SYS_PTRACE) };
  } finally {
    if (root) setEuid(0);
  }
}

/**
 * process.seteuid, or where node refuses it ("seteuid() disabled: io_uring may be enabled",
 * CVE-2024-22017: Debian's node 20.19.2 with its shared libuv 1.50 on the trixie arm64 root) the raw
 * setresuid(-1, uid, -1) of this thread alone: the thread that makes the calls in between.
 */
function setEuid(uid: number): void {
  try {
    process.seteuid!(uid);
    return;
  } catch (e) {
    if (!/io_uring/.test((e as Error).message)) throw e;
  }
  need(`setresuid(-1, ${uid}, -1)`, sys('setresuid', ['long', -1], ['long', uid], ['long', -1]));
}

const readEventfd = (fd: number) => read(fd, 8);
const selfPidfd = () => need('pidfd_open(getpid())', track(pidfdOpen(getpid())));

featureSuite('pidfd_getfd', {
  self_cloexec: () => {
    const efd = need('eventfd', track(eventfd()));
    const r = track(pidfdGetfd(selfPidfd(), efd));
    if (!r.ok) return { errno: r.errno };
    const k = kcmp(getpid(), getpid(), KCMP_FILE, efd, r.value);
    return { result: 'fd', cloexec: isCloexec(r.value), kcmp_file: k.ok ? k.value : k.errno };
  },
  child_fd: () => {
    // The child's inherited stdio may be closed, so it opens its own fd 3 before exec'ing sleep.
    const pid = spawnChild(['sh', '-c', 'exec 3</dev/null; exec sleep 30']);
    const pidfd = need('pidfd_open(child)', track(pidfdOpen(pid)));
    // The setup failing is no answer of the kernel's: an error (could not run), not a skip.
    if (!waitFor(() => linkOf(`/proc/${pid}/fd/3`) === '/dev/null')) return { setup_error: 'child did not open fd 3 within 5 s' };
    const r = track(pidfdGetfd(pidfd, 3));
    // Yama's ptrace_scope 2 (admin only) or 3 (none) refuses even a parent without CAP_SYS_PTRACE:
    // that EPERM is this system's policy, not the kernel's pidfd_getfd, so skip with it as evidence.
    const scope = yamaPtraceScope();
    if (!r.ok && r.errno === 'EPERM' && scope >= 2 && !hasCap(CAP_SYS_PTRACE))
      return { skip: `Yama ptrace_scope ${scope} refuses ptrace access to a child without CAP_SYS_PTRACE`, errno: r.errno, ptrace_scope: scope };
    if (!r.ok) return { errno: r.errno };
    const k = kcmp(getpid(), pid, KCMP_FILE, r.value, 3);
    return { result: 'fd', cloexec: isCloexec(r.value), kcmp_file: k.ok ? k.value : k.errno };
  },
  ebadf_targetfd: () => outcome(track(pidfdGetfd(selfPidfd(), 1_000_000)), true),
  ebadf_pidfd: () => outcome(track(pidfdGetfd(need('eventfd', track(eventfd())), 0)), true),
  einval_flags: () => outcome(track(pidfdGetfd(selfPidfd(), 0, 1)), true),
  esrch_reaped: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    reap(pid);
    return outcome(track(pidfdGetfd(fd, 0)), true);
  },
  esrch_zombie: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    waitExitedNoReap(pid);
    return outcome(track(pidfdGetfd(fd, 0)), true);
  },
  // The call is made by a child that dropped to uid 65534 (root passes ptrace_may_access).
  // Selftest pidfd_getfd_test.c disable_ptrace: a target that set PR_SET_DUMPABLE 0 refuses a
  // caller without CAP_SYS_PTRACE (ptrace_may_access), while the same caller takes the fd from
  // a dumpable twin: so the EPERM is the dumpable flag's, not the caller's setup.
  eperm_not_dumpable: () => {
    need('pidfd_open(getpid())', track(pidfdOpen(getpid()))); // < 5.3: pidfd_open's own absence
    const ready = need('eventfd', track(eventfd()));
    const answers: Record<string, unknown> = {};
    // The dumpable twin first: if even it is refused (no pidfd_getfd, Yama, a seccomp filter),
    // that plain errno is the answer, and the judge can tell a filter's EPERM from the kernel's.
    for (const dumpable of [1, 0] as const) {
      const pid = dumpableChild(dumpable, ready);
      need('read eventfd', readEventfd(ready));
      const pidfd = need('pidfd_open(target)', track(pidfdOpen(pid)));
      const { r, caller, ptrace_cap } = getfdWithoutCaps(pidfd, ready);
      if (ptrace_cap) return { setup_error: `the caller (${caller}) still has CAP_SYS_PTRACE` };
      const scope = yamaPtraceScope();
      if (!r.ok && r.errno === 'EPERM' && dumpable === 1 && scope >= 2)
        return { skip: `Yama ptrace_scope ${scope} refuses ptrace access to a child without CAP_SYS_PTRACE`, errno: r.errno, ptrace_scope: scope };
      if (!r.ok && dumpable === 1) return { errno: r.errno, target: 'dumpable', caller };
      answers[dumpable ? 'dumpable_target' : 'not_dumpable_target'] = r.ok ? 'fd' : r.errno;
      answers.caller = caller;
    }
    return answers;
  },
  eperm: () => asUnprivileged('pidfd_getfd', [need('pidfd_open(1)', track(pidfdOpen(1))), 0, 0]),
});
