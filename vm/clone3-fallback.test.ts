// The clone3 fallback for 5.3.0-5.3.10 guests, run for real on this machine: the wrapper only
// runs the command again under the filter when it died with SIGSEGV before streaming anything,
// and the filter answers glibc's clone3 (size 88) with ENOSYS while the probes' sizes (64, 96)
// still reach the kernel.
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
// The guest command: it "crashes like node on 5.3.1" (SIGSEGV) unless it runs under the filter.
const crashes = fakeNode('crashes-unfiltered', `[ -n "$PIDFD_MATRIX_HARNESS_FILTER" ] || kill -SEGV $$\nexec python3 ${report}`);
const stream = join(dir, 'observations.jsonl');
const run = (command: string, streamed = '') => {
  writeFileSync(stream, streamed);
  return execFileSync('sh', ['-c', withClone3Fallback(command, stream)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
};
const status = (command: string, streamed = '') => {
  try {
    run(command, streamed);
    return 0;
  } catch (e) {
    return (e as { status: number }).status;
  }
};

describe('clone3 fallback (vm/clone3-fallback.py)', () => {
  it('a command that runs: it runs once, as is, no filter, clone3 reaches the kernel (EFAULT for a NULL args)', () => {
    expect(run(`python3 ${report}`)).toBe('0 - 14 14 14');
  });

  it('a command that dies with SIGSEGV before streaming anything: run again with size 88 answered ENOSYS, sizes 64 and 96 reach the kernel', () => {
    expect(run(crashes)).toBe(`2 ${CLONE3_FALLBACK_FILTER} 38 14 14`);
  });

  it('a SIGSEGV after the stream has lines is not the clone3 crash: no second run, its status kept', () => {
    expect(status(crashes, '{"t":"facts"}\n')).toBe(139);
  });

  it('any other failure is not the clone3 crash: no filter, its status kept', () => {
    expect(status(fakeNode('fails', 'exit 3'))).toBe(3);
  });

  it('node itself runs threads under the filter (glibc falls back to clone)', () => {
    const out = execFileSync('python3', [CLONE3_FALLBACK_SCRIPT, process.execPath, '-e',
      "const { Worker } = require('worker_threads'); new Worker('0', { eval: true }).on('exit', (c) => console.log('worker exit', c))"], { encoding: 'utf8' });
    expect(out.trim()).toBe('worker exit 0');
  });
});
