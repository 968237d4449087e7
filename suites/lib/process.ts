// Probe children and their lifecycle: spawned with posix_spawnp (libuv must not reap them),
// waited for through waitid(2), and always killed and reaped by the suite afterwards.
import { ARCH, CLONE, P, SIG, W } from './constants.js';
import { addressOf, kill, mmapExec, spawnp, sys, writeMem, type Res } from './libc.js';
import { need, track } from './pidfd.js';
import { arm64Clone3, arm64ExitStub } from './arm64-clone3.js';

export interface SigInfo { signo: number; code: number; pid: number; uid: number; status: number }

export function decodeSiginfo(b: Buffer): SigInfo {
  return { signo: b.readInt32LE(0), code: b.readInt32LE(8), pid: b.readInt32LE(16), uid: b.readInt32LE(20), status: b.readInt32LE(24) };
}

/** Raw waitid(2); value = decoded siginfo (pid 0 when WNOHANG found nothing). */
export function waitid(idtype: number, id: number, options: number): Res<SigInfo> {
  const si = Buffer.alloc(128);
  const r = sys('waitid', ['int', idtype], ['int', id], ['void *', si], ['int', options], ['void *', null]);
  return r.ok ? { ok: true, value: decodeSiginfo(si) } : r;
}

const live = new Set<number>();

/** Start a child the suite owns. It is SIGKILLed and reaped by `reapAll()` if still around. */
export function spawnChild(argv: string[], env?: string[]): number {
  const r = env ? spawnp(argv, env) : spawnp(argv);
  if (!r.ok) throw new Error(`posix_spawnp(${argv.join(' ')}) failed: ${r.errno}`);
  live.add(r.value);
  return r.value;
}

/** Note a child created another way (clone, clone3) so cleanup reaps it. */
export function adopt(pid: number): void {
  if (pid > 0) live.add(pid);
}

/** Reap one child (blocking); returns its siginfo. */
export function reap(pid: number): SigInfo | null {
  const r = waitid(P.PID, pid, W.EXITED);
  live.delete(pid);
  return r.ok ? r.value : null;
}

export function forget(pid: number): void {
  live.delete(pid);
}

export function reapAll(): void {
  for (const pid of [...live]) {
    kill(pid, SIG.KILL);
    reap(pid);
  }
}

