// "Blocked by seccomp" needs evidence: a real probe run under a filter that denies exactly one
// syscall (pidfd_getfd, EPERM) the way `systemd-run -p SystemCallFilter=~pidfd_getfd
// -p SystemCallErrorNumber=EPERM` does (systemd is not PID 1 here: scripts/seccomp-deny.py
// installs the same kind of filter). Only the filtered syscall's cases may be "blocked by
// seccomp", each with its control question's answer; every other case keeps its host verdict,
// so a refusal the filter did not give can never hide behind it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoPath } from '../../suites/lib/paths.js';
import type { CellResult } from '../results.js';

const FEATURES = 'pidfd_getfd,pidfd_open,pidfd_send_signal';

function probe(wrap: string[]): CellResult {
  const out = mkdtempSync(join(tmpdir(), 'pm-seccomp-'));
  const r = spawnSync(wrap[0] ?? process.execPath, [...wrap.slice(1), ...(wrap.length ? [process.execPath] : []), repoPath('bin/pidfd-matrix.js'), 'probe', '--test', FEATURES, '--out', out], { encoding: 'utf8', cwd: repoPath() });
  try {
    return JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CellResult;
  } catch {
    throw new Error(`probe wrote no results.json (exit ${r.status}): ${r.stderr.slice(-2000)}`);
  }
}

const python = spawnSync('python3', ['--version']).status === 0;
const root = process.getuid?.() === 0;

describe.skipIf(!python || process.arch !== 'x64')('a filter denying only pidfd_getfd with EPERM (systemd SystemCallFilter=~pidfd_getfd equivalent)', () => {
  const host = probe([]);
  const filtered = probe(['python3', repoPath('scripts/seccomp-deny.py'), 'pidfd_getfd', 'EPERM']);
  const hostOf = new Map(host.cases.map((c) => [c.id, c]));

  it('runs under a seccomp filter (mode 2)', () => {
    expect(host.facts?.seccomp).toBe(0);
    expect(filtered.facts?.seccomp).toBe(2);
  });

  it('pidfd_getfd cases are blocked by seccomp, each proven by its control question', () => {
    const getfd = filtered.cases.filter((c) => c.feature === 'pidfd_getfd' && !(c.status === 'skip' && c.reason.startsWith('needs ')));
    expect(getfd.length).toBeGreaterThan(5);
    for (const c of getfd) {
      expect({ id: c.id, status: c.status, reason: c.reason }).toEqual({
        id: c.id, status: 'skip',
        reason: expect.stringMatching(/^blocked by seccomp: .* got EPERM from a Seccomp filter \(mode 2\): pidfd_getfd with a bad argument got EPERM too, where the kernel answers EBADF or EINVAL/),
      });
      expect(c.observed.seccomp_controls).toContainEqual({ syscall: 'pidfd_getfd', errno: 'EPERM', control_errno: 'EPERM', in_kallsyms: null });
    }
    // Root runs the unprivileged case for real, and its EPERM is the filter's too: no pass on it.
    if (root) expect(filtered.cases.find((c) => c.id === 'pidfd_getfd/eperm')!.reason).toMatch(/^blocked by seccomp/);
  });

  it('every other case keeps its host verdict: the filter excuses nothing it did not answer', () => {
    const others = filtered.cases.filter((c) => c.feature !== 'pidfd_getfd' && c.id !== 'kernel_health');
    expect(others.length).toBeGreaterThan(10);
    expect(others.filter((c) => c.status !== hostOf.get(c.id)?.status || c.reason.startsWith('blocked by seccomp'))
      .map((c) => `${c.id}: ${c.status} (${c.reason}), host ${hostOf.get(c.id)?.status}`)).toEqual([]);
    // A kernel refusal under the filter (si_code >= 0 to another process: the kernel's EPERM) is asked its control
    // question and the kernel answers it: a pass, as on the host.
    const kernelEperm = filtered.cases.find((c) => c.id === 'pidfd_send_signal/eperm_siginfo_code');
    expect(kernelEperm?.status).toBe('pass');
    expect(kernelEperm?.observed.seccomp_controls).toEqual([{ syscall: 'pidfd_send_signal', errno: 'EPERM', control_errno: 'EBADF', in_kallsyms: null }]);
  });
});
