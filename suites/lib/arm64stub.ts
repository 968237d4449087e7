// The arm64 (A64) versions of x86stub.ts's machine-code children, one per builder, with the
// same observable behaviour: the same syscalls in the same order, the same exit statuses, the
// same eventfd reports. Callers pass syscall numbers from STUB_NR (stub.ts), which has each
// architecture's own. Registers: x0-x5 arguments, x8 the number, x0 the result (svc #0
// preserves every other register); x12 holds a step's result ('prev'), x9-x11 and x13 scratch.
import { Asm, SP, addImm, b, bCond, cbnz, cbz, cmnImm, cmp, cmpImm, csel, ldrW, mov, neg, strX, subImm, svc, tbnz, tbz, ubfxW, XZR } from './a64.js';
import { addressOf } from './libc.js';

const keep: Buffer[] = [];

/** arm64 numbers (asm-generic unistd.h) of the syscalls the builders issue themselves. */
const A = {
  ioctl: 29, exit: 93, exit_group: 94, nanosleep: 101, ppoll: 73, rt_sigprocmask: 135, rt_sigtimedwait: 137,
  prctl: 167, clone: 220, execve: 221, wait4: 260, clone3: 435, write: 64,
} as const;
const CLONE_THREAD_FLAGS = 0x10f00; // CLONE_VM|FS|FILES|SIGHAND|THREAD, as x86stub.ts
const SIGCHLD = 17;

/** A syscall argument: an immediate (number, address) or a register holding it. */
type Arg = number | bigint | { reg: number };

/** x0..x5 = args (registers first, then immediates; the rest of the six 0), x8 = nr, svc #0. */
function call(a: Asm, nr: number, args: Arg[]): Asm {
  if (args.length > 6) throw new Error('arm64 stub: a syscall takes at most six arguments');
  const all: Arg[] = [...args, ...Array(6 - args.length).fill(0)];
  all.forEach((v, i) => {
    if (typeof v !== 'object') return;
    if (v.reg < 6 && v.reg !== i) throw new Error(`arm64 stub: argument ${i} from x${v.reg}, which another argument overwrites`);
    if (v.reg !== i) a.emit(mov(i, v.reg));
  });
  all.forEach((v, i) => {
    if (typeof v !== 'object') a.mov(i, v);
  });
  return a.mov(8, nr).emit(svc());
}
/** exit_group(x0); b . */
function exitWithX0(a: Asm, label: string): Asm {
  return a.mov(8, A.exit_group).emit(svc()).label(label).branch(label, b);
}
/** exit_group(imm); b . */
function exitWith(a: Asm, status: number, label: string): Asm {
  return call(a, A.exit_group, [status]).label(label).branch(label, b);
}
/** A timespec of `ms` (kept alive); its address. */
function ts(ms: number): bigint {
  const t = Buffer.alloc(16);
  t.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  t.writeBigInt64LE(BigInt((ms % 1000) * 1_000_000), 8);
  keep.push(t);
  return addressOf(t);
}
/** The 16-byte aligned top of a new 16 KiB thread stack (kept alive). */
function threadStackTop(): bigint {
  const stack = Buffer.alloc(16 * 1024);
  keep.push(stack);
  return (addressOf(stack) + BigInt(stack.length - 64)) & ~15n;
}
/** raw clone(CLONE_THREAD_FLAGS, top, 0, 0, 0) (arm64's order: flags, stack, ptid, tls, ctid) */
function startThread(a: Asm): Asm {
  return call(a, A.clone, [CLONE_THREAD_FLAGS, threadStackTop()]);
}

/** See x86stub.ts ioctlThenExitCode: ioctl(fd, cmd, 128-byte stack buffer starting with mask), exit_group(-ret). */
export function ioctlThenExitCode(fd: number, cmd: number, mask: number): Buffer {
  const a = new Asm()
    .emit(subImm(SP, SP, 0x80)) //          sub sp, sp, #0x80
    .mov(9, mask).emit(strX(9, SP, 0)) //   str mask, [sp]
    .emit(addImm(10, SP, 0)); //            x10 = the buffer
  call(a, A.ioctl, [fd, cmd >>> 0, { reg: 10 }]); // cmd: an unsigned 32-bit ioctl number
  a.emit(neg(0, 0)); //                     the status: -ret (the errno, 0 on success)
  return exitWithX0(a, 'self').bytes();
}

/**
 * See x86stub.ts syscallThenExitCode. Unset arguments are 0: arm64 has no pause(2), so
 * STUB_NR.pause is ppoll, and ppoll(NULL, 0, NULL, NULL) waits for a signal as pause does.
 */
export function syscallThenExitCode(nr: number, args: (number | bigint)[], exitWith: 'errno' | 'result' = 'errno'): Buffer {
  const a = call(new Asm(), nr, args.map((v) => BigInt.asIntN(64, BigInt(v))));
  if (exitWith === 'errno') a.emit(neg(1, 0), cmpImm(0, 0), csel(0, 1, XZR, 'lt')); // x0 < 0 ? -x0 : 0
  return exitWithX0(a, 'self').bytes();
}