/** Block until the child is a zombie (exited, not reaped) without reaping it. */
export function waitExitedNoReap(pid: number): SigInfo | null {
  const r = waitid(P.PID, pid, W.EXITED | W.NOWAIT);
  return r.ok ? r.value : null;
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// ---- clone3 children -------------------------------------------------------------------
// A clone3 child resumes at the syscall's return inside libc's syscall() with the stack we
// give it, so its first `ret` pops the word at the stack top. We place the address of a
// tiny exit stub there: the child runs exit_group(status) (or exit(status) for a thread)
// and never returns into Node (the stub is machine code of this architecture).
//
// Sizes: glibc >= 2.34 calls clone3 with size 88 (its struct clone_args). On 5.3.0-5.3.10 the
// harness may run under vm/clone3-fallback.py, which answers exactly that size with ENOSYS, so
// the probes pass 64 (CLONE_ARGS_SIZE_VER0) or, for set_tid/cgroup, 96 with a zeroed tail
// (every clone3 kernel accepts a larger struct whose extra bytes are zero).
//
// Stack: 5.3.0-5.3.10 took clone_args.stack as the stack pointer, later kernels take it as the
// lowest address and start at stack + stack_size. We pass stack = base + S, stack_size = S and put
// a return address at both base + S and base + 2S, so a child starts right on either kernel
// (`stackWords` lets a probe put different stubs there to see which one ran).
//
// arm64: `ret` jumps to x30, not to a word on the stack, so clone3 goes through a trampoline
// (arm64-clone3.ts) whose child branches to the word at its stack top: the same contract, so
// the stacks and stubs below serve both architectures.
const keepAlive: Buffer[] = [];
let stubPage: bigint | null = null;

/** The clone_args size the probes use: VER0, or 96 (zeroed tail) when a VER1/VER2 field is set. */
export function clone3Size(needsLaterFields: boolean): number {
  return needsLaterFields ? 96 : 64;
}

export interface DualStack { args: { stack: bigint; size: bigint }; keep: Buffer }

/** A stack usable under both clone3 stack semantics; `top` runs after base+2S, `pointer` after base+S. */
export function dualStack(top: bigint, pointer: bigint = top, size = 64 * 1024): DualStack {
  const buf = Buffer.alloc(2 * size + 64);
  buf.writeBigUInt64LE(pointer, size);
  buf.writeBigUInt64LE(top, 2 * size);
  return { args: { stack: addressOf(buf) + BigInt(size), size: BigInt(size) }, keep: buf };
}

/** clone3(args, size) whose child runs the code at the word on top of its stack; value = pid. */
export function clone3Raw(args: Buffer, size: number): Res {
  if (ARCH === 'aarch64') return arm64Clone3(args, size);
  return sys('clone3', ['void *', args], ['size_t', size]);
}

export function exitStub(status: number, thread: boolean): bigint {
  if (ARCH === 'aarch64') return arm64ExitStub(status, thread);
  stubPage ??= mmapExec(4096);
  // mov edi, status ; mov eax, nr ; syscall ; jmp $
  const code = Buffer.from([0xbf, 0, 0, 0, 0, 0xb8, 0, 0, 0, 0, 0x0f, 0x05, 0xeb, 0xfe]);
  code.writeInt32LE(status, 1);
  code.writeInt32LE(thread ? 60 : 231, 6);
  const slot = BigInt((status & 0x7f) * 32 + (thread ? 16 : 0));
  writeMem(stubPage + slot, code);
  return stubPage + slot;
}

export interface Clone3Args {
  flags: bigint; exitSignal?: number; setTid?: number[]; cgroup?: number; size?: number;
  /** Exit status of the child (it runs nothing else). */
  status?: number;
  /** Exit status when the kernel started the child at clone_args.stack itself (5.3.0-5.3.10). */
  statusIfStackPointer?: number;
}

export interface Clone3Result { pid: number; pidfd: number | null }

/** clone3(2) with a child that only exits. value.pid = child pid (or thread id). */
export function clone3(a: Clone3Args): Res<Clone3Result> {
  const size = a.size ?? clone3Size(a.setTid !== undefined || a.cgroup !== undefined);
  const args = Buffer.alloc(Math.max(size, 96));
  const pidfdOut = Buffer.alloc(8);
  pidfdOut.writeInt32LE(-1, 0);
  const thread = (a.flags & BigInt(CLONE.THREAD)) !== 0n;
  const setTid = a.setTid ? Buffer.alloc(8 * a.setTid.length) : null;
  a.setTid?.forEach((t, i) => setTid!.writeInt32LE(t, i * 8));
  args.writeBigUInt64LE(a.flags, 0);
  args.writeBigUInt64LE(addressOf(pidfdOut), 8);
  args.writeBigUInt64LE(BigInt(a.exitSignal ?? (thread ? 0 : SIG.CHLD)), 32);
  const stack = dualStack(exitStub(a.status ?? 0, thread), exitStub(a.statusIfStackPointer ?? a.status ?? 0, thread));
  args.writeBigUInt64LE(stack.args.stack, 40);
  args.writeBigUInt64LE(stack.args.size, 48);
  if (setTid) {
    args.writeBigUInt64LE(addressOf(setTid), 64);
    args.writeBigUInt64LE(BigInt(a.setTid!.length), 72);
  }
  if (a.cgroup !== undefined) args.writeBigUInt64LE(BigInt(a.cgroup), 80);
  const r = clone3Raw(args, size);
  keepAlive.push(stack.keep, args, pidfdOut); // a thread child runs on the stack after we return
  if (!r.ok) return r;
  if (!thread) adopt(r.value);
  const wantPidfd = (a.flags & BigInt(CLONE.PIDFD)) !== 0n;
  return { ok: true, value: { pid: r.value, pidfd: wantPidfd ? pidfdOut.readInt32LE(0) : null } };
}

export interface PidReuse { first: Clone3Result; second: Res<Clone3Result> }

/**
 * Two clone3(CLONE_PIDFD) children at one pid number: the first takes the next free pid, exits
 * and is reaped, then the second asks for that pid through set_tid (5.5; CAP_SYS_ADMIN in the
 * pid namespace). Both pidfds stay open (tracked), so the first struct pid is still alive when
 * the second is made. The second is the raw answer; on EEXIST (another process took the freed
 * pid in between) the pair is made again, a few times.
 */
export function childrenAtOnePid(): PidReuse {
  for (let attempt = 1; ; attempt++) {
    const first = need('clone3(CLONE_PIDFD)', clone3({ flags: BigInt(CLONE.PIDFD) }));
    if (first.pidfd === null || first.pidfd < 0) throw new Error(`clone3(CLONE_PIDFD) returned child ${first.pid} but no pidfd`);
    track({ ok: true, value: first.pidfd });
    reap(first.pid);
    const second = clone3({ flags: BigInt(CLONE.PIDFD), setTid: [first.pid] });
    if (second.ok) {
      if (second.value.pidfd !== null) track({ ok: true, value: second.value.pidfd });
      reap(second.value.pid);
    }
    if (!second.ok && second.errno === 'EEXIST' && attempt < 5) continue;
    return { first, second };
  }
}
