// clone3 on arm64 without libc's syscall(): on x86_64 the child resumes at syscall()'s `ret`,
// which pops the word at the top of the stack handed to clone3 (process.ts); arm64's `ret`
// jumps to x30 instead, so that trick does not carry over. Here a small routine in executable
// memory issues clone3 itself: the parent returns the raw result (pid or -errno); the child
// (x0 == 0) loads the word at the top of its new stack and branches there, the same contract
// as x86_64's, so dualStack()/exitStub() and the stubs' code pages work unchanged.
import { Asm, alignSp16, addImm, b, br, cbz, ldrX, ret, SP, svc } from './a64.js';
import { askControl, callCode2, errnoName, mmapExec, writeMem, type Res } from './libc.js';

/** arm64 syscall numbers the trampoline and exit stubs use (asm-generic unistd.h). */
const NR_CLONE3 = 435, NR_EXIT = 93, NR_EXIT_GROUP = 94;

let page: bigint | null = null;
let exitPage: bigint | null = null;

/** long trampoline(struct clone_args *args, size_t size) */
export function trampolineCode(): Buffer {
  return new Asm()
    .mov(8, NR_CLONE3).emit(svc()) //                 x0 = args, x1 = size (as called)
    .branch('child', (w) => cbz(0, w)) //             the child sees 0
    .emit(ret()) //                                   parent: the pid or -errno
    .label('child')
    .emit(addImm(9, SP, 0)) //                        mov x9, sp (the stack clone3 gave)
    .emit(ldrX(16, 9, 0)) //                          ldr x16, [x9]: the word at its top
    .emit(alignSp16(9)) //                            and sp, x9, #~15 (the stubs use sp)
    .emit(br(16)) //                                  br x16: never returns
    .bytes();
}

/** Code: exit_group(status), or exit(status) of this thread only; then b . */
export function exitCode(status: number, thread: boolean): Buffer {
  return new Asm().mov(0, status).mov(8, thread ? NR_EXIT : NR_EXIT_GROUP).emit(svc()).label('self').branch('self', b).bytes();
}

function trampoline(): bigint {
  if (page === null) {
    page = mmapExec(4096);
    writeMem(page, trampolineCode());
  }
  return page;
}

/** Address of an exit stub (one slot per status and kind, as process.ts's x86_64 stubs). */
export function arm64ExitStub(status: number, thread: boolean): bigint {
  const slot = BigInt((status & 0x7f) * 32 + (thread ? 16 : 0));
  const code = exitCode(status, thread);
  if (code.length > 16) throw new Error('arm64 exit stub longer than its 16-byte slot');
  exitPage ??= mmapExec(4096);
  writeMem(exitPage + slot, code);
  return exitPage + slot;
}

/** clone3(args, size) through the trampoline: the same Res as sys('clone3', ...). */
export function arm64Clone3(args: Buffer, size: number): Res {
  const r = callCode2(trampoline(), args, size);
  if (r >= 0) return { ok: true, value: r };
  const errno = errnoName(-r);
  askControl('clone3', errno); // as sys() does: under a seccomp filter, whose refusal is it?
  return { ok: false, errno };
}