/** See x86stub.ts prematureLeaderExitCode. */
export function prematureLeaderExitCode(leaderMs: number, wakeFd: number, limitMs: number): Buffer {
  const pollfd = Buffer.alloc(8); // struct pollfd { int fd; short events = POLLIN; short revents; }
  pollfd.writeInt32LE(wakeFd, 0);
  pollfd.writeInt16LE(1, 4);
  keep.push(pollfd);
  const a = startThread(new Asm()).branch('thread', (w) => cbz(0, w));
  call(a, A.nanosleep, [ts(leaderMs), 0]); //                 the leader sleeps,
  call(a, A.exit, [0]).label('leader').branch('leader', b); // then exit(0): this thread only
  a.label('thread');
  call(a, A.ppoll, [addressOf(pollfd), 1, ts(limitMs), 0, 0]); // the probe's word, or limitMs
  return exitWith(a, 0, 'end').bytes();
}

/** See x86stub.ts threadExecCode. */
export function threadExecCode(path: string, argv: string[], delayMs: number, leaderMs: number, leaderExits = false): Buffer {
  const cstr = (s: string) => {
    const buf = Buffer.from(s + '\0');
    keep.push(buf);
    return addressOf(buf);
  };
  const argvBuf = Buffer.alloc(8 * (argv.length + 1));
  argv.forEach((s, i) => argvBuf.writeBigUInt64LE(cstr(s), 8 * i));
  keep.push(argvBuf);
  const a = startThread(new Asm()).branch('thread', (w) => cbz(0, w));
  call(a, A.nanosleep, [ts(leaderMs), 0]);
  call(a, leaderExits ? A.exit : A.exit_group, [0]).label('leader').branch('leader', b);
  a.label('thread');
  call(a, A.nanosleep, [ts(delayMs), 0]);
  call(a, A.execve, [cstr(path), addressOf(argvBuf), 0]); // envp NULL
  return exitWith(a, 99, 'failed').bytes();
}

/** See x86stub.ts blockedTwoThreadCode. */
export function blockedTwoThreadCode(blockMask: bigint, ms: number): Buffer {
  const set = Buffer.alloc(8);
  set.writeBigUInt64LE(blockMask);
  keep.push(set);
  const a = call(new Asm(), A.rt_sigprocmask, [0 /* SIG_BLOCK */, addressOf(set), 0, 8]);
  startThread(a); //                                 both threads go on below
  call(a, A.nanosleep, [ts(ms), 0]);
  return exitWith(a, 0, 'end').bytes();
}

/** See x86stub.ts forkWaitExitCode (fork is clone(SIGCHLD, 0) on arm64). */
export function forkWaitExitCode(childStatus: number): Buffer {
  const status = Buffer.alloc(8);
  keep.push(status);
  const a = call(new Asm(), A.clone, [SIGCHLD]).branch('parent', (w) => cbnz(0, w));
  exitWith(a, childStatus, 'child');
  a.label('parent').emit(mov(9, 0)); //                                  x9 = the child's pid
  call(a, A.wait4, [{ reg: 9 }, addressOf(status), 0, 0]);
  a.emit(cmp(0, 9)).branch('fail', (w) => bCond('ne', w)); //            not that child: 250
  a.mov(9, addressOf(status)).emit(ldrW(0, 9, 0), ubfxW(0, 0, 8, 8)); // WEXITSTATUS
  exitWithX0(a, 'self').label('fail');
  return exitWith(a, 250, 'end').bytes();
}

/** See x86stub.ts exitSignalCode (LTP clone301's parent side). */
export function exitSignalCode(args: Buffer, sig: number): Buffer {
  const set = Buffer.alloc(8), info = Buffer.alloc(128), t = Buffer.alloc(16);
  set.writeBigUInt64LE(1n << BigInt(sig - 1));
  t.writeBigInt64LE(5n, 0);
  keep.push(set, info, t, args);
  const a = call(new Asm(), A.rt_sigprocmask, [0 /* SIG_BLOCK */, addressOf(set), 0, 8]);
  call(a, A.clone3, [addressOf(args), 64]);
  a.branch('child', (w) => cbz(0, w)).branch('failed', (w) => tbnz(0, 63, w));
  a.emit(mov(12, 0)); //                                                 x12 = the child's pid
  call(a, A.rt_sigtimedwait, [addressOf(set), addressOf(info), addressOf(t), 8]);
  a.emit(mov(13, 0)); //                                                 x13 = signo or -errno
  call(a, A.wait4, [{ reg: 12 }, 0, 0x40000000 /* __WALL */, 0]);
  a.mov(9, addressOf(info)).emit(ldrW(0, 9, 16)); //                     info.si_pid
  a.emit(cmp(0, 12)).branch('mismatch', (w) => bCond('ne', w));
  a.emit(mov(0, 13));
  exitWithX0(a, 'done');
  a.label('mismatch');
  exitWith(a, 100, 'm');
  a.label('failed');
  exitWith(a, 201, 'f');
  a.label('child');
  return exitWith(a, 0, 'c').bytes();
}

