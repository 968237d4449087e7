// Run one syscall as an unprivileged caller, even when the suite runs as root: a clone3 child
// (machine code, stub.ts) drops to uid/gid 65534 with no supplementary groups
// (setgroups, setresgid, setresuid: all capabilities go with the uid change), checks that it
// can no longer become root (setresuid(0) must fail), then makes the call and exits with its
// errno. Fds opened by the parent before the clone are the child's too (no CLONE_FILES: a copy).
import { NR, type SyscallName } from './constants.js';
import { askControl, cloneRunCode, errnoName, mmapExec, writeMem } from './libc.js';
import { adopt, reap } from './process.js';
import { clone3Code, stepsCode, STUB_NR, syscallSucceedsThenExitCode, syscallThenExitCode } from './stub.js';

export const NOBODY = 65534;
const STEP_FAILED = 200;      // + step index: a drop step failed
const STILL_PRIVILEGED = 210; // setresuid(0, 0, 0) succeeded after the drop

/** Observation keys of an unprivileged call: { errno | result, as_uid } or { setup_error }. */
export function asUnprivileged(name: SyscallName, args: (number | bigint)[]): Record<string, unknown> {
  const root = process.getuid?.() === 0;
  const drop = root
    ? [
      { nr: STUB_NR.setgroups, args: [0, 0] },
      { nr: STUB_NR.setresgid, args: [NOBODY, NOBODY, NOBODY] },
      { nr: STUB_NR.setresuid, args: [NOBODY, NOBODY, NOBODY] },
    ]
    : []; // already unprivileged: nothing to drop, the check below still runs
  const code = Buffer.concat([
    stepsCode(drop, STEP_FAILED),
    // setresuid(0, 0, 0) must now fail; if it succeeds, exit STILL_PRIVILEGED.
    syscallSucceedsThenExitCode(STUB_NR.setresuid, [0, 0, 0], STILL_PRIVILEGED),
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
