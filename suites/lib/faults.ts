// Test-only fault injection, so the harness's own tests can show on real guests what a hung
// syscall, a crashed runner or a kernel panic costs (only that case). Read from the kernel
// command line (a matrix entry's `append:`), and for hang/crash also from the environment
// (host-side tests). A panic is only ever taken from the kernel command line: nobody boots a
// real host with pidfd_matrix.panic=..., so a host run can never crash its own kernel.
//   pidfd_matrix.hang=<case id>   the probe blocks in waitid(2) on a child that never exits
//   pidfd_matrix.crash=<case id>  the runner kills itself with SIGSEGV in that case
//   pidfd_matrix.panic=<case id>  the guest writes 'c' to /proc/sysrq-trigger in that case
import { readFileSync, writeFileSync } from 'node:fs';
import { P, SIG, W } from './constants.js';
import { kill } from './libc.js';
import { spawnChild, waitid } from './process.js';

export interface Faults { hang?: string; crash?: string; panic?: string }

export function parseFaults(cmdline: string, env: NodeJS.ProcessEnv = {}): Faults {
  const arg = (k: string) => new RegExp(`(?:^|\\s)pidfd_matrix\\.${k}=(\\S+)`).exec(cmdline)?.[1];
  const f: Faults = {};
  const hang = arg('hang') ?? env.PIDFD_MATRIX_HANG;
  const crash = arg('crash') ?? env.PIDFD_MATRIX_CRASH;
  const panic = arg('panic');
  if (hang) f.hang = hang;
  if (crash) f.crash = crash;
  if (panic) f.panic = panic;
  return f;
}

export function currentFaults(): Faults {
  let cmdline = '';
  try {
    cmdline = readFileSync('/proc/cmdline', 'utf8');
  } catch { /* not Linux, or /proc missing: no faults from there */ }
  return parseFaults(cmdline, process.env);
}

/** Do the injected fault for this case, if one is asked for; returns only when none is. */
export function injectFault(f: Faults, id: string): void {
  if (f.panic === id) writeFileSync('/proc/sysrq-trigger', 'c');
  if (f.crash === id) kill(process.pid, SIG.SEGV);
  if (f.hang === id) {
    // A real syscall that never returns: waitid on a child that sleeps for an hour.
    const pid = spawnChild(['sleep', '3600']);
    waitid(P.PID, pid, W.EXITED);
  }
}
