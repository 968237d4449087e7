// CLONE_PIDFD via clone(2)/clone3(2), clone3 itself, CLONE_THREAD|CLONE_PIDFD: reference §2 rows 3, 4, 10.
import { CLONE, O, P, POLL, SIG, W } from './lib/constants.js';
import { addressOf, cloneExit, kill, mount, open, poll, sys, umount } from './lib/libc.js';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { clone3Code, exitSignalCode, syscallThenExitCode, STUB_NR } from './lib/stub.js';
import { asUnprivileged } from './lib/unprivileged.js';
import { isCloexec, need, outcome, track } from './lib/pidfd.js';
import { adopt, childrenAtOnePid, clone3, clone3Raw, dualStack, exitStub, reap, waitid } from './lib/process.js';
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

// LTP clone301: the parent gets the exit signal clone_args names, for each of its five rows
const SIGUSR2 = 12, CLONE_CHILD_SETTID = 0x01000000;
const CLONE301_ROWS: [string, bigint, number][] = [
  ['plain', 0n, SIG.CHLD], ['sigusr2', 0n, SIGUSR2], ['clone_fs', BigInt(CLONE.FS), SIG.CHLD], ['newpid', BigInt(CLONE.NEWPID), SIG.CHLD],
  ['settid_pidfd', BigInt(CLONE.PARENT_SETTID | CLONE_CHILD_SETTID | CLONE.PIDFD), SIG.CHLD],
];
const SIG_NAME: Record<number, string> = { [SIG.CHLD]: 'SIGCHLD', [SIGUSR2]: 'SIGUSR2', 100: 'no signal from the child', 201: 'clone3 failed' };

/** One clone301 row, run by a stub process (Node cannot take SIGUSR2 itself): the signal it got. */
function exitSignalRow(flags: bigint, sig: number): string {
  const args = Buffer.alloc(64), ids = Buffer.alloc(16); // pidfd, child_tid, parent_tid: the stub's copies
  args.writeBigUInt64LE(flags, 0);
  args.writeBigUInt64LE(addressOf(ids), 8);
  args.writeBigUInt64LE(addressOf(ids) + 4n, 16);
  args.writeBigUInt64LE(addressOf(ids) + 8n, 24);
  args.writeBigUInt64LE(BigInt(sig), 32);
  const stub = need('clone3(stub)', clone3Code(0n, exitSignalCode(args, sig)));
  const si = reap(stub);
  return si ? SIG_NAME[si.status] ?? `status ${si.status}` : 'not reaped';
}