/** See x86stub.ts reparentAutoreapCode (selftest autoreap_reparent, this stub the subreaper). */
export function reparentAutoreapCode(args: Buffer): Buffer {
  const status = Buffer.alloc(8);
  keep.push(status, args);
  const a = call(new Asm(), A.prctl, [36 /* PR_SET_CHILD_SUBREAPER */, 1]);
  call(a, A.clone, [SIGCHLD]).branch('M', (w) => cbz(0, w)); //                      fork
  // S: reap M; M's status decides; sleep 2 s; wait4(-1, NULL, __WALL|WNOHANG, NULL)
  a.emit(mov(9, 0));
  call(a, A.wait4, [{ reg: 9 }, addressOf(status), 0, 0]);
  a.mov(9, addressOf(status)).emit(ldrW(0, 9, 0)).branch('waited', (w) => cbz(0, w));
  exitWith(a, 3, 'e3').label('waited');
  call(a, A.nanosleep, [ts(2000), 0]);
  call(a, A.wait4, [-1, 0, 0x40000001 /* __WALL|WNOHANG */, 0]);
  a.emit(cmnImm(0, 10)).branch('notEchild', (w) => bCond('ne', w)); // -ECHILD: G was autoreaped
  exitWith(a, 0, 'e0').label('notEchild').branch('nonzero', (w) => cbnz(0, w));
  exitWith(a, 4, 'e4').label('nonzero').branch('negative', (w) => tbnz(0, 63, w)); // 0: G still runs
  exitWith(a, 1, 'e1').label('negative'); //                           > 0: reaped a zombie
  exitWith(a, 2, 'e2');
  // M: clone3(args, 64); the child (x0 0) runs G; failure exit 1; else exit 0
  a.label('M');
  call(a, A.clone3, [addressOf(args), 64]);
  a.branch('G', (w) => cbz(0, w)).branch('mFail', (w) => tbnz(0, 63, w));
  exitWith(a, 0, 'm0').label('mFail');
  exitWith(a, 1, 'm1').label('G');
  call(a, A.nanosleep, [ts(300), 0]);
  return exitWith(a, 0, 'g0').bytes();
}

/** One step of stepsThenExitCode: syscall nr with up to six args; 'prev' = the previous step's result. */
export interface Step { nr: number; args: (number | bigint | 'prev')[] }

/** See x86stub.ts stepsThenExitCode. */
export function stepsThenExitCode(steps: Step[]): Buffer {
  return Buffer.concat([stepsCode(steps), exitWith(new Asm(), 0, 'end').bytes()]);
}

/** See x86stub.ts stepsCode: code that falls through when every step succeeds. */
export function stepsCode(steps: Step[], failBase = 200): Buffer {
  const a = new Asm();
  steps.forEach((s, i) => {
    if (s.args.length > 6) throw new Error('arm64 stub: a step takes at most six arguments');
    s.args.forEach((v, j) => (v === 'prev' ? a.emit(mov(j, 12)) : a.mov(j, BigInt.asIntN(64, BigInt(v)))));
    a.mov(8, s.nr).emit(svc()).branch(`ok${i}`, (w) => tbz(0, 63, w));
    exitWith(a, failBase + i, `fail${i}`).label(`ok${i}`).emit(mov(12, 0)); // x12 = this step's result
  });
  return a.bytes();
}

/** See unprivileged.ts: syscall(nr, args); if it returned >= 0, exit_group(status); else fall through. */
export function syscallSucceedsThenExitCode(nr: number, args: number[], status: number): Buffer {
  const a = new Asm();
  args.forEach((v, i) => a.mov(i, BigInt.asIntN(64, BigInt(v))));
  a.mov(8, nr).emit(svc()).branch('failed', (w) => tbnz(0, 63, w));
  return exitWith(a, status, 'end').label('failed').bytes();
}

/** See x86stub.ts syscallReportThenSleepCode. */
export function syscallReportThenSleepCode(nr: number, args: (number | bigint)[], reportFd: number, sleepS: number): Buffer {
  const slot = Buffer.alloc(8);
  keep.push(slot);
  const a = call(new Asm(), nr, args.map((v) => BigInt.asIntN(64, BigInt(v))));
  a.emit(neg(0, 0), addImm(0, 0, 1)); //                        errno + 1, or 1
  a.mov(9, addressOf(slot)).emit(strX(0, 9, 0));
  call(a, A.write, [reportFd, addressOf(slot), 8]);
  call(a, A.nanosleep, [ts(sleepS * 1000), 0]);
  return exitWith(a, 0, 'end').bytes();
}
