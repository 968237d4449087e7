// poll/epoll on pidfds: reference §2 rows 8 and 9. A live child must never look exited.
import { POLL, SIG } from './lib/constants.js';
import { epollAdd, epollCreate, epollWait, kill, poll } from './lib/libc.js';
import { need, pidfdOpen, pidfdSendSignal, track } from './lib/pidfd.js';
import { reap, spawnChild, waitExitedNoReap } from './lib/process.js';
import { clone3Code, threadExecCode } from './lib/stub.js';
import { existsSync } from 'node:fs';
import { cldName, epollNames, pollNames } from './lib/names.js';
import { featureSuite } from './lib/feature-test.js';

const LONG = 5000; // generous: the child is already a zombie (or reaped) when we poll

function childPidfd(argv: string[]): { pid: number; fd: number } {
  const pid = spawnChild(argv);
  return { pid, fd: need('pidfd_open', track(pidfdOpen(pid))) };
}

function pollObs(fd: number, timeout: number) {
  const r = poll(fd, POLL.IN, timeout);
  if (!r.ok) return { errno: r.errno };
  return { result: r.value === 0 ? 0 : 1, revents: pollNames(r.value) };
}

featureSuite('pidfd_poll', {
  live_no_pollin: () => {
    const { fd } = childPidfd(['sleep', '30']);
    return pollObs(fd, 0);
  },
  exited_pollin: () => {
    const { pid, fd } = childPidfd(['true']);
    if (!waitExitedNoReap(pid)) return { step: 'waitid(P_PID, WEXITED|WNOWAIT)', errno: 'failed' };
    return pollObs(fd, LONG);
  },
  epoll_exit: () => {
    const { pid, fd } = childPidfd(['sleep', '30']);
    const ep = need('epoll_create1', track(epollCreate()));
    const add = epollAdd(ep, fd, POLL.IN);
    if (!add.ok) return { epoll_ctl: add.errno };
    const before = epollWait(ep, 0);
    kill(pid, SIG.KILL);
    waitExitedNoReap(pid);
    const after = epollWait(ep, LONG);
    return {
      epoll_ctl: add.value,
      before_exit: before.ok ? epollNames(before.value) : before.errno,
      after_exit: after.ok ? epollNames(after.value) : after.errno,
    };
  },
});

// selftest pidfd_poll_test.c: SIGKILL through the pidfd, then poll must wake with POLLIN (the
// selftest loops 10000 times; one round here, `--repeat N` runs it N times).
featureSuite('pidfd_poll_sigkill', {
  sigkill_pollin: () => {
    const { pid, fd } = childPidfd(['sleep', '60']);
    const k = pidfdSendSignal(fd, SIG.KILL);
    if (!k.ok) return { kill: k.errno };
    const p = pollObs(fd, LONG);
    const si = reap(pid);
    return { kill: k.value, ...p, si_code: si ? cldName(si.code) : 'reap failed', si_status: si?.status ?? -1 };
  },
});

featureSuite('pidfd_poll_hup', {
  reaped: () => {
    const { pid, fd } = childPidfd(['true']);
    reap(pid);
    return pollObs(fd, LONG);
  },
  epoll_reaped: () => {
    const { pid, fd } = childPidfd(['true']);
    reap(pid);
    const ep = need('epoll_create1', track(epollCreate()));
    need('epoll_ctl(ADD)', epollAdd(ep, fd, POLL.IN));
    const r = epollWait(ep, LONG);
    return r.ok ? { revents: epollNames(r.value) } : { errno: r.errno };
  },
});

// selftest pidfd_test.c test_pidfd_poll_exec: a subthread execs (de_thread kills the leader and
// takes over the pid); the pidfd must fire only when the exec'd program exits, 2 s later.
const EXEC_SLEEP_S = 2;
featureSuite('pidfd_poll_exec', {
  subthread_exec: () => {
    const path = ['/usr/bin/sleep', '/bin/sleep'].find((p) => existsSync(p));
    if (!path) return { setup_error: 'no sleep binary at /usr/bin/sleep or /bin/sleep to exec' };
    const t0 = performance.now();
    // the thread execs after 300 ms; the leader would end the group by itself only after 30 s
    const code = threadExecCode(path, ['sleep', String(EXEC_SLEEP_S)], 300, 30_000);
    const pid = need('clone3(two-thread child)', clone3Code(0n, code));
    const fd = need('pidfd_open(child)', track(pidfdOpen(pid)));
    const ep = need('epoll_create1', track(epollCreate()));
    need('epoll_ctl(ADD)', epollAdd(ep, fd, POLL.IN));
    const r = epollWait(ep, 15_000);
    const wokeMs = Math.round(performance.now() - t0);
    const si = reap(pid);
    // the exec'd sleep cannot end before 300 ms + 2 s; a wakeup before 1.5 s is the leader's death
    return {
      revents: r.ok ? epollNames(r.value) : r.errno, woke: wokeMs < 1500 ? 'early' : 'at exit', woke_ms: wokeMs,
      si_code: si ? cldName(si.code) : 'reap failed', si_status: si?.status ?? -1,
    };
  },
});
