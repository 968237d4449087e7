// clone3 children that run a few raw syscalls (x86_64 machine code) and exit with the result.
// Used where the *caller* of a syscall must live somewhere Node cannot go, e.g. inside a new
// pid namespace (CLONE_NEWPID): the child is pid 1 there and reports its errno as exit status.
// Probes take these through stub.ts, which picks this file or arm64stub.ts by ARCH and starts
// the child (clone3Code). Syscall numbers passed in are x86_64's (stub.ts STUB_NR).
import { addressOf } from './libc.js';

const keep: Buffer[] = [];

function i32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/**
 * Code: ioctl(fd, cmd, buf) with a 128-byte stack buffer whose first u64 is `mask`, then
 * exit_group(-ret): the exit status is the errno (0 on success).
 */
export function ioctlThenExitCode(fd: number, cmd: number, mask: number): Buffer {
  return Buffer.concat([
    Buffer.from([0x48, 0x81, 0xec, 0x80, 0x00, 0x00, 0x00]), // sub rsp, 0x80
    Buffer.from([0x48, 0xc7, 0x04, 0x24]), i32(mask), //          mov qword [rsp], mask
    Buffer.from([0xbf]), i32(fd), //                               mov edi, fd
    Buffer.from([0xbe]), i32(cmd), //                              mov esi, cmd
    Buffer.from([0x48, 0x89, 0xe2]), //                            mov rdx, rsp
    Buffer.from([0xb8, 0x10, 0, 0, 0]), //                         mov eax, 16 (ioctl)
    Buffer.from([0x0f, 0x05]), //                                  syscall
    Buffer.from([0xf7, 0xd8]), //                                  neg eax
    Buffer.from([0x89, 0xc7]), //                                  mov edi, eax
    Buffer.from([0xb8, 0xe7, 0, 0, 0]), //                         mov eax, 231 (exit_group)
    Buffer.from([0x0f, 0x05]), //                                  syscall
    Buffer.from([0xeb, 0xfe]), //                                  jmp $
  ]);
}

/**
 * Code: syscall(nr, args...) with up to six 64-bit immediates (pointers into this process's
 * memory stay valid: the child has a copy of it), then exit_group(errno), or exit_group(0) on success.
 */
export function syscallThenExitCode(nr: number, args: (number | bigint)[], exitWith: 'errno' | 'result' = 'errno'): Buffer {
  const regs = [[0x48, 0xbf], [0x48, 0xbe], [0x48, 0xba], [0x49, 0xba], [0x49, 0xb8], [0x49, 0xb9]]; // rdi rsi rdx r10 r8 r9
  const parts: Buffer[] = args.map((a, i) => {
    const imm = Buffer.alloc(8);
    imm.writeBigInt64LE(BigInt.asIntN(64, BigInt(a)));
    return Buffer.concat([Buffer.from(regs[i]), imm]); // mov reg, imm64
  });
  return Buffer.concat([
    ...parts,
    Buffer.from([0xb8]), i32(nr), //                 mov eax, nr
    exitWith === 'errno'
      // syscall; mov edi, eax; neg edi; test eax, eax; jl +2; xor edi, edi  (status: errno, or 0)
      ? Buffer.from([0x0f, 0x05, 0x89, 0xc7, 0xf7, 0xdf, 0x85, 0xc0, 0x7c, 0x02, 0x31, 0xff])
      // syscall; mov edi, eax  (status: the low byte of the result)
      : Buffer.from([0x0f, 0x05, 0x89, 0xc7]),
    Buffer.from([0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe]), // exit_group; jmp $
  ]);
}

/**
 * Code for a two-thread process whose leader exits first (R4): the leader starts a thread,
 * sleeps `leaderMs` and exit()s as a thread; the thread waits until `wakeFd` (an eventfd the
 * child inherits) is readable, at most `limitMs`, then exit_group()s. So the group ends when
 * the probe says, never before, and on its own after `limitMs` if nobody says.
 */
