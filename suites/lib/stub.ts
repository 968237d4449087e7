// The machine-code children of the probes, for the architecture this runs on: x86stub.ts on
// x86_64, arm64stub.ts on aarch64 (the same builders, the same observable behaviour), and
// clone3Code, which starts one in a clone3 child on either (process.ts clone3Raw). Probes pass
// syscall numbers from STUB_NR (or constants.ts NR), never one architecture's literal numbers.
import { ARCH, SIG } from './constants.js';
import { addressOf, errnoName, mmapExec, writeMem, type Res } from './libc.js';
import { adopt, clone3Raw, clone3Size, dualStack, reap } from './process.js';
import * as x86 from './x86stub.js';
import * as arm64 from './arm64stub.js';

const impl = ARCH === 'aarch64' ? arm64 : x86;
const keep: Buffer[] = [];

export type Step = x86.Step;
export const ioctlThenExitCode = impl.ioctlThenExitCode;
export const syscallThenExitCode = impl.syscallThenExitCode;
export const prematureLeaderExitCode = impl.prematureLeaderExitCode;
export const threadExecCode = impl.threadExecCode;
export const blockedTwoThreadCode = impl.blockedTwoThreadCode;
export const forkWaitExitCode = impl.forkWaitExitCode;
export const exitSignalCode = impl.exitSignalCode;
export const reparentAutoreapCode = impl.reparentAutoreapCode;
export const stepsThenExitCode = impl.stepsThenExitCode;
export const stepsCode = impl.stepsCode;
export const syscallSucceedsThenExitCode = impl.syscallSucceedsThenExitCode;
export const syscallReportThenSleepCode = impl.syscallReportThenSleepCode;

/**
 * Syscall numbers the probes put in stub code, per architecture (constants.ts NR has the pidfd
 * ones). arm64 has no pause(2): its `pause` is ppoll, which syscallThenExitCode calls with all
 * arguments 0 (ppoll(NULL, 0, NULL, NULL): it waits for a signal as pause does). arm64 has no
 * open(2) either: openStep() gives openat(AT_FDCWD, ...) there.
 */
const STUB_SYSCALLS = {
  x86_64: {
    read: 0, write: 1, open: 2, nanosleep: 35, pause: 34, exit: 60, connect: 42, sendmsg: 46, prctl: 157, mount: 165,
    move_mount: 429, openat: 257, pidfd_send_signal: 424, capset: 126, setgroups: 116, setresgid: 119, setresuid: 117,
    setfsgid: 123, setfsuid: 122, unshare: 272, rt_sigprocmask: 14, rt_sigtimedwait: 128,
  },
  aarch64: {
    read: 63, write: 64, open: -1, nanosleep: 101, pause: 73, exit: 93, connect: 203, sendmsg: 211, prctl: 167, mount: 40,
    move_mount: 429, openat: 56, pidfd_send_signal: 424, capset: 91, setgroups: 159, setresgid: 149, setresuid: 147,
    setfsgid: 152, setfsuid: 151, unshare: 97, rt_sigprocmask: 135, rt_sigtimedwait: 137,
  },
} as const;
export const STUB_NR: Record<keyof (typeof STUB_SYSCALLS)['x86_64'], number> = STUB_SYSCALLS[ARCH];

/** A step that opens `path` (an address) with `flags`: open(2) on x86_64, openat(AT_FDCWD) on arm64. */
export function openStep(path: bigint, flags: number): Step {
  return ARCH === 'aarch64' ? { nr: STUB_NR.openat, args: [-100, path, flags] } : { nr: STUB_NR.open, args: [path, flags] };
}

/**
 * clone3(flags) running `code` in the child; value = child pid. The child is adopted for cleanup.
 * With CLONE_PIDFD in flags, the pidfd is written to `pidfdOut[0]` when given; `setTid` asks
 * for that pid number (set_tid, 5.5, CAP_SYS_ADMIN); `cgroupFd` fills clone_args.cgroup.
 */
export function clone3Code(
  flags: bigint, code: Buffer, exitSignal: number = SIG.CHLD, pidfdOut?: Int32Array, setTid?: number, cgroupFd?: number,
): Res {
  const page = mmapExec(4096);
  writeMem(page, code);
  // Both clone3 stack semantics (5.3.0-5.3.10 and later) start the child at `page` (process.ts).
  const stack = dualStack(page);
  // 64 (never glibc's 88, see process.ts), 96 with set_tid/cgroup
  const size = clone3Size(setTid !== undefined || cgroupFd !== undefined);
  const args = Buffer.alloc(size);
  if (setTid !== undefined) { // set_tid (5.5): the child's pid in the caller's pid namespace
    const tids = Buffer.alloc(8);
    tids.writeInt32LE(setTid, 0);
    keep.push(tids);
    args.writeBigUInt64LE(addressOf(tids), 64);
    args.writeBigUInt64LE(1n, 72);
  }
  if (cgroupFd !== undefined) args.writeBigUInt64LE(BigInt(cgroupFd), 80); // CLONE_INTO_CGROUP (5.7)
  const pidfdBuf = Buffer.alloc(8);
  pidfdBuf.writeInt32LE(-1, 0);
  args.writeBigUInt64LE(flags, 0);
  args.writeBigUInt64LE(addressOf(pidfdBuf), 8);
  args.writeBigUInt64LE(BigInt(exitSignal), 32);
  args.writeBigUInt64LE(stack.args.stack, 40);
  args.writeBigUInt64LE(stack.args.size, 48);
  keep.push(stack.keep, args, pidfdBuf);
  const r = clone3Raw(args, size);
  if (r.ok) adopt(r.value);
  if (r.ok && pidfdOut) pidfdOut[0] = pidfdBuf.readInt32LE(0);
  return r;
}

/** Run `code` in a clone3(flags) child and reap it: value = errno name from the exit status, or 'ok'. */
export function runInChild(flags: bigint, code: Buffer): Res<string> {
  const r = clone3Code(flags, code);
  if (!r.ok) return r;
  const si = reap(r.value);
  if (!si) return { ok: false, errno: 'ECHILD' };
  if (si.code !== 1 /* CLD_EXITED */) return { ok: true, value: `signal ${si.status}` };
  return { ok: true, value: si.status === 0 ? 'ok' : errnoName(si.status) };
}

