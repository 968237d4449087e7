// pidfd_open(2), PIDFD_NONBLOCK and fdinfo: reference §2 rows 5-7 and 14.
import { readFileSync } from 'node:fs';
import { CLONE, F, O, P, SIG, W } from './lib/constants.js';
import { addressOf, cloneExit, fcntl, getpid, poll, read, socketpair } from './lib/libc.js';
import { needsCapSysAdmin } from './lib/caps.js';
import { clone3Code, openStep, stepsThenExitCode, STUB_NR } from './lib/stub.js';
import { fdinfo, isCloexec, isNonblock, need, outcome, pidfdOpen, track } from './lib/pidfd.js';
import { adopt, forget, reap, spawnChild, waitExitedNoReap, waitid } from './lib/process.js';
import { cldName } from './lib/names.js';
import { featureSuite } from './lib/feature-test.js';

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

featureSuite('pidfd_open', {
  self: () => {
    const r = track(pidfdOpen(getpid()));
    return { ...outcome(r, true), cloexec: r.ok ? isCloexec(r.value) : null };
  },
  einval_flags: () => outcome(track(pidfdOpen(getpid(), 1)), true),
  einval_pid_zero: () => outcome(track(pidfdOpen(0)), true),
  einval_pid_negative: () => outcome(track(pidfdOpen(-1)), true),
  esrch_reaped: () => {
    const pid = spawnChild(['true']);
    reap(pid);
    return { ...outcome(track(pidfdOpen(pid)), true), pid };
  },
  kthreadd: () => {
    // Only in the initial pid namespace is pid 2 kthreadd (a container has its own pid 2 or none).
    const comm = readOr('/proc/2/comm').trim();
    if (comm !== 'kthreadd') {
      // The kernel's answer for pid 2 in this pid namespace is the skip's evidence (ESRCH: none).
      const here = track(pidfdOpen(2));
      return { skip: `pid 2 is ${comm ? `'${comm}'` : 'absent'}, not kthreadd: not in the initial pid namespace`, ...(here.ok ? { pid2: 'fd' } : { errno: here.errno }) };
    }
    return outcome(track(pidfdOpen(2)), true);
  },
});

featureSuite('pidfd_nonblock', {
  flag_set: () => {
    const r = track(pidfdOpen(getpid(), O.NONBLOCK));
    return { ...outcome(r, true), nonblock: r.ok ? isNonblock(r.value) : null };
  },
  waitid_eagain: () => {
    const pid = spawnChild(['sleep', '30']);
    const fd = need('pidfd_nonblock (pidfd_open with PIDFD_NONBLOCK)', track(pidfdOpen(pid, O.NONBLOCK)));
    return outcome(waitid(P.PIDFD, fd, W.EXITED));
  },
  wnohang_returns_zero: () => {
    const pid = spawnChild(['sleep', '30']);
    const fd = need('pidfd_nonblock (pidfd_open with PIDFD_NONBLOCK)', track(pidfdOpen(pid, O.NONBLOCK)));
    const r = waitid(P.PIDFD, fd, W.EXITED | W.NOHANG);
    return r.ok ? { result: 0, si_pid: r.value.pid } : { errno: r.errno };
  },
  // Selftest pidfd_wait.c wait_nonblock: a non-blocking pidfd of a process that is no child of
  // the caller (here the caller itself) gives ECHILD, not EAGAIN.
  no_child_echild: () => {
    const r = track(pidfdOpen(getpid(), O.NONBLOCK));
    if (!r.ok) return { errno: r.errno }; // no PIDFD_NONBLOCK: the feature's own EINVAL
    return { ...outcome(waitid(P.PIDFD, r.value, W.EXITED)), pidfd_of: 'self' };
  },
  // wait_nonblock again: clearing O_NONBLOCK with F_SETFL makes waitid block once more. The child
  // lives 2 s; EAGAIN first shows it alive, then the blocking waitid must return its exit later.
  cleared_blocks: () => {
    const pid = spawnChild(['sleep', '2']);
    const r = track(pidfdOpen(pid, O.NONBLOCK));
    if (!r.ok) return { errno: r.errno };
    const first = waitid(P.PIDFD, r.value, W.EXITED);
    const fl = need('fcntl(F_GETFL)', fcntl(r.value, F.GETFL));
    need('fcntl(F_SETFL, flags & ~O_NONBLOCK)', fcntl(r.value, F.SETFL, fl & ~O.NONBLOCK));
    const t0 = performance.now();
    const second = waitid(P.PIDFD, r.value, W.EXITED);
    const ms = Math.round(performance.now() - t0);
    if (second.ok && second.value.pid === pid) forget(pid);
    const waited = !second.ok ? second.errno : ms >= 500 ? 'waited' : `returned after ${ms} ms`;
    return {
      first: first.ok ? `result ${first.value.pid === 0 ? 0 : 'child'}` : first.errno,
      nonblock_after: isNonblock(r.value), waitid: waited, waited_ms: ms,
      si_code: second.ok ? cldName(second.value.code) : null, si_pid: second.ok && second.value.pid === pid ? 'child' : null,
    };
  },
});

function pidLine(fd: number): string | undefined {
  return fdinfo(fd).lines.Pid;
}

/**
 * A clone(CLONE_PIDFD) child that exits at once, and the Pid: line of its pidfd (after reaping
 * it when `reaped`): `same` names the line when it is the child's pid, any other line stays raw.
 */