export function prematureLeaderExitCode(leaderMs: number, wakeFd: number, limitMs: number): Buffer {
  const ts = (ms: number) => {
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
    b.writeBigInt64LE(BigInt((ms % 1000) * 1_000_000), 8);
    keep.push(b);
    return addressOf(b);
  };
  const pollfd = Buffer.alloc(8); // struct pollfd { int fd; short events = POLLIN; short revents; }
  pollfd.writeInt32LE(wakeFd, 0);
  pollfd.writeInt16LE(1, 4);
  keep.push(pollfd);
  const stack = Buffer.alloc(16 * 1024);
  keep.push(stack);
  const imm64 = (prefix: number[], v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return Buffer.concat([Buffer.from(prefix), b]);
  };
  const sleep = (addr: bigint) => Buffer.concat([imm64([0x48, 0xbf], addr), Buffer.from([0x31, 0xf6, 0xb8, 35, 0, 0, 0, 0x0f, 0x05])]); // nanosleep(ts, NULL)
  const leader = Buffer.concat([sleep(ts(leaderMs)), Buffer.from([0x31, 0xff, 0xb8, 60, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe])]); // exit(0): this thread only
  const thread = Buffer.concat([
    imm64([0x48, 0xbf], addressOf(pollfd)), //                            mov rdi, &pollfd
    Buffer.from([0xbe, 1, 0, 0, 0]), //                                   mov esi, 1 (nfds)
    imm64([0x48, 0xba], ts(limitMs)), //                                  mov rdx, &timeout
    Buffer.from([0x4d, 0x31, 0xd2, 0x4d, 0x31, 0xc0]), //                 xor r10,r10 (no sigmask); xor r8,r8
    Buffer.from([0xb8, 0x0f, 0x01, 0, 0, 0x0f, 0x05]), //                 mov eax, 271 (ppoll); syscall
    Buffer.from([0x31, 0xff, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe]), // exit_group(0)
  ]);
  const head = Buffer.concat([
    Buffer.from([0xbf]), i32(0x10f00), //                               mov edi, CLONE_VM|FS|FILES|SIGHAND|THREAD
    imm64([0x48, 0xbe], addressOf(stack) + BigInt(stack.length - 64)), // mov rsi, stack top
    Buffer.from([0x31, 0xd2, 0x4d, 0x31, 0xd2, 0x4d, 0x31, 0xc0]), //     xor edx,edx; xor r10,r10; xor r8,r8
    Buffer.from([0xb8, 56, 0, 0, 0, 0x0f, 0x05]), //                       mov eax, 56 (clone); syscall
    Buffer.from([0x85, 0xc0]), //                                          test eax, eax
  ]);
  // jz thread (rel32 over the leader's code)
  const jz = Buffer.concat([Buffer.from([0x0f, 0x84]), i32(leader.length)]);
  return Buffer.concat([head, jz, leader, thread]);
}

/**
 * Code for a two-thread process whose second thread execs (selftest pidfd_test.c
 * test_pidfd_poll_exec): the leader starts a thread, then sleeps `leaderMs` and exit_group()s;
 * the thread sleeps `delayMs`, then execve(path, argv, NULL) (de_thread kills the leader and the
 * thread takes over its pid). A failed execve exit_group(99)s. With `leaderExits` the leader
 * exit()s as a thread after `leaderMs` instead (selftest thread_group_exec: the leader is gone
 * before the exec).
 */
