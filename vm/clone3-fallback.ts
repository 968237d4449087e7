// Guests whose kernel crashes every glibc >= 2.34 thread (5.3.0-5.3.10: clone3 took
// clone_args.stack as the stack pointer) still run the suite: when the guest command dies with
// SIGSEGV before it streamed anything (node crashed starting its threads), it runs once more
// under vm/clone3-fallback.py, a seccomp filter that answers glibc's clone3 (size 88) with
// ENOSYS so glibc falls back to clone. No `node -e 0` check first: under TCG that was one more
// node start (seconds) in every cell for the sake of ten 5.3 kernels. The probes' own clone3 calls use other sizes and reach the kernel.
// The environment marks the filter as the harness's, so the judge never reads it as the user's
// seccomp policy (facts.harnessFilter).
import { join } from 'node:path';
import { REPO_ROOT } from '../suites/lib/paths.js';
import { shellQuote } from './vng.js';

export const HARNESS_FILTER_ENV = 'PIDFD_MATRIX_HARNESS_FILTER';
/** What the filter does, recorded in facts.harnessFilter of every case judged under it. */
export const CLONE3_FALLBACK_FILTER = 'clone3-size88-enosys: glibc clone3 answered ENOSYS by vm/clone3-fallback.py (node died with SIGSEGV before its first case)';
export const CLONE3_FALLBACK_SCRIPT = join(REPO_ROOT, 'vm/clone3-fallback.py');

/**
 * Wrap a guest shell command: run it as is; only if it exits 139 (SIGSEGV in sh) while `stream`
 * is still empty, say so on stderr and run it again under the clone3 fallback filter.
 */
export function withClone3Fallback(command: string, stream: string): string {
  const note = 'pidfd-matrix: node died with SIGSEGV before its first case (a 5.3.0-5.3.10 kernel with glibc >= 2.34 clone3?): running the suite again with glibc clone3 answered ENOSYS (vm/clone3-fallback.py)';
  // One brace group, so a prefix such as `setup && ` applies to the whole of it.
  return `{ ${command} || { rc=$?; if [ $rc -eq 139 ] && [ ! -s ${shellQuote(stream)} ]; then `
    + `echo ${shellQuote(note)} >&2; ${HARNESS_FILTER_ENV}=${shellQuote(CLONE3_FALLBACK_FILTER)} python3 ${shellQuote(CLONE3_FALLBACK_SCRIPT)} sh -c ${shellQuote(command)}; `
    + 'else (exit $rc); fi; }; }';
}
