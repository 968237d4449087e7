// CLONE_PIDFD via clone(2)/clone3(2), clone3 itself, CLONE_THREAD|CLONE_PIDFD: reference §2 rows 3, 4, 10.
import { CLONE, P, POLL, SIG, W } from './lib/constants.js';
import { cloneExit, poll, sys } from './lib/libc.js';
import { isCloexec, need, outcome, track } from './lib/pidfd.js';
import { adopt, childrenAtOnePid, clone3, reap, waitid } from './lib/process.js';
import { needsCapSysAdmin } from './lib/caps.js';
import { cldName, pollNames, waitObs } from './lib/names.js';
import { featureSuite } from './lib/feature-test.js';

/** Legacy clone(CLONE_PIDFD|extra) of a child that runs _exit(5). */
function legacyClone(extra = 0) {
  const out = new Int32Array(1).fill(-1);
  const r = cloneExit(CLONE.PIDFD | SIG.CHLD | extra, 5, out);
  if (r.ok) adopt(r.value);
  if (r.ok && out[0] >= 0) track({ ok: true, value: out[0] });
  return { r, pidfd: out[0] };
}

featureSuite('clone_pidfd', {
  fd_written: () => {
    const { r, pidfd } = legacyClone();
    if (!r.ok) return { errno: r.errno };
    return { result: 'child', pidfd_written: pidfd >= 0, cloexec: pidfd >= 0 ? isCloexec(pidfd) : null };
  },
  waitid_exit: () => {
    const { r, pidfd } = legacyClone();
    const pid = need('clone(CLONE_PIDFD)', r);
    if (pidfd < 0) return { prereq: 'clone(CLONE_PIDFD) wrote no pidfd', errno: 'none' };
    const w = waitid(P.PIDFD, pidfd, W.EXITED);
    if (w.ok) reap(pid); // already reaped: drops it from the cleanup list (ECHILD is fine)
    return waitObs(w, pid);
  },
  einval_parent_settid: () => {
    const { r } = legacyClone(CLONE.PARENT_SETTID);
    return r.ok ? { result: 'child' } : { errno: r.errno };
  },
  einval_detached: () => {
    const { r } = legacyClone(CLONE.DETACHED);
    return r.ok ? { result: 'child' } : { errno: r.errno };
  },
});

featureSuite('clone3', {
  child_pidfd: () => {
    const r = clone3({ flags: BigInt(CLONE.PIDFD), status: 7 });
    if (!r.ok) return { errno: r.errno };
    const fd = r.value.pidfd ?? -1;
    track({ ok: true, value: fd });
    const si = reap(r.value.pid);
    return {
      result: 'child', pidfd: fd >= 0 ? 'fd' : fd, cloexec: fd >= 0 ? isCloexec(fd) : null,
      si_code: si ? cldName(si.code) : 'reap failed', si_status: si?.status ?? -1,
    };
  },
  waitid_pidfd: () => {
    const r = need('clone3(CLONE_PIDFD)', clone3({ flags: BigInt(CLONE.PIDFD), status: 7 }));
    const fd = r.pidfd ?? -1;
    track({ ok: true, value: fd });
    const w = waitid(P.PIDFD, fd, W.EXITED);
    if (w.ok) reap(r.pid);
    return waitObs(w, r.pid);
  },
  // The child exits 1 when started at stack + stack_size, 2 when started at clone_args.stack.
  stack_start: () => {
    const r = clone3({ flags: 0n, status: 1, statusIfStackPointer: 2 });
    if (!r.ok) return { errno: r.errno };
    const si = reap(r.value.pid);
    const start = si?.code === 1 && si.status === 1 ? 'stack_plus_size' : si?.code === 1 && si.status === 2 ? 'stack' : `unexpected (si_code ${si?.code}, status ${si?.status})`;
    return { result: 'child', child_start: start };
  },
  // Raw call with a zeroed 64-byte struct: a size below VER0 is refused before any child exists.
  einval_size32: () => outcome(sys('clone3', ['void *', Buffer.alloc(64)], ['size_t', 32])),
});

featureSuite('clone3_set_tid', {
  reused_pid: () => {
    const noCap = needsCapSysAdmin('clone3 set_tid');
    if (noCap) return noCap;
    const { first, second } = childrenAtOnePid();
    if (!second.ok) return { errno: second.errno, requested: first.pid };
    return { result: 'child', same_pid: second.value.pid === first.pid, requested: first.pid, got: second.value.pid };
  },
});

featureSuite('clone_pidfd_thread', {
  thread_pidfd_poll: () => {
    const flags = BigInt(CLONE.THREAD | CLONE.SIGHAND | CLONE.VM | CLONE.PIDFD);
    const r = clone3({ flags, status: 0 });
    if (!r.ok) return { errno: r.errno };
    const fd = r.value.pidfd ?? -1;
    track({ ok: true, value: fd });
    if (fd < 0) return { result: 'thread', pidfd: fd };
    const p = poll(fd, POLL.IN, 5000);
    return { result: 'thread', pidfd: 'fd', ...(p.ok ? { revents: pollNames(p.value) } : { poll_errno: p.errno }) };
  },
});