function childPidLine(same: string, reaped: boolean) {
  const out = new Int32Array(1).fill(-1);
  const r = cloneExit(CLONE.PIDFD | SIG.CHLD, 0, out);
  if (!r.ok) return { errno: r.errno, step: 'clone' };
  adopt(r.value);
  if (out[0] < 0) return { pid_line: 'missing', pidfd_written: false };
  track({ ok: true, value: out[0] });
  if (reaped) reap(r.value);
  const line = pidLine(out[0]);
  return { pid_line: line === undefined ? 'missing' : line === String(r.value) ? same : line, child: r.value, fdinfo: fdinfo(out[0]).raw.trim() };
}

featureSuite('fdinfo_pid', {
  pid_line: () => childPidLine('matches_child', false),
  // The Pid: line alone once the child is reaped: 5.4.y took the -1 (3d6d8da48d0b) without NSpid.
  reaped_minus_one: () => childPidLine('still_child_pid', true),
});

featureSuite('fdinfo_nspid', {
  nspid_line: () => {
    const pid = spawnChild(['sleep', '30']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    const info = fdinfo(fd);
    const ns = info.lines.NSpid;
    return { nspid_line: ns === undefined ? 'missing' : ns.split(/\s+/).at(-1) === String(pid) ? 'matches_child' : ns, fdinfo: info.raw.trim() };
  },
  reaped_minus_one: () => {
    const pid = spawnChild(['true']);
    const fd = need('pidfd_open', track(pidfdOpen(pid)));
    waitExitedNoReap(pid);
    reap(pid);
    const info = fdinfo(fd);
    const p = info.lines.Pid;
    return {
      pid_line: p === String(pid) ? 'still_child_pid' : p ?? 'missing',
      nspid_line: info.lines.NSpid ?? 'missing',
      fdinfo: info.raw.trim(),
    };
  },
  // selftest pidfd_fdinfo_test.c test_pidfd_fdinfo_nspid: a child that is pid 1 of a new pid
  // namespace shows 'NSpid: <pid> 1' (every level below the reader's procfs).
  nested_pidns: () => {
    const noCap = needsCapSysAdmin('clone3(CLONE_NEWPID)');
    if (noCap) return noCap;
    const { pid, fd } = sleeperInNewPidns();
    const ns = fdinfo(fd).lines.NSpid;
    return { nspid_line: ns === undefined ? 'missing' : ns.split(/\s+/).join(' ') === `${pid} 1` ? 'child_then_1' : ns };
  },
  // The same selftest's sibling check: read through a procfs of a sibling pid namespace (a second
  // child in new pid and mount namespaces mounts its own /proc), the first child has no pid, so
  // both lines say 0. The reader is a clone3 child that sends back what it read.
  sibling_pidns: () => {
    const noCap = needsCapSysAdmin('clone3(CLONE_NEWPID|CLONE_NEWNS) and mount(proc)');
    if (noCap) return noCap;
    const { fd } = sleeperInNewPidns();
    const [mine, theirs] = need('socketpair', socketpair(1 /* AF_UNIX */, 1 /* SOCK_STREAM */ | O.CLOEXEC));
    track({ ok: true, value: mine });
    track({ ok: true, value: theirs });
    const str = (t: string) => {
      const b = Buffer.from(`${t}\0`);
      keep.push(b);
      return addressOf(b);
    };
    const buf = Buffer.alloc(1024);
    keep.push(buf);
    const MS_REC_PRIVATE = 0x4000 | 0x40000;
    const reader = need('clone3(reader in new pid+mnt ns)', clone3Code(BigInt(CLONE.NEWPID | CLONE.NEWNS), stepsThenExitCode([
      { nr: STUB_NR.mount, args: [0, str('/'), 0, MS_REC_PRIVATE, 0] },
      { nr: STUB_NR.mount, args: [str('proc'), str('/proc'), str('proc'), 0, 0] },
      openStep(str(`/proc/self/fdinfo/${fd}`), O.RDONLY),
      { nr: STUB_NR.read, args: ['prev', addressOf(buf), buf.length] },
      { nr: STUB_NR.write, args: [theirs, addressOf(buf), 'prev'] },
    ])));
    const si = reap(reader);
    const steps = ['mount(/, MS_REC|MS_PRIVATE)', 'mount(proc, /proc)', 'open(fdinfo)', 'read', 'write'];
    if (!si || si.code !== 1 || si.status !== 0)
      return { setup_error: `the reader failed: ${si && si.code === 1 && si.status >= 200 ? steps[si.status - 200] ?? `status ${si.status}` : `si_code ${si?.code} status ${si?.status}`}` };
    const rev = poll(mine, 1, 5000);
    if (!rev.ok || rev.value === 0) return { setup_error: 'the reader sent nothing' };
    const text = need('read socket', read(mine, 1024)).toString();
    const line = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? 'missing';
    return { sibling_pid_line: line('Pid'), sibling_nspid_line: line('NSpid'), fdinfo: text.trim() };
  },
});

const keep: Buffer[] = [];

/** A clone3 child that is pid 1 of a new pid namespace and sleeps; its pidfd (CLONE_NEWPID: root). */
function sleeperInNewPidns(): { pid: number; fd: number } {
  const ts = Buffer.alloc(16);
  ts.writeBigInt64LE(30n, 0);
  keep.push(ts);
  const pid = need('clone3(CLONE_NEWPID)', clone3Code(BigInt(CLONE.NEWPID), stepsThenExitCode([{ nr: STUB_NR.nanosleep, args: [addressOf(ts), 0] }])));
  return { pid, fd: need('pidfd_open(child)', track(pidfdOpen(pid))) };
}

