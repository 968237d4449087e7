// Case markers in the kernel log. Before each case the suite writes
//   pidfd-matrix: case <feature/case> start
// to /dev/kmsg (and "... end taint=<n>" after it), so the host can tell which case was running
// when the kernel printed a WARN, Oops or taint (harness/judge/health.ts reads the guest console).
// Only when PIDFD_MATRIX_KMSG_MARKERS=1 (`probe --kmsg-markers`, which the matrix passes to
// guests): a host run must not write into the host's own kernel log.
import { readFileSync, writeFileSync } from 'node:fs';

export const KMSG_MARKERS_ENV = 'PIDFD_MATRIX_KMSG_MARKERS';

const enabled = () => process.env[KMSG_MARKERS_ENV] === '1';

/** /proc/sys/kernel/tainted, or null when unreadable. */
export function kernelTaint(): number | null {
  try {
    return Number(readFileSync('/proc/sys/kernel/tainted', 'utf8').trim());
  } catch {
    return null;
  }
}

function mark(text: string): void {
  if (!enabled()) return;
  // One open per line: /dev/kmsg rate-limits writes per open file (10 per 5 s by default).
  try {
    writeFileSync('/dev/kmsg', `pidfd-matrix: ${text}\n`);
  } catch {
    // Not root or no /dev/kmsg: the host then attributes nothing and says so.
  }
}

const taintField = () => {
  const t = kernelTaint();
  return t === null ? '' : ` taint=${t}`;
};

export const markCaseStart = (id: string): void => mark(`case ${id} start`);
export const markCaseEnd = (id: string): void => mark(`case ${id} end${taintField()}`);
export const markSuite = (what: 'start' | 'end'): void => mark(`suite ${what}${taintField()}`);
