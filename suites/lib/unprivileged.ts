// Run one syscall as an unprivileged caller, even when the suite runs as root: a clone3 child
// (x86_64 machine code, x86stub.ts) drops to uid/gid 65534 with no supplementary groups
// (setgroups, setresgid, setresuid: all capabilities go with the uid change), checks that it
// can no longer become root (setresuid(0) must fail), then makes the call and exits with its
// errno. Fds opened by the parent before the clone are the child's too (no CLONE_FILES: a copy).
import { NR, type SyscallName } from './constants.js';
import { askControl, cloneRunCode, errnoName, mmapExec, writeMem } from './libc.js';
import { adopt, reap } from './process.js';
import { clone3Code, stepsCode, syscallThenExitCode } from './x86stub.js';

export const NOBODY = 65534;
const X86 = { setresuid: 117, setresgid: 119, setgroups: 116 } as const;
const STEP_FAILED = 200;      // + step index: a drop step failed
const STILL_PRIVILEGED = 210; // setresuid(0, 0, 0) succeeded after the drop

/** Observation keys of an unprivileged call: { errno | result, as_uid } or { setup_error }. */
export function asUnprivileged(name: SyscallName, args: (number | bigint)[]): Record<string, unknown> {
  const root = process.getuid?.() === 0;
  const drop = root
    ? [
      { nr: X86.setgroups, args: [0, 0] },
      { nr: X86.setresgid, args: [NOBODY, NOBODY, NOBODY] },
      { nr: X86.setresuid, args: [NOBODY, NOBODY, NOBODY] },
    ]
    : []; // already unprivileged: nothing to drop, the check below still runs
  const code = Buffer.concat([
    stepsCode(drop, STEP_FAILED),
    // setresuid(0, 0, 0) must now fail; if it succeeds, exit STILL_PRIVILEGED.
    syscallSucceedsThenExit(X86.setresuid, [0, 0, 0], STILL_PRIVILEGED),
    syscallThenExitCode(NR[name], args),
  ]);
  // clone3 where the kernel has it; glibc's clone(2) before 5.3 (the code ends in exit_group).
  let r = clone3Code(0n, code);
  if (!r.ok && r.errno === 'ENOSYS' && process.arch === 'x64') {
    const page = mmapExec(4096);
    writeMem(page, code);
    r = cloneRunCode(page);
    if (r.ok) adopt(r.value);
  }
  // A refused clone3 (a container's filter answers ENOSYS) is a prerequisite: the judge asks
  // the seccomp evidence; anything else is a setup error.
  if (!r.ok) return ['ENOSYS', 'EPERM', 'EACCES'].includes(r.errno) ? { prereq: 'clone3 (the unprivileged child)', errno: r.errno } : { setup_error: `clone3 for the unprivileged child failed: ${r.errno}` };
  const si = reap(r.value);
  if (!si) return { setup_error: 'the unprivileged child could not be reaped' };
  if (si.code !== 1 /* CLD_EXITED */) return { setup_error: `the unprivileged child died by signal ${si.status}` };
  const names = ['setgroups([])', `setresgid(${NOBODY})`, `setresuid(${NOBODY})`];
  if (si.status >= STEP_FAILED && si.status < STEP_FAILED + drop.length)
    return { setup_error: `could not drop privileges: ${names[si.status - STEP_FAILED]} failed in the child` };
  if (si.status === STILL_PRIVILEGED) return { setup_error: 'the child could still setresuid(0) after dropping privileges' };
  const as = { as_uid: root ? NOBODY : process.getuid?.() };
  if (si.status === 0) return { result: 0, ...as };
  askControl(name, errnoName(si.status)); // under a seccomp filter: was it the filter's answer?
  return { errno: errnoName(si.status), ...as };
}

/** Code: syscall(nr, args); if it returned >= 0, exit_group(status); else fall through. */
function syscallSucceedsThenExit(nr: number, args: number[], status: number): Buffer {
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
