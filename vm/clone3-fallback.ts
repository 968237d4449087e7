// Guests whose kernel crashes every glibc >= 2.34 thread (5.3.0-5.3.10: clone3 took
// clone_args.stack as the stack pointer) still run the suite: the guest command first checks
// whether `node -e 0` dies with SIGSEGV, and only then runs the real command under
// vm/clone3-fallback.py, a seccomp filter that answers glibc's clone3 (size 88) with ENOSYS so
// glibc falls back to clone. The probes' own clone3 calls use other sizes and reach the kernel.
// The environment marks the filter as the harness's, so the judge never reads it as the user's
// seccomp policy (facts.harnessFilter).
import { join } from 'node:path';
import { REPO_ROOT } from '../harness/paths.js';
import { shellQuote } from './vng.js';

export const HARNESS_FILTER_ENV = 'PIDFD_MATRIX_HARNESS_FILTER';
/** What the filter does, recorded in facts.harnessFilter of every case judged under it. */
export const CLONE3_FALLBACK_FILTER = 'clone3-size88-enosys: glibc clone3 answered ENOSYS by vm/clone3-fallback.py (node -e 0 died with SIGSEGV)';
export const CLONE3_FALLBACK_SCRIPT = join(REPO_ROOT, 'vm/clone3-fallback.py');

/**
 * Wrap a guest shell command: run it as is, unless `node -e 0` is killed by SIGSEGV (exit 139
 * in sh), in which case say so on stderr and run it under the clone3 fallback filter.
 */
export function withClone3Fallback(command: string, node = process.execPath): string {
  const note = 'pidfd-matrix: node -e 0 died with SIGSEGV (a 5.3.0-5.3.10 kernel with glibc >= 2.34 clone3?): running the suite with glibc clone3 answered ENOSYS (vm/clone3-fallback.py)';
  return `if ${shellQuote(node)} -e 0 >/dev/null 2>&1 || [ $? -ne 139 ]; then ${command}; `
    + `else echo ${shellQuote(note)} >&2; ${HARNESS_FILTER_ENV}=${shellQuote(CLONE3_FALLBACK_FILTER)} python3 ${shellQuote(CLONE3_FALLBACK_SCRIPT)} sh -c ${shellQuote(command)}; fi`;
}
