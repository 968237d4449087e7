// pidfd_getfd(2): reference §2 row 12; LTP pidfd_getfd01/02.
import { eventfd, getpid, kcmp } from './lib/libc.js';
import { isCloexec, need, outcome, pidfdGetfd, pidfdOpen, track } from './lib/pidfd.js';
import { readFileSync, readlinkSync } from 'node:fs';
import { CAP_SYS_PTRACE, hasCap } from './lib/caps.js';
import { reap, sleepMs, spawnChild, waitExitedNoReap } from './lib/process.js';
import { featureSuite } from './lib/feature-test.js';
import { asUnprivileged } from './lib/unprivileged.js';

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
  eperm: () => asUnprivileged('pidfd_getfd', [need('pidfd_open(1)', track(pidfdOpen(1))), 0, 0]),
});
