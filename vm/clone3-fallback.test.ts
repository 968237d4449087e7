// The clone3 fallback for 5.3.0-5.3.10 guests, run for real on this machine: the wrapper only
// applies the filter when `node -e 0` dies with SIGSEGV, and the filter answers glibc's clone3
// (size 88) with ENOSYS while the probes' sizes (64, 96) still reach the kernel.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLONE3_FALLBACK_FILTER, CLONE3_FALLBACK_SCRIPT, withClone3Fallback } from './clone3-fallback.js';

const dir = mkdtempSync(join(tmpdir(), 'clone3-fallback-'));
const fakeNode = (name: string, body: string) => {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
};
// What the wrapped command reports: its Seccomp mode, the marker, and clone3(NULL, size) errnos.
const report = join(dir, 'report.py');
writeFileSync(report, `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
errs = []
for size in (88, 64, 96):
    libc.syscall(435, None, size)
    errs.append(str(ctypes.get_errno()))
mode = [l for l in open('/proc/self/status') if l.startswith('Seccomp:')][0].split()[1]
print(mode, os.environ.get('PIDFD_MATRIX_HARNESS_FILTER', '-'), ' '.join(errs))
`);
const run = (node: string) => execFileSync('sh', ['-c', withClone3Fallback(`python3 ${report}`, node)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

describe('clone3 fallback (vm/clone3-fallback.py)', () => {
  it('a node that runs: the command runs as is, no filter, clone3 reaches the kernel (EFAULT for a NULL args)', () => {
    expect(run(fakeNode('node-ok', 'exit 0'))).toBe('0 - 14 14 14');
  });

  it('a node that dies with SIGSEGV: the filter answers size 88 with ENOSYS, sizes 64 and 96 reach the kernel', () => {
    expect(run(fakeNode('node-segv', 'kill -SEGV $$'))).toBe(`2 ${CLONE3_FALLBACK_FILTER} 38 14 14`);
  });

  it('any other node failure is not the clone3 crash: no filter', () => {
    expect(run(fakeNode('node-fails', 'exit 1'))).toBe('0 - 14 14 14');
  });

  it('node itself runs threads under the filter (glibc falls back to clone)', () => {
    const out = execFileSync('python3', [CLONE3_FALLBACK_SCRIPT, process.execPath, '-e',
      "const { Worker } = require('worker_threads'); new Worker('0', { eval: true }).on('exit', (c) => console.log('worker exit', c))"], { encoding: 'utf8' });
    expect(out.trim()).toBe('worker exit 0');
  });
});