export function threadExecCode(path: string, argv: string[], delayMs: number, leaderMs: number, leaderExits = false): Buffer {
  const ts = (ms: number) => {
    const b = Buffer.alloc(16);
    b.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
    b.writeBigInt64LE(BigInt((ms % 1000) * 1_000_000), 8);
    keep.push(b);
    return addressOf(b);
  };
  const cstr = (s: string) => {
    const b = Buffer.from(s + '\0');
    keep.push(b);
    return addressOf(b);
  };
  const argvBuf = Buffer.alloc(8 * (argv.length + 1));
  argv.forEach((a, i) => argvBuf.writeBigUInt64LE(cstr(a), 8 * i));
  const stack = Buffer.alloc(16 * 1024);
  keep.push(argvBuf, stack);
  const imm64 = (prefix: number[], v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return Buffer.concat([Buffer.from(prefix), b]);
  };
  // nanosleep(ts, NULL)
  const sleep = (addr: bigint) => Buffer.concat([imm64([0x48, 0xbf], addr), Buffer.from([0x31, 0xf6, 0xb8, 35, 0, 0, 0, 0x0f, 0x05])]);
  // the leader: sleep, then exit_group(0), or exit(0) of this thread alone
  const leaderExit = leaderExits ? 60 : 0xe7;
  const leader = Buffer.concat([sleep(ts(leaderMs)), Buffer.from([0x31, 0xff, 0xb8, leaderExit, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe])]);
  const thread = Buffer.concat([
    sleep(ts(delayMs)),
    imm64([0x48, 0xbf], cstr(path)), //                                   mov rdi, path
    imm64([0x48, 0xbe], addressOf(argvBuf)), //                           mov rsi, argv
    Buffer.from([0x31, 0xd2, 0xb8, 59, 0, 0, 0, 0x0f, 0x05]), //          xor edx, edx (envp NULL); execve
    Buffer.from([0xbf, 99, 0, 0, 0, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe]), // exit_group(99)
  ]);
  const head = Buffer.concat([
    Buffer.from([0xbf]), i32(0x10f00), //                                 mov edi, CLONE_VM|FS|FILES|SIGHAND|THREAD
    imm64([0x48, 0xbe], addressOf(stack) + BigInt(stack.length - 64)), // mov rsi, stack top
    Buffer.from([0x31, 0xd2, 0x4d, 0x31, 0xd2, 0x4d, 0x31, 0xc0]), //     xor edx,edx; xor r10,r10; xor r8,r8
    Buffer.from([0xb8, 56, 0, 0, 0, 0x0f, 0x05]), //                       mov eax, 56 (clone); syscall
    Buffer.from([0x85, 0xc0]), //                                          test eax, eax
  ]);
  const jz = Buffer.concat([Buffer.from([0x0f, 0x84]), i32(leader.length)]); // jz thread
  return Buffer.concat([head, jz, leader, thread]);
}

/**
 * Code for a two-thread process with `blockMask` blocked in both threads (signals sent to it
 * stay pending, readable in /proc/<pid>/task/<tid>/status SigPnd/ShdPnd): block, start one
 * thread (raw clone, which inherits the mask), then both sleep `ms` and exit_group(0).
 */
export function blockedTwoThreadCode(blockMask: bigint, ms: number): Buffer {
  const set = Buffer.alloc(8);
  set.writeBigUInt64LE(blockMask);
  const ts = Buffer.alloc(16);
  ts.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  ts.writeBigInt64LE(BigInt((ms % 1000) * 1_000_000), 8);
  const stack = Buffer.alloc(16 * 1024);
  keep.push(set, ts, stack);
  const imm64 = (prefix: number[], v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return Buffer.concat([Buffer.from(prefix), b]);
  };
  return Buffer.concat([
    Buffer.from([0x31, 0xff]), //                                        xor edi, edi (SIG_BLOCK)
    imm64([0x48, 0xbe], addressOf(set)), //                              mov rsi, &set
    Buffer.from([0x31, 0xd2, 0x41, 0xba]), i32(8), //                    xor edx, edx; mov r10d, 8
    Buffer.from([0xb8, 14, 0, 0, 0, 0x0f, 0x05]), //                     rt_sigprocmask
    Buffer.from([0xbf]), i32(0x10f00), //                                mov edi, CLONE_VM|FS|FILES|SIGHAND|THREAD
    imm64([0x48, 0xbe], addressOf(stack) + BigInt(stack.length - 64)), // mov rsi, stack top
    Buffer.from([0x31, 0xd2, 0x4d, 0x31, 0xd2, 0x4d, 0x31, 0xc0]), //     xor edx,edx; xor r10,r10; xor r8,r8
    Buffer.from([0xb8, 56, 0, 0, 0, 0x0f, 0x05]), //                     clone: both threads go on below
    imm64([0x48, 0xbf], addressOf(ts)), //                               mov rdi, &ts
    Buffer.from([0x31, 0xf6, 0xb8, 35, 0, 0, 0, 0x0f, 0x05]), //         xor esi, esi; nanosleep
    Buffer.from([0x31, 0xff, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe]), // exit_group(0)
  ]);
}

