// waitid(P_PIDFD): reference §2 rows 2 and 11; selftest pidfd_wait.c.
import { F, O, P, SIG, W } from './lib/constants.js';
import { fcntl, open } from './lib/libc.js';
import { need, outcome, pidfdOpen, pidfdSendSignal, track } from './lib/pidfd.js';
import { forget, spawnChild, waitid } from './lib/process.js';
import { waitObs } from './lib/names.js';
import { featureSuite } from './lib/feature-test.js';

function childPidfd(argv: string[]): { pid: number; fd: number } {
  const pid = spawnChild(argv);
  return { pid, fd: need('pidfd_open', track(pidfdOpen(pid))) };
}

/** Wait through the pidfd; a reaped child is forgotten so cleanup does not wait for it again. */
function waitPidfd(pid: number, fd: number, options: number) {
  const r = waitid(P.PIDFD, fd, options);
  if (r.ok && (options & W.EXITED) && !(options & W.NOWAIT) && r.value.pid === pid) forget(pid);
  return waitObs(r, pid);
}

featureSuite('waitid_pidfd', {
  glibc_probe: () => outcome(waitid(P.PIDFD, 0x7fffffff, W.EXITED | W.NOHANG)),
  exited: () => {
    const { pid, fd } = childPidfd(['sh', '-c', 'exit 3']);
    return waitPidfd(pid, fd, W.EXITED);
  },
  wnohang_live: () => {
    const { pid, fd } = childPidfd(['sleep', '30']);
    return waitPidfd(pid, fd, W.EXITED | W.NOHANG);
  },
  wnowait: () => {
    const { pid, fd } = childPidfd(['sh', '-c', 'exit 4']);
    const first = waitPidfd(pid, fd, W.EXITED | W.NOWAIT);
    if (first.errno) return first;
    const second = waitPidfd(pid, fd, W.EXITED);
    return { ...first, second_si_code: second.si_code ?? second.errno, second_si_status: second.si_status ?? null };
  },
  stopped: () => {
    const { pid, fd } = childPidfd(['sleep', '30']);
    need('pidfd_send_signal(SIGSTOP)', pidfdSendSignal(fd, SIG.STOP));
    return waitPidfd(pid, fd, W.STOPPED);
  },
  continued: () => {
    const { pid, fd } = childPidfd(['sleep', '30']);
    need('pidfd_send_signal(SIGSTOP)', pidfdSendSignal(fd, SIG.STOP));
    const stop = waitPidfd(pid, fd, W.STOPPED);
    if (stop.errno) return { ...stop, step: 'waitid(WSTOPPED)' };
    need('pidfd_send_signal(SIGCONT)', pidfdSendSignal(fd, SIG.CONT));
    return waitPidfd(pid, fd, W.CONTINUED);
  },
  killed: () => {
    const { pid, fd } = childPidfd(['sleep', '30']);
    need('pidfd_send_signal(SIGKILL)', pidfdSendSignal(fd, SIG.KILL));
    return waitPidfd(pid, fd, W.EXITED);
  },
  procfd_rejected: () => {
    const fd = need('open /proc/self', track(open('/proc/self', O.DIRECTORY | O.CLOEXEC)));
    return outcome(waitid(P.PIDFD, fd, W.EXITED | W.NOHANG));
  },
  devnull_rejected: () => {
    const fd = need('open /dev/null', track(open('/dev/null', O.RDONLY | O.CLOEXEC)));
    return outcome(waitid(P.PIDFD, fd, W.EXITED | W.NOHANG));
  },
});

// O_NONBLOCK set later with fcntl(F_SETFL) on a plain pidfd: 5.10 made waitid(P_PIDFD) read the
// file's flags (EAGAIN on a live child); 5.4-5.9 ignore them and wait. The child exits after
// 1 s, so a waiting kernel returns its exit after about a second, never hangs.
featureSuite('waitid_fsetfl_nonblock', {
  live_child: () => {
    const { pid, fd } = childPidfd(['sleep', '1']);
    const fl = need('fcntl(F_GETFL)', fcntl(fd, F.GETFL));
    need('fcntl(F_SETFL, O_NONBLOCK)', fcntl(fd, F.SETFL, fl | O.NONBLOCK));
    const t0 = performance.now();
    const r = waitid(P.PIDFD, fd, W.EXITED);
    const ms = Math.round(performance.now() - t0);
    if (r.ok && r.value.pid === pid) forget(pid);
    // A refusal is the kernel's plain errno, so a kernel without P_PIDFD (5.3: EINVAL) gives
    // waitid_pidfd's own without-answer and the prerequisite is recognised.
    if (!r.ok) return { errno: r.errno, waited_ms: ms };
    return { waitid: ms >= 500 ? 'waited' : `returned after ${ms} ms`, waited_ms: ms, si_pid: r.value.pid === pid ? 'child' : r.value.pid };
  },
});