featureSuite('clone3', {
  exit_signals: () => {
    const noCap = needsCapSysAdmin('clone3(CLONE_NEWPID)');
    if (noCap) return noCap;
    const plain = clone3({ flags: 0n });
    if (!plain.ok) return { errno: plain.errno };
    reap(plain.value.pid);
    return { result: 'child', ...Object.fromEntries(CLONE301_ROWS.map(([key, flags, sig]) => [key, exitSignalRow(flags, sig)])) };
  },
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
  // LTP clone302, one case per row. Each struct gets a stack whose return address is an exit
  // stub, so a kernel that wrongly accepts one makes a child that only exits (reaped by cleanup).
  efault_args: () => childOr(sys('clone3', ['ulong', BAD_ADDRESS], ['size_t', 64])),
  einval_size_zero: () => childOr(rawClone3(() => {}, 0)),
  einval_size_short: () => childOr(rawClone3(() => {}, 63)),
  // LTP's "extra size" reads past its guarded buffer (EFAULT); here a 256-byte struct, longer than
  // any kernel's, ends in a non-zero byte: copy_struct_from_user refuses the unknown tail (E2BIG).
  e2big_extra_nonzero: () => childOr(rawClone3((a) => a.writeUInt8(1, 255), 256)),
  einval_sighand_no_vm: () => childOr(rawClone3((a) => a.writeBigUInt64LE(BigInt(CLONE.SIGHAND), 0))),
  einval_thread_no_sighand: () => childOr(rawClone3((a) => a.writeBigUInt64LE(BigInt(CLONE.THREAD), 0))),
  einval_fs_newns: () => childOr(rawClone3((a) => a.writeBigUInt64LE(BigInt(CLONE.FS | CLONE.NEWNS), 0))),
  efault_pidfd: () => childOr(rawClone3((a) => {
    a.writeBigUInt64LE(BigInt(CLONE.PIDFD), 0);
    a.writeBigUInt64LE(BigInt(BAD_ADDRESS), 8);
  })),
  einval_exit_signal: () => childOr(rawClone3((a) => a.writeBigUInt64LE(0x100n /* CSIGNAL + 1 */, 32))),
  // zero-stack-size and invalid-stack. The second (stack 0, size 4) is asked only where the first
  // was refused: a kernel without the check would run its child fork-like on a copy of Node.
  stack_args: () => {
    const zeroSize = childOr(rawClone3((a) => a.writeBigUInt64LE(0n, 48)));
    if (zeroSize.result) return { zero_stack_size: `result ${zeroSize.result}` };
    // Any refusal but EINVAL stays the plain errno, so a seccomp filter's ENOSYS is recognised as such.
    if (zeroSize.errno !== 'EINVAL') return { errno: zeroSize.errno };
    const sizeOnly = childOr(rawClone3((a) => {
      a.writeBigUInt64LE(0n, 40);
      a.writeBigUInt64LE(4n, 48);
    }));
    return { zero_stack_size: 'EINVAL', stack_size_without_stack: sizeOnly.errno ?? `result ${sizeOnly.result}` };
  },
  // LTP clone304's namespace-only rows: each CLONE_NEW* flag from a caller without CAP_SYS_ADMIN
  // (a child dropped to uid 65534) gives EPERM (kernel/nsproxy.c copy_namespaces checks the
  // capability before any namespace is made, so a type the config lacks answers EPERM too).
  eperm_unprivileged_ns_flags: () => {
    const out: Record<string, unknown> = {};
    for (const [name, flag] of UNPRIV_NS_FLAGS) {
      const args = Buffer.alloc(64);
      args.writeBigUInt64LE(BigInt(flag), 0);
      args.writeBigUInt64LE(BigInt(SIG.CHLD), 32);
      keepArgs.push(args);
      const r = asUnprivileged('clone3', [addressOf(args), 64]);
      if (r.setup_error || r.prereq) return r;
      // Not EPERM: that answer alone, as a plain errno (a filter's ENOSYS is then recognised as one).
      if (r.errno !== 'EPERM') return { ...r, flag: name };
      out[name] = r.errno;
      out.as_uid = r.as_uid;
    }
    return out;
  },
});

/** LTP clone304's namespace flags. */
const UNPRIV_NS_FLAGS = [
  ['newpid', CLONE.NEWPID], ['newcgroup', 0x02000000], ['newipc', 0x08000000], ['newnet', CLONE.NEWNET], ['newns', CLONE.NEWNS],
  ['newuts', CLONE.NEWUTS],
] as const;

/** An address no process maps (the zero page), for the EFAULT cases. */
const BAD_ADDRESS = 8;
const keepArgs: Buffer[] = [];

/**
 * clone3 with a 64-byte struct (SIGCHLD, a stack whose return address is an exit stub), edited by
 * `edit`, passed with `size` (the buffer is 256 bytes, so sizes up to 256 stay readable).
 */
function rawClone3(edit: (args: Buffer) => void, size = 64) {
  const args = Buffer.alloc(256);
  const stack = dualStack(exitStub(0, false));
  args.writeBigUInt64LE(BigInt(SIG.CHLD), 32);
  args.writeBigUInt64LE(stack.args.stack, 40);
  args.writeBigUInt64LE(stack.args.size, 48);
  edit(args);
  keepArgs.push(args, stack.keep);
  return clone3Raw(args, size);
}

/** The errno, or a child the kernel made (adopted, so cleanup reaps it). */
function childOr(r: ReturnType<typeof sys>): { errno?: string; result?: string } {
  if (!r.ok) return { errno: r.errno };
  adopt(r.value);
  return { result: 'child' };
}