/**
 * Code: fork(); the new child exit_group(childStatus)s at once; the caller wait4()s for it and
 * exit_group()s with that child's exit status (250 when wait4 did not return that pid), so
 * the caller's own exit says whether its child was an ordinary zombie it could wait for.
 */
export function forkWaitExitCode(childStatus: number): Buffer {
  const status = Buffer.alloc(8);
  keep.push(status);
  const addr = Buffer.alloc(8);
  addr.writeBigUInt64LE(addressOf(status));
  const exitGroup = Buffer.from([0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05]);
  return Buffer.concat([
    Buffer.from([0xb8, 57, 0, 0, 0, 0x0f, 0x05]), //           mov eax, 57 (fork); syscall
    Buffer.from([0x85, 0xc0, 0x75, 12]), //                    test eax, eax; jnz parent
    Buffer.from([0xbf]), i32(childStatus), exitGroup, //        child: exit_group(childStatus)
    Buffer.from([0x89, 0xc7]), //                              parent: mov edi, eax (the pid)
    Buffer.from([0x48, 0xbe]), addr, //                        mov rsi, &status
    Buffer.from([0x31, 0xd2, 0x4d, 0x31, 0xd2]), //            xor edx, edx; xor r10, r10
    Buffer.from([0xb8, 61, 0, 0, 0, 0x0f, 0x05]), //           mov eax, 61 (wait4); syscall
    Buffer.from([0x39, 0xf8, 0x75, 28]), //                    cmp eax, edi; jne fail
    Buffer.from([0x48, 0xbb]), addr, //                        mov rbx, &status
    Buffer.from([0x8b, 0x3b, 0xc1, 0xef, 0x08]), //            mov edi, [rbx]; shr edi, 8
    Buffer.from([0x81, 0xe7, 0xff, 0, 0, 0]), exitGroup, //    and edi, 0xff; exit_group(WEXITSTATUS)
    Buffer.from([0xbf]), i32(250), exitGroup, Buffer.from([0xeb, 0xfe]), // fail: exit_group(250)
  ]);
}

/**
 * Code for LTP clone301's parent side: block `sig`, clone3(args, 64) (a fork-like child, stack 0,
 * that exit_group(0)s at once), rt_sigtimedwait(sig, 5 s), wait4(child, __WALL), then
 * exit_group(the signal number) when the signal came from that child (si_pid), 100 when none
 * did (a timeout, or another sender), 201 when clone3 failed.
 */
export function exitSignalCode(args: Buffer, sig: number): Buffer {
  const set = Buffer.alloc(8), info = Buffer.alloc(128), ts = Buffer.alloc(16);
  set.writeBigUInt64LE(1n << BigInt(sig - 1));
  ts.writeBigInt64LE(5n, 0);
  keep.push(set, info, ts, args);
  const imm64 = (prefix: number[], v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return Buffer.concat([Buffer.from(prefix), b]);
  };
  const exitWith = (status: number) => Buffer.concat([Buffer.from([0xbf]), i32(status), Buffer.from([0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05])]);
  const prologue = Buffer.concat([
    Buffer.from([0x31, 0xff]), imm64([0x48, 0xbe], addressOf(set)), //      SIG_BLOCK, &set
    Buffer.from([0x31, 0xd2, 0x41, 0xba]), i32(8), //                       NULL, 8
    Buffer.from([0xb8, 14, 0, 0, 0, 0x0f, 0x05]), //                        rt_sigprocmask
    imm64([0x48, 0xbf], addressOf(args)), Buffer.from([0xbe]), i32(64), // &args, 64
    Buffer.from([0xb8]), i32(435), Buffer.from([0x0f, 0x05]), //            clone3
  ]);
  const parent = Buffer.concat([
    Buffer.from([0x49, 0x89, 0xc4]), //                                     mov r12, rax (the child's pid)
    imm64([0x48, 0xbf], addressOf(set)), imm64([0x48, 0xbe], addressOf(info)), imm64([0x48, 0xba], addressOf(ts)),
    Buffer.from([0x41, 0xba]), i32(8), Buffer.from([0xb8, 128, 0, 0, 0, 0x0f, 0x05]), // rt_sigtimedwait
    Buffer.from([0x49, 0x89, 0xc5]), //                                     mov r13, rax (signo or -errno)
    Buffer.from([0x4c, 0x89, 0xe7, 0x31, 0xf6, 0xba]), i32(0x40000000), //  wait4(r12, NULL, __WALL,
    Buffer.from([0x4d, 0x31, 0xd2, 0xb8, 61, 0, 0, 0, 0x0f, 0x05]), //      NULL)
    imm64([0x48, 0xbb], addressOf(info)), Buffer.from([0x8b, 0x43, 0x10]), // mov eax, info.si_pid
    Buffer.from([0x44, 0x39, 0xe0, 0x75, 10]), //                           cmp eax, r12d; jne mismatch
    Buffer.from([0x44, 0x89, 0xef, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05]), //    exit_group(r13d)
  ]);
  const mismatch = exitWith(100), failed = exitWith(201);
  const child = Buffer.from([0x31, 0xff, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe]); // exit_group(0)
  return Buffer.concat([
    prologue,
    Buffer.from([0x48, 0x85, 0xc0]), //                                     test rax, rax
    Buffer.from([0x74, 2 + parent.length + mismatch.length + failed.length]), // jz child
    Buffer.from([0x78, parent.length + mismatch.length]), //                js failed
    parent, mismatch, failed, child,
  ]);
}

/**
 * Code for selftest autoreap_reparent with this stub as the subreaper (never the runner): S sets
 * PR_SET_CHILD_SUBREAPER and fork()s M; M clone3()s an autoreap grandchild G (args: the caller's
 * clone_args, exit_signal 0) and exits; G sleeps 300 ms and exits, reparented to S by then. S
 * reaps M, sleeps 2 s, then wait4(-1, __WALL|WNOHANG): exit 0 when S has no child left (ECHILD:
 * G was autoreaped), 1 when it reaped a zombie (G was not), 4 when G still runs, 3 when M's
 * clone3 failed, 2 otherwise.
 */