featureSuite('clone3_set_tid', {
  reused_pid: () => {
    const noCap = needsCapSysAdmin('clone3 set_tid');
    if (noCap) return noCap;
    const { first, second } = childrenAtOnePid();
    if (!second.ok) return { errno: second.errno, requested: first.pid };
    return { result: 'child', same_pid: second.value.pid === first.pid, requested: first.pid, got: second.value.pid };
  },
  // LTP clone304: set_tid needs CAP_SYS_ADMIN (5.9+: or CAP_CHECKPOINT_RESTORE) in the pid
  // namespace. Asked by a child dropped to uid 65534, so it runs as root and as any user. pid 1
  // exists, so a caller with the capability would get EEXIST: no child is made either way.
  eperm_unprivileged: () => {
    const args = Buffer.alloc(96);
    const tids = Buffer.alloc(8);
    tids.writeInt32LE(1, 0);
    args.writeBigUInt64LE(BigInt(SIG.CHLD), 32);
    args.writeBigUInt64LE(addressOf(tids), 64);
    args.writeBigUInt64LE(1n, 72);
    keepArgs.push(args, tids);
    return asUnprivileged('clone3', [addressOf(args), 96]);
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

// ---- CLONE_INTO_CGROUP (LTP clone303) ------------------------------------------------------
/** A cgroup2 mount point and this process's cgroup under it; mounts one in a temp dir when none is. */
function ownCgroup2Dir(): { dir: string; cleanup: () => void } | { prereq: string; errno: string } {
  const rel = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
  const mnt = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' '))
    .find((f) => f[f.indexOf('-') + 1] === 'cgroup2');
  if (mnt && rel !== undefined && rel.startsWith(mnt[3])) {
    return { dir: join(mnt[4], rel.slice(mnt[3].length)), cleanup: () => {} };
  }
  // No cgroup2 mount (a bare guest): mount one privately for the probe, and take it away after.
  const point = mkdtempSync('/tmp/pidfd-matrix-cgroup2-');
  const m = mount('cgroup2', point, 'cgroup2');
  if (!m.ok) {
    rmSync(point, { recursive: true, force: true });
    return { prereq: 'mount(cgroup2)', errno: m.errno };
  }
  const cleanup = () => {
    umount(point);
    rmSync(point, { recursive: true, force: true });
  };
  return { dir: join(point, rel ?? '/'), cleanup };
}

featureSuite('clone3_into_cgroup', {
  // LTP clone303: the child starts in the cgroup clone_args.cgroup names (cgroup.procs lists it)
  child_in_cgroup: () => {
    const noCap = needsCapSysAdmin('creating a cgroup');
    if (noCap) return noCap;
    const own = ownCgroup2Dir();
    if ('prereq' in own) return own;
    const dir = join(own.dir, `pidfd-matrix-into-${process.pid}`);
    try {
      mkdirSync(dir);
    } catch (e) {
      own.cleanup();
      return { prereq: `mkdir ${dir}`, errno: (e as { code?: string }).code ?? String(e) };
    }
    try {
      const fd = need('open(cgroup dir)', track(open(dir, O.RDONLY | O.DIRECTORY | O.CLOEXEC)));
      const pause = syscallThenExitCode(STUB_NR.pause, []);
      const r = clone3Code(CLONE.INTO_CGROUP, pause, SIG.CHLD, undefined, undefined, fd);
      if (!r.ok) return { errno: r.errno };
      const line = /^0::(.*)$/m.exec(readFileSync(`/proc/${r.value}/cgroup`, 'utf8'))?.[1] ?? 'no 0:: line';
      const procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      kill(r.value, SIG.KILL);
      reap(r.value);
      const where = line.endsWith(`/pidfd-matrix-into-${process.pid}`) ? 'the new cgroup' : line;
      return { result: 'child', child_cgroup: where, in_cgroup_procs: procs.includes(r.value) };
    } finally {
      try {
        rmdirSync(dir);
      } catch { /* a child still inside: reapAll() kills it, the directory stays */ }
      own.cleanup();
    }
  },
});