export function reparentAutoreapCode(args: Buffer): Buffer {
  const status = Buffer.alloc(8), ts2 = Buffer.alloc(16), ts300 = Buffer.alloc(16);
  ts2.writeBigInt64LE(2n, 0);
  ts300.writeBigInt64LE(300_000_000n, 8);
  keep.push(status, ts2, ts300, args);
  const imm64 = (prefix: number[], v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    return Buffer.concat([Buffer.from(prefix), b]);
  };
  const exitWith = (n: number) => Buffer.concat([Buffer.from([0xbf]), i32(n), Buffer.from([0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe])]);
  const sleep = (b: Buffer) => Buffer.concat([imm64([0x48, 0xbf], addressOf(b)), Buffer.from([0x31, 0xf6, 0xb8, 35, 0, 0, 0, 0x0f, 0x05])]);
  // G: sleep 300 ms, exit_group(0)
  const g = Buffer.concat([sleep(ts300), exitWith(0)]);
  // M: clone3(args, 64); the child (rax 0) runs G; failure exit 1; else exit 0
  const mTail = Buffer.concat([exitWith(0), exitWith(1)]); // [ok][fail]
  const m = Buffer.concat([
    imm64([0x48, 0xbf], addressOf(args)), Buffer.from([0xbe]), i32(64), Buffer.from([0xb8]), i32(435), Buffer.from([0x0f, 0x05]),
    Buffer.from([0x48, 0x85, 0xc0]), //                          test rax, rax
    Buffer.from([0x74, 2 + mTail.length]), //                     jz G
    Buffer.from([0x78, exitWith(0).length]), //                   js fail
    mTail, g,
  ]);
  // S, after fork: reap M; M's status decides; sleep 2 s; wait4(-1, NULL, __WALL|WNOHANG, NULL)
  const verdict = Buffer.concat([
    Buffer.from([0x48, 0x83, 0xf8, 0xf6, 0x75, exitWith(0).length]), // cmp rax, -10 (ECHILD); jne +
    exitWith(0),
    Buffer.from([0x48, 0x85, 0xc0, 0x75, exitWith(4).length]), //       test rax, rax; jnz +
    exitWith(4), //                                                      0: children, none exited
    Buffer.from([0x48, 0x85, 0xc0, 0x78, exitWith(1).length]), //       test rax, rax; js +
    exitWith(1), //                                                      > 0: reaped a zombie
    exitWith(2),
  ]);
  const sAfterFork = Buffer.concat([
    Buffer.from([0x48, 0x89, 0xc7]), //                                  mov rdi, rax (M)
    imm64([0x48, 0xbe], addressOf(status)), Buffer.from([0x31, 0xd2, 0x4d, 0x31, 0xd2, 0xb8, 61, 0, 0, 0, 0x0f, 0x05]), // wait4(M, &status, 0, NULL)
    imm64([0x48, 0xbb], addressOf(status)), Buffer.from([0x8b, 0x03, 0x85, 0xc0, 0x74, exitWith(3).length]), // status == 0 ?
    exitWith(3),
    sleep(ts2),
    Buffer.from([0x48, 0xc7, 0xc7, 0xff, 0xff, 0xff, 0xff, 0x31, 0xf6, 0xba]), i32(0x40000001), // rdi -1; rsi 0; __WALL|WNOHANG
    Buffer.from([0x4d, 0x31, 0xd2, 0xb8, 61, 0, 0, 0, 0x0f, 0x05]), //  wait4
    verdict,
  ]);
  return Buffer.concat([
    Buffer.from([0xbf, 36, 0, 0, 0, 0xbe, 1, 0, 0, 0, 0xb8, 157, 0, 0, 0, 0x0f, 0x05]), // prctl(PR_SET_CHILD_SUBREAPER, 1)
    Buffer.from([0xb8, 57, 0, 0, 0, 0x0f, 0x05, 0x85, 0xc0]), //        fork; test eax, eax
    Buffer.concat([Buffer.from([0x0f, 0x84]), i32(sAfterFork.length)]), // jz M
    sAfterFork, m,
  ]);
}

/** One step of stepsThenExitCode: syscall nr with up to six args; 'prev' = the previous step's result. */
export interface Step { nr: number; args: (number | bigint | 'prev')[] }

/**
 * Code: run `steps` in order; when step i fails (negative return) exit_group(200 + i), else keep
 * its result for a later 'prev' argument; after the last step exit_group(0).
 */
export function stepsThenExitCode(steps: Step[]): Buffer {
  return Buffer.concat([stepsCode(steps), Buffer.from([0x31, 0xff, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe])]); // exit_group(0)
}

/** The steps of stepsThenExitCode without the final exit: code that falls through when all succeed. */
export function stepsCode(steps: Step[], failBase = 200): Buffer {
  const regs = [[0x48, 0xbf], [0x48, 0xbe], [0x48, 0xba], [0x49, 0xba], [0x49, 0xb8], [0x49, 0xb9]];
  const prevTo = [[0x4c, 0x89, 0xe7], [0x4c, 0x89, 0xe6], [0x4c, 0x89, 0xe2], [0x4d, 0x89, 0xe2], [0x4d, 0x89, 0xe0], [0x4d, 0x89, 0xe1]]; // mov reg, r12
  const parts: Buffer[] = [];
  steps.forEach((s, i) => {
    s.args.forEach((a, j) => {
      if (a === 'prev') parts.push(Buffer.from(prevTo[j]));
      else {
        const imm = Buffer.alloc(8);
        imm.writeBigInt64LE(BigInt.asIntN(64, BigInt(a)));
        parts.push(Buffer.from(regs[j]), imm);
      }
    });
    parts.push(
      Buffer.from([0xb8]), i32(s.nr), Buffer.from([0x0f, 0x05]), //  mov eax, nr; syscall
      Buffer.from([0x48, 0x85, 0xc0, 0x79, 12]), //                   test rax, rax; jns +12
      Buffer.from([0xbf]), i32(failBase + i), Buffer.from([0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05]), // exit_group(failBase+i)
      Buffer.from([0x49, 0x89, 0xc4]), //                             mov r12, rax
    );
  });
  return Buffer.concat(parts);
}

/**
 * Code: syscall(nr, args) (up to six 64-bit immediates), then report its outcome through the
 * eventfd `reportFd` as the u64 errno + 1 (1: success), then sleep `sleepS` seconds and
 * exit_group(0). The child outlives its call, so the parent can look at it (/proc/<pid>/ns/...).
 */
export function syscallReportThenSleepCode(nr: number, args: (number | bigint)[], reportFd: number, sleepS: number): Buffer {
  const regs = [[0x48, 0xbf], [0x48, 0xbe], [0x48, 0xba], [0x49, 0xba], [0x49, 0xb8], [0x49, 0xb9]];
  const imm = (v: number | bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt.asIntN(64, BigInt(v)));
    return b;
  };
  const slot = Buffer.alloc(8);
  const ts = Buffer.alloc(16);
  ts.writeBigInt64LE(BigInt(sleepS), 0);
  keep.push(slot, ts);
  return Buffer.concat([
    ...args.map((a, i) => Buffer.concat([Buffer.from(regs[i]), imm(a)])),
    Buffer.from([0xb8]), i32(nr), Buffer.from([0x0f, 0x05]), //         mov eax, nr; syscall
    Buffer.from([0x48, 0xf7, 0xd8, 0x48, 0xff, 0xc0]), //               neg rax; inc rax (errno + 1, or 1)
    Buffer.from([0x48, 0xbb]), imm(addressOf(slot)), //                 mov rbx, &slot
    Buffer.from([0x48, 0x89, 0x03]), //                                 mov [rbx], rax
    Buffer.from([0xbf]), i32(reportFd), //                              mov edi, reportFd
    Buffer.from([0x48, 0xbe]), imm(addressOf(slot)), //                 mov rsi, &slot
    Buffer.from([0xba, 8, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0x0f, 0x05]), //   mov edx, 8; write
    Buffer.from([0x48, 0xbf]), imm(addressOf(ts)), //                   mov rdi, &ts
    Buffer.from([0x31, 0xf6, 0xb8, 35, 0, 0, 0, 0x0f, 0x05]), //        xor esi, esi; nanosleep
    Buffer.from([0x31, 0xff, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe]), // exit_group(0)
  ]);
}

/** Code: syscall(nr, args); if it returned >= 0, exit_group(status); else fall through. */
export function syscallSucceedsThenExitCode(nr: number, args: number[], status: number): Buffer {
  const regs = [[0x48, 0xbf], [0x48, 0xbe], [0x48, 0xba]];
  const parts = args.map((a, i) => {
    const imm = Buffer.alloc(8);
    imm.writeBigInt64LE(BigInt(a));
    return Buffer.concat([Buffer.from(regs[i]), imm]);
  });
  const st = Buffer.alloc(4);
  st.writeUInt32LE(status);
  const nrb = Buffer.alloc(4);
  nrb.writeUInt32LE(nr);
  return Buffer.concat([
    ...parts,
    Buffer.from([0xb8]), nrb, Buffer.from([0x0f, 0x05]), //        mov eax, nr; syscall
    Buffer.from([0x48, 0x85, 0xc0, 0x78, 12]), //                  test rax, rax; js +12
    Buffer.from([0xbf]), st, Buffer.from([0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05]), // exit_group(status)
  ]);
}
